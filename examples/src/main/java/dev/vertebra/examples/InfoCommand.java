package dev.vertebra.examples;

import dev.vertebra.core.Backends;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/**
 * {@code vertebra info}: what this machine offers Vertebra — the JDK, the CPU's vector width, the heap and
 * the backends that can run. The first thing to look at when a run is slower than expected or a device is
 * missing.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print the JDK, CPU vector width, heap and available backends.")
final class InfoCommand implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(InfoCommand.class);

    @Spec
    private CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        Runtime rt = Runtime.getRuntime();
        VectorSpecies<Float> species = FloatVector.SPECIES_PREFERRED;

        out.printf(Locale.ROOT, "java:     %s (%s, %s)%n", Runtime.version(),
                System.getProperty("java.vendor"), System.getProperty("java.vm.name"));
        out.printf(Locale.ROOT, "os:       %s %s (%s)%n", System.getProperty("os.name"),
                System.getProperty("os.version"), System.getProperty("os.arch"));
        out.printf(Locale.ROOT, "cores:    %d%n", rt.availableProcessors());
        out.printf(Locale.ROOT, "vector:   %d-bit, %d float lanes%n", species.vectorBitSize(), species.length());
        out.printf(Locale.ROOT, "max heap: %s%n", mebibytes(rt.maxMemory()));

        long start = System.nanoTime();
        List<Backends.Info> backends = Backends.describe();
        LOG.debug("probed {} backends in {} ms", backends.size(), (System.nanoTime() - start) / 1_000_000);
        out.println("backends:");
        for (Backends.Info b : backends) {
            out.printf(Locale.ROOT, "  %-14s %-11s %s%n", b.kind(), b.available() ? "available" : "unavailable",
                    b.detail());
        }
        out.flush();
    }

    private static String mebibytes(long bytes) {
        // maxMemory() is Long.MAX_VALUE when the heap is unbounded.
        return bytes == Long.MAX_VALUE ? "unlimited" : (bytes >> 20) + " MiB";
    }
}
