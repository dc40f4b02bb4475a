package dev.vertebra.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The CUDA C++ sources of Vertebra's kernels, kept as resources next to this class (kernels/*.cu and the shared
 * header). The run-time compiler and the build-time {@code nvcc} check read the same text through here.
 */
public final class KernelSources {
    /** The header every source includes. */
    public static final String HEADER = "vertebra_common.cuh";
    /** The kernel files, without the {@code .cu} extension. */
    public static final List<String> FILES = List.of("copy", "elementwise", "reduce", "conv", "pool", "norm", "index");
    /** Options given to NVRTC (the nvcc check passes the same). */
    public static final List<String> OPTIONS = List.of("--std=c++17");

    private KernelSources() {
    }

    /** The text of resource {@code name} (e.g. "copy.cu" or the header). */
    public static String read(String name) {
        try (InputStream in = KernelSources.class.getResourceAsStream("kernels/" + name)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + name + " is missing from the vertebra-cuda jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel source " + name, e);
        }
    }
}
