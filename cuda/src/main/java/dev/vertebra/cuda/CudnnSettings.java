package dev.vertebra.cuda;

import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.DType;
import dev.vertebra.core.Shape;

import java.util.Locale;

/**
 * How the CUDA backend uses cuDNN, from system properties (read when a backend opens):
 * <ul>
 *   <li>{@code vertebra.cudnn} (or the environment variable {@code VERTEBRA_CUDNN}): {@code false}/{@code 0}/
 *       {@code off} keeps every convolution and batch norm on the backend's own kernels (for A/B timing and
 *       debugging); default on when cuDNN is found;</li>
 *   <li>{@code vertebra.cudnn.search}: {@code find} (default) times the candidate algorithms once per shape with
 *       {@code cudnnFind*AlgorithmEx}; {@code heuristic} takes cuDNN's ranking ({@code cudnnGet*Algorithm_v7})
 *       without running anything;</li>
 *   <li>{@code vertebra.cudnn.algorithms}: {@code precise} (default) admits only algorithms that accumulate
 *       products directly (GEMM-like, direct); {@code all} also admits FFT and Winograd transforms, faster for
 *       some 3×3 and 5×5 shapes but with visibly larger fp32 rounding;</li>
 *   <li>{@code vertebra.cudnn.workspaceMiB}: the most workspace one convolution may use (default 1024);</li>
 *   <li>{@code vertebra.cudnn.depthwise}: {@code false} keeps depthwise convolutions (groups = Cin, one input
 *       channel per group) on the own direct kernels while the rest goes to cuDNN;</li>
 *   <li>{@code vertebra.cudnn.depthwiseFloat32}: {@code true} lets cuDNN take float32 depthwise convolutions too;
 *       by default they run on the own kernels, which made EfficientNet-B0's fp32 training step 1.16× as fast on
 *       an H200 (16-bit depthwise stays on cuDNN: its own kernels would go through float32 copies);</li>
 *   <li>{@code vertebra.cudnn.batchnorm}: {@code true} runs batch norm through cuDNN (default {@code false}: the
 *       own kernels, which accumulate statistics in double).</li>
 * </ul>
 * TF32 for float32 convolutions follows {@link dev.vertebra.core.Backends#allowTf32} (whose default is the
 * {@code vertebra.cuda.tf32} property), read at each call.
 */
record CudnnSettings(boolean exhaustiveSearch, boolean allAlgorithms, long workspaceLimit, boolean depthwise,
                     boolean depthwiseFloat32, boolean batchNorm) {
    static final String SWITCH = "-Dvertebra.cudnn=false or VERTEBRA_CUDNN=0";

    static CudnnSettings fromSystem() {
        String search = System.getProperty("vertebra.cudnn.search", "find").toLowerCase(Locale.ROOT);
        String algorithms = System.getProperty("vertebra.cudnn.algorithms", "precise").toLowerCase(Locale.ROOT);
        long mib = Long.getLong("vertebra.cudnn.workspaceMiB", 1024);
        return new CudnnSettings(!search.equals("heuristic"), algorithms.equals("all"), Math.max(0, mib) << 20,
                !switchedOff(System.getProperty("vertebra.cudnn.depthwise", "true")),
                Boolean.getBoolean("vertebra.cudnn.depthwiseFloat32"), Boolean.getBoolean("vertebra.cudnn.batchnorm"));
    }

    /**
     * Whether a convolution with data of {@code dtype} and weights {@code w} [KH, KW, Cin/groups, Cout] goes to cuDNN
     * (when cuDNN is in use and takes it): all but float32 depthwise ones, unless {@code depthwiseFloat32}.
     */
    boolean routesToCudnn(DType dtype, Shape w, ConvSpec spec) {
        return depthwiseFloat32 || dtype != DType.FLOAT32 || !ConvolutionOps.depthwise(w, spec);
    }

    /** False when the property or the environment variable switches cuDNN off. */
    static boolean enabled() {
        String value = System.getProperty("vertebra.cudnn");
        if (value == null) {
            value = System.getenv("VERTEBRA_CUDNN");
        }
        return value == null || !switchedOff(value);
    }

    static boolean switchedOff(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "false", "0", "off", "no" -> true;
            default -> false;
        };
    }
}
