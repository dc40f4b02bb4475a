package dev.vertebra.nn;

import dev.vertebra.core.Device;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.core.io.Safetensors;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.SequencedMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads the golden files written by src/test/python/make_nn_golden.py. */
public final class Golden {

    private Golden() {
    }

    /** All tensors of {@code golden/<name>} on the CPU, in file order. */
    public static SequencedMap<String, Tensor> read(String name) {
        try (InputStream in = Golden.class.getResourceAsStream("/golden/" + name)) {
            assertNotNull(in, "missing golden file " + name + "; run make_nn_golden.py");
            SequencedMap<String, Tensor> out = new LinkedHashMap<>();
            for (var e : Safetensors.read(in).tensors().entrySet()) {
                out.put(e.getKey(), Tensor.fromHost(e.getValue(), Device.CPU));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The raw bytes of a golden file. */
    public static byte[] bytes(String name) {
        try (InputStream in = Golden.class.getResourceAsStream("/golden/" + name)) {
            assertNotNull(in, "missing golden file " + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Asserts |actual − expected| ≤ rtol·|expected| + atol element by element. */
    public static void assertClose(Tensor expected, Tensor actual, double rtol, double atol, String what) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            double bound = rtol * Math.abs(e[i]) + atol;
            double diff = Math.abs(a[i] - e[i]);
            int index = i;
            assertTrue(diff <= bound, () -> what + "[" + index + "]: expected " + e[index] + ", got " + a[index]
                    + " (diff " + diff + " > " + bound + ")");
        }
    }

    /** A host array as a CPU tensor. */
    public static Tensor tensor(HostArray host) {
        return Tensor.fromHost(host, Device.CPU);
    }
}
