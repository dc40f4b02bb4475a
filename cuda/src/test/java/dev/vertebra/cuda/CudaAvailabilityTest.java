package dev.vertebra.cuda;

import dev.vertebra.core.BackendProvider;
import dev.vertebra.core.Backends;
import dev.vertebra.core.Device;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs everywhere: with or without a GPU, the provider answers and explains itself, and nothing else breaks. */
class CudaAvailabilityTest {

    @Test
    void providerIsFoundByTheServiceLoader() {
        boolean found = false;
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            found |= p instanceof CudaBackendProvider && p.kind().equals("cuda");
        }
        assertTrue(found, "META-INF/services must name CudaBackendProvider");
    }

    @Test
    void availabilityAlwaysCarriesAReason() {
        BackendProvider.Availability a = new CudaBackendProvider().availability();
        assertNotNull(a.reason());
        assertFalse(a.reason().isBlank(), "availability must say why (or what was found)");
        System.out.println("cuda availability: " + a);
    }

    @Test
    void describeListsCuda() {
        List<Backends.Info> infos = Backends.describe();
        Backends.Info cuda = infos.stream().filter(i -> i.kind().equals("cuda")).findFirst().orElseThrow();
        assertFalse(cuda.detail().isBlank());
        assertTrue(infos.stream().anyMatch(i -> i.kind().equals("cpu") && i.available()), "the CPU stays available");
        infos.forEach(i -> System.out.println("backend " + i));
    }

    @Test
    void unavailableCudaFailsOnlyWhenUsedAndSaysWhy() {
        CudaBackendProvider provider = new CudaBackendProvider();
        BackendProvider.Availability a = provider.availability();
        if (a.available()) {
            assertFalse(provider.devices().isEmpty(), "an available provider lists its devices");
            assertEquals(new Device("cuda", 0), provider.devices().getFirst());
            return;
        }
        assertTrue(provider.devices().isEmpty());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.get(new Device("cuda", 0)));
        assertTrue(e.getMessage().contains(a.reason()), e.getMessage());
    }
}
