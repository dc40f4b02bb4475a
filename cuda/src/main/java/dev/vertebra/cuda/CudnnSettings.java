package dev.vertebra.cuda;

import dev.vertebra.core.ConvSpec;
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
 *   <li>{@code vertebra.cudnn.depthwise}: {@code true} lets cuDNN take depthwise convolutions (groups = Cin, one
 *       input channel per group); by default they run on the own direct kernels (16-bit data through float32
 *       copies), which made EfficientNet-B0's training step at batch 64 on an H200 1.16× as fast in fp32 (cuDNN
 *       9.14, before the own kernels were reworked) and 1.07× in bf16 (after);</li>
 *   <li>{@code vertebra.cudnn.pointwise}: {@code true} lets cuDNN take 1×1 convolutions (stride 1, unpadded, one
 *       group); by default they run as cuBLAS GEMMs on the tensors as they are, which took 2–4× less GPU time than
 *       cuDNN on EfficientNet-B0's float32 1×1 layers at batch 64 on an H200 (and skips the weight transposes);</li>
 *   <li>{@code vertebra.cudnn.batchnorm}: {@code true} runs batch norm through cuDNN (default {@code false}: the
 *       own kernels, which accumulate statistics in double).</li>
 * </ul>
 * TF32 for float32 convolutions follows {@link dev.vertebra.core.Backends#allowTf32} (whose default is the
 * {@code vertebra.cuda.tf32} property), read at each call.
 */
record CudnnSettings(boolean exhaustiveSearch, boolean allAlgorithms, long workspaceLimit, boolean depthwise,
                     boolean pointwise, boolean batchNorm) {
    static final String SWITCH = "-Dvertebra.cudnn=false or VERTEBRA_CUDNN=0";

    static CudnnSettings fromSystem() {
        String search = System.getProperty("vertebra.cudnn.search", "find").toLowerCase(Locale.ROOT);
        String algorithms = System.getProperty("vertebra.cudnn.algorithms", "precise").toLowerCase(Locale.ROOT);
        long mib = Long.getLong("vertebra.cudnn.workspaceMiB", 1024);
        return new CudnnSettings(!search.equals("heuristic"), algorithms.equals("all"), Math.max(0, mib) << 20,
                Boolean.getBoolean("vertebra.cudnn.depthwise"), Boolean.getBoolean("vertebra.cudnn.pointwise"),
                Boolean.getBoolean("vertebra.cudnn.batchnorm"));
    }

    /**
     * Whether a convolution with weights {@code w} [KH, KW, Cin/groups, Cout] goes to cuDNN (when cuDNN is in use and
     * takes it): all but 1×1 ones (unless {@code pointwise}) and depthwise ones (unless {@code depthwise}).
     */
    boolean routesToCudnn(Shape w, ConvSpec spec) {
        if (ConvolutionOps.pointwise(w, spec)) {
            return pointwise;
        }
        return depthwise || !ConvolutionOps.depthwise(w, spec);
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
