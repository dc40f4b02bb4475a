package dev.vertebra.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs kernel sources on the CPU, so their index arithmetic and loop logic are checked on machines without a GPU:
 * a harness in {@code emulation/} includes a kernel file as plain C++ over {@code emulated_cuda.h} (every block of
 * a grid in turn, one OS thread per CUDA thread, {@code __syncthreads} as a barrier), launches the kernels with the
 * grids {@link ConvolutionOps} and {@link ChannelOps} use (with fewer blocks, so that grid-stride loops repeat) and
 * compares with plain double-precision loops. Needs {@code g++} with C++20; not a substitute for the GPU tests.
 */
class KernelEmulationTest {

    private static void copyResource(String name, Path to) throws IOException {
        try (InputStream in = KernelEmulationTest.class.getResourceAsStream("emulation/" + name)) {
            assertNotNull(in, "missing test resource emulation/" + name);
            Files.write(to, in.readAllBytes());
        }
    }

    @ParameterizedTest(name = "{0} over {1}.cu")
    @CsvSource({"depthwise_kernels, conv", "batch_norm_kernels, norm", "column_kernels, norm", "gated_kernels, conv"})
    void kernelsMatchPlainLoops(String harness, String kernelFile, @TempDir Path dir)
            throws IOException, InterruptedException {
        Path gxx = Executables.onPath("g++");
        Assumptions.assumeTrue(gxx != null, "g++ is not on PATH: the kernels were not run on the CPU");
        // The kernel file next to the host stand-in of its header, which its #include "..." then finds first.
        Files.writeString(dir.resolve(kernelFile + ".cu"), KernelSources.read(kernelFile + ".cu"));
        for (String name : List.of("emulated_cuda.h", KernelSources.HEADER, harness + ".cpp")) {
            copyResource(name, dir.resolve(name));
        }
        Path binary = dir.resolve(harness);
        String compiled = run(dir, List.of(gxx.toString(), "-std=c++20", "-O1", "-ffp-contract=off", "-pthread",
                "-o", binary.toString(), dir.resolve(harness + ".cpp").toString()), "g++ on " + harness);
        String output = run(dir, List.of(binary.toString()), harness);
        System.out.println(compiled + output);
        assertTrue(output.contains(": ok"), "the harness compared nothing:\n" + output);
    }

    /**
     * Runs a command in {@code dir}; fails with its output unless it exits 0 within two minutes (a kernel whose
     * threads miss a barrier would otherwise hang the build).
     */
    private static String run(Path dir, List<String> command, String what) throws IOException, InterruptedException {
        Path log = Files.createTempFile(dir, "run", ".log");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        boolean finished = p.waitFor(2, TimeUnit.MINUTES);
        if (!finished) {
            p.destroyForcibly().waitFor();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(finished, what + " did not finish within two minutes:\n" + output);
        assertEquals(0, p.exitValue(), what + " failed:\n" + output);
        return output;
    }
}
