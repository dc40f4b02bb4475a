package dev.vertebra.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuDNN 9 ({@code libcudnn.so.9}) through FFM: the legacy convolution and batch-norm API, deprecated in cuDNN 9
 * but still exported by its front library, which loads the {@code libcudnn_ops/_cnn/_engines_*} sub-libraries
 * itself. When the library is opened from a folder (the override or a Python wheel), the sub-libraries in that
 * folder are opened first so the front library's own lookup finds them loaded.
 *
 * <p>Descriptors are opaque {@link MemorySegment} handles; device pointers are {@code long}s. Every status is
 * checked; a failure is a {@link CudaException} of {@link CudaException.Library#CUDNN} carrying
 * {@code cudnnGetErrorString}'s name and, where the library has it, {@code cudnnGetLastErrorString}'s detail.
 */
// Binding native code is what this class is for: the restricted FFM methods are its job.
@SuppressWarnings("restricted")
final class Cudnn {
    static final int DATA_FLOAT = 0;
    static final int DATA_HALF = 2;
    static final int DATA_BFLOAT16 = 9;
    static final int TENSOR_NCHW = 0;
    static final int TENSOR_NHWC = 1;
    static final int CROSS_CORRELATION = 1;
    static final int DEFAULT_MATH = 0;
    static final int TENSOR_OP_MATH = 1;
    static final int FMA_MATH = 3;
    static final int BATCHNORM_SPATIAL = 1;

    private static final List<String> NAMES = List.of("libcudnn.so.9");
    // Dependency order: graph first, the engines, then the op libraries that use them.
    private static final List<String> SUB_LIBRARIES = List.of("libcudnn_graph.so.9",
            "libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9", "libcudnn_heuristic.so.9",
            "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9");

    /** The three convolution problems; each has its own algorithm enum, search and run call. */
    enum Direction {
        FORWARD("Forward"), BACKWARD_DATA("BackwardData"), BACKWARD_FILTER("BackwardFilter");

        final String cName;

        Direction(String cName) {
            this.cName = cName;
        }

        /**
         * Algorithms that accumulate products in place (implicit/explicit GEMM, direct), as opposed to the
         * FFT and Winograd transforms, whose fp32 rounding is visibly larger.
         */
        boolean precise(int algo) {
            return switch (this) {
                case FORWARD -> algo <= 3;          // IMPLICIT_GEMM, IMPLICIT_PRECOMP_GEMM, GEMM, DIRECT
                case BACKWARD_DATA -> algo <= 1;    // ALGO_0, ALGO_1
                case BACKWARD_FILTER -> algo <= 1 || algo == 3; // ALGO_0, ALGO_1, ALGO_3
            };
        }
    }

    /** One entry of cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t (the three structs share a layout). */
    record Perf(int algo, int status, float timeMs, long memory, int determinism, int mathType) {
    }

    // algo, status, time, (pad), memory, determinism, mathType, reserved[3], (pad): 48 bytes.
    static final StructLayout PERF = MemoryLayout.structLayout(JAVA_INT.withName("algo"), JAVA_INT.withName("status"),
            JAVA_FLOAT.withName("time"), MemoryLayout.paddingLayout(4), JAVA_LONG.withName("memory"),
            JAVA_INT.withName("determinism"), JAVA_INT.withName("mathType"),
            MemoryLayout.sequenceLayout(3, JAVA_INT).withName("reserved"), MemoryLayout.paddingLayout(4));

    private static final FunctionDescriptor I_P = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    private static final FunctionDescriptor I_PP = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
    private static final FunctionDescriptor I_PI = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT);

    private final String location;
    private final long version;
    private final MethodHandle getErrorString;
    private final MethodHandle getLastErrorString;
    private final MethodHandle create;
    private final MethodHandle destroy;
    private final MethodHandle setStream;
    private final MethodHandle createTensor;
    private final MethodHandle setTensor4d;
    private final MethodHandle createFilter;
    private final MethodHandle setFilter4d;
    private final MethodHandle createConvolution;
    private final MethodHandle setConvolution2d;
    private final MethodHandle setGroupCount;
    private final MethodHandle setMathType;
    private final MethodHandle forwardOutputDim;
    private final MethodHandle[] maxCount = new MethodHandle[3];
    private final MethodHandle[] heuristic = new MethodHandle[3];
    private final MethodHandle[] find = new MethodHandle[3];
    private final MethodHandle[] run = new MethodHandle[3];
    private final MethodHandle batchNormForwardTraining;
    private final MethodHandle batchNormBackward;

    Cudnn() {
        NativeLibraries.Loaded lib = NativeLibraries.open(NAMES, SUB_LIBRARIES);
        location = lib.location();
        SymbolLookup l = lib.lookup();
        String n = "libcudnn";
        MethodHandle getVersion = NativeCall.bind(l, n, "cudnnGetVersion", FunctionDescriptor.of(JAVA_LONG));
        version = NativeCall.longResult(() -> (long) getVersion.invokeExact());
        getErrorString = NativeCall.bind(l, n, "cudnnGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        getLastErrorString = l.find("cudnnGetLastErrorString").isPresent()
                ? NativeCall.bind(l, n, "cudnnGetLastErrorString", FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG))
                : null;
        create = NativeCall.bind(l, n, "cudnnCreate", I_P);
        destroy = NativeCall.bind(l, n, "cudnnDestroy", I_P);
        setStream = NativeCall.bind(l, n, "cudnnSetStream", I_PP);
        createTensor = NativeCall.bind(l, n, "cudnnCreateTensorDescriptor", I_P);
        // desc, format, dataType, n, c, h, w
        setTensor4d = NativeCall.bind(l, n, "cudnnSetTensor4dDescriptor", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        createFilter = NativeCall.bind(l, n, "cudnnCreateFilterDescriptor", I_P);
        // desc, dataType, format, k, c, h, w
        setFilter4d = NativeCall.bind(l, n, "cudnnSetFilter4dDescriptor", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        createConvolution = NativeCall.bind(l, n, "cudnnCreateConvolutionDescriptor", I_P);
        // desc, pad_h, pad_w, u, v, dilation_h, dilation_w, mode, computeType
        setConvolution2d = NativeCall.bind(l, n, "cudnnSetConvolution2dDescriptor", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        setGroupCount = NativeCall.bind(l, n, "cudnnSetConvolutionGroupCount", I_PI);
        setMathType = NativeCall.bind(l, n, "cudnnSetConvolutionMathType", I_PI);
        // convDesc, xDesc, wDesc, *n, *c, *h, *w
        forwardOutputDim = NativeCall.bind(l, n, "cudnnGetConvolution2dForwardOutputDim", FunctionDescriptor.of(
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        for (Direction d : Direction.values()) {
            int i = d.ordinal();
            maxCount[i] = NativeCall.bind(l, n, "cudnnGetConvolution" + d.cName + "AlgorithmMaxCount", I_PP);
            // handle, desc, desc, convDesc, desc, requested, *returned, *perf
            heuristic[i] = NativeCall.bind(l, n, "cudnnGetConvolution" + d.cName + "Algorithm_v7",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS,
                            ADDRESS));
            // handle, desc, ptr, desc, ptr, convDesc, desc, ptr, requested, *returned, *perf, workspace, bytes
            find[i] = NativeCall.bind(l, n, "cudnnFindConvolution" + d.cName + "AlgorithmEx",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS,
                            JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
            // handle, *alpha, desc, ptr, desc, ptr, convDesc, algo, workspace, bytes, *beta, desc, ptr
            run[i] = NativeCall.bind(l, n, "cudnnConvolution" + d.cName, FunctionDescriptor.of(JAVA_INT, ADDRESS,
                    ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS,
                    ADDRESS, JAVA_LONG));
        }
        // handle, mode, *alpha, *beta, xDesc, x, yDesc, y, bnDesc, scale, bias, factor, runningMean, runningVar,
        // epsilon, saveMean, saveInvVariance
        batchNormForwardTraining = NativeCall.bind(l, n, "cudnnBatchNormalizationForwardTraining",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS,
                        JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE,
                        JAVA_LONG, JAVA_LONG));
        // handle, mode, *alphaData, *betaData, *alphaParam, *betaParam, xDesc, x, dyDesc, dy, dxDesc, dx, bnDesc,
        // scale, dScale, dBias, epsilon, savedMean, savedInvVariance
        batchNormBackward = NativeCall.bind(l, n, "cudnnBatchNormalizationBackward",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                        JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                        JAVA_DOUBLE, JAVA_LONG, JAVA_LONG));
    }

    String location() {
        return location;
    }

    /** cudnnGetVersion(): e.g. 91300 for 9.13.0. */
    long version() {
        return version;
    }

    /** "9.13.0" from {@link #version()}. */
    String versionText() {
        return versionText(version);
    }

    /** cuDNN 9 encodes its version as major·10000 + minor·100 + patch. */
    static String versionText(long version) {
        return version / 10000 + "." + (version % 10000) / 100 + "." + version % 100;
    }

    void check(int status, String call) {
        if (status == 0) {
            return;
        }
        String name = NativeCall.cString(NativeCall.status0(() -> (MemorySegment) getErrorString.invokeExact(status)));
        String detail = null;
        if (getLastErrorString != null) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buffer = a.allocate(1024);
                NativeCall.status(() -> {
                    getLastErrorString.invokeExact(buffer, 1024L);
                    return 0;
                });
                detail = buffer.getString(0);
            }
        }
        throw new CudaException(CudaException.Library.CUDNN, call, status, name, detail);
    }

    private MemorySegment newHandle(MethodHandle creator, String call) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(NativeCall.status(() -> (int) creator.invokeExact(p)), call);
            return p.get(ADDRESS, 0);
        }
    }

    /** A handle whose work goes to {@code stream} (the calling thread's current context must be the device's). */
    MemorySegment create(MemorySegment stream) {
        MemorySegment handle = newHandle(create, "cudnnCreate");
        check(NativeCall.status(() -> (int) setStream.invokeExact(handle, stream)), "cudnnSetStream");
        return handle;
    }

    void destroy(MemorySegment handle) {
        check(NativeCall.status(() -> (int) destroy.invokeExact(handle)), "cudnnDestroy");
    }

    /** A 4-D tensor descriptor of {@code dataType} (a DATA_ constant), logical sizes n, c, h, w, in {@code format}. */
    MemorySegment tensor(int format, int dataType, int n, int c, int h, int w) {
        MemorySegment d = newHandle(createTensor, "cudnnCreateTensorDescriptor");
        check(NativeCall.status(() -> (int) setTensor4d.invokeExact(d, format, dataType, n, c, h, w)),
                "cudnnSetTensor4dDescriptor(" + n + ", " + c + ", " + h + ", " + w + ")");
        return d;
    }

    /** An NHWC filter descriptor of {@code dataType}: memory order [k, h, w, c] (KRSC). */
    MemorySegment filterNhwc(int dataType, int k, int c, int h, int w) {
        MemorySegment d = newHandle(createFilter, "cudnnCreateFilterDescriptor");
        check(NativeCall.status(() -> (int) setFilter4d.invokeExact(d, dataType, TENSOR_NHWC, k, c, h, w)),
                "cudnnSetFilter4dDescriptor(" + k + ", " + c + ", " + h + ", " + w + ")");
        return d;
    }

    /**
     * A cross-correlation descriptor with symmetric padding and {@code groups} groups, accumulating in float32
     * whatever the data type (cuDNN's "pseudo-half" configuration for float16/bfloat16 data).
     */
    MemorySegment convolution(int padH, int padW, int strideH, int strideW, int dilationH, int dilationW, int groups,
                              int mathType) {
        MemorySegment d = newHandle(createConvolution, "cudnnCreateConvolutionDescriptor");
        check(NativeCall.status(() -> (int) setConvolution2d.invokeExact(d, padH, padW, strideH, strideW, dilationH,
                dilationW, CROSS_CORRELATION, DATA_FLOAT)), "cudnnSetConvolution2dDescriptor");
        check(NativeCall.status(() -> (int) setGroupCount.invokeExact(d, groups)), "cudnnSetConvolutionGroupCount");
        mathType(d, mathType);
        return d;
    }

    void mathType(MemorySegment convolution, int mathType) {
        check(NativeCall.status(() -> (int) setMathType.invokeExact(convolution, mathType)),
                "cudnnSetConvolutionMathType");
    }

    /** {n, c, h, w} of the forward output cuDNN derives from the descriptors. */
    int[] forwardOutputDim(MemorySegment convolution, MemorySegment x, MemorySegment w) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment d = a.allocate(JAVA_INT, 4);
            MemorySegment n = d.asSlice(0, 4);
            MemorySegment c = d.asSlice(4, 4);
            MemorySegment h = d.asSlice(8, 4);
            MemorySegment wd = d.asSlice(12, 4);
            check(NativeCall.status(() -> (int) forwardOutputDim.invokeExact(convolution, x, w, n, c, h, wd)),
                    "cudnnGetConvolution2dForwardOutputDim");
            return d.toArray(JAVA_INT);
        }
    }

    /**
     * The descriptors of one convolution problem in the order the calls of {@code direction} take them: forward
     * (x, w → y), backward data (w, dy → dx), backward filter (x, dy → dw).
     */
    record Operands(MemorySegment firstDesc, long first, MemorySegment secondDesc, long second,
                    MemorySegment outDesc, long out) {
    }

    int maxAlgorithms(MemorySegment handle, Direction d) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            MethodHandle m = maxCount[d.ordinal()];
            check(NativeCall.status(() -> (int) m.invokeExact(handle, p)),
                    "cudnnGetConvolution" + d.cName + "AlgorithmMaxCount");
            return Math.max(1, p.get(JAVA_INT, 0));
        }
    }

    /** cuDNN's heuristic ranking (no kernels run). */
    List<Perf> heuristic(MemorySegment handle, Direction d, MemorySegment convolution, Operands o) {
        int requested = maxAlgorithms(handle, d);
        MethodHandle m = heuristic[d.ordinal()];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment returned = a.allocate(JAVA_INT);
            MemorySegment perf = a.allocate(PERF, requested);
            check(NativeCall.status(() -> (int) m.invokeExact(handle, o.firstDesc(), o.secondDesc(), convolution,
                    o.outDesc(), requested, returned, perf)), "cudnnGetConvolution" + d.cName + "Algorithm_v7");
            return perfs(perf, returned.get(JAVA_INT, 0));
        }
    }

    /** Runs every algorithm that fits {@code workspaceBytes} on the given buffers (the output is overwritten). */
    List<Perf> find(MemorySegment handle, Direction d, MemorySegment convolution, Operands o, long workspace,
                    long workspaceBytes) {
        int requested = maxAlgorithms(handle, d);
        MethodHandle m = find[d.ordinal()];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment returned = a.allocate(JAVA_INT);
            MemorySegment perf = a.allocate(PERF, requested);
            check(NativeCall.status(() -> (int) m.invokeExact(handle, o.firstDesc(), o.first(), o.secondDesc(),
                    o.second(), convolution, o.outDesc(), o.out(), requested, returned, perf, workspace,
                    workspaceBytes)), "cudnnFindConvolution" + d.cName + "AlgorithmEx");
            return perfs(perf, returned.get(JAVA_INT, 0));
        }
    }

    private static List<Perf> perfs(MemorySegment perf, int count) {
        List<Perf> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            MemorySegment s = perf.asSlice(i * PERF.byteSize(), PERF.byteSize());
            out.add(new Perf(s.get(JAVA_INT, 0), s.get(JAVA_INT, 4), s.get(JAVA_FLOAT, 8), s.get(JAVA_LONG, 16),
                    s.get(JAVA_INT, 24), s.get(JAVA_INT, 28)));
        }
        return out;
    }

    /** {@code out = op(first, second)} with algorithm {@code algo} (alpha 1, beta 0). */
    void run(MemorySegment handle, Direction d, MemorySegment convolution, int algo, Operands o, long workspace,
             long workspaceBytes) {
        MethodHandle m = run[d.ordinal()];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocateFrom(JAVA_FLOAT, 1f);
            MemorySegment zero = a.allocateFrom(JAVA_FLOAT, 0f);
            check(NativeCall.status(() -> (int) m.invokeExact(handle, one, o.firstDesc(), o.first(), o.secondDesc(),
                    o.second(), convolution, algo, workspace, workspaceBytes, zero, o.outDesc(), o.out())),
                    "cudnnConvolution" + d.cName + "(algo " + algo + ")");
        }
    }

    /**
     * Batch-norm training forward in spatial mode: y, the batch mean and 1/sqrt(var + eps); with
     * {@code factor} 1 the running variance becomes the batch's unbiased variance (the running buffers must be
     * zeroed first: they are scaled by 1 - factor).
     */
    void batchNormForwardTraining(MemorySegment handle, MemorySegment xDesc, long x, long y, MemorySegment bnDesc,
                                  long scale, long bias, long runningMean, long runningVar, double epsilon,
                                  long saveMean, long saveInvStd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocateFrom(JAVA_FLOAT, 1f);
            MemorySegment zero = a.allocateFrom(JAVA_FLOAT, 0f);
            check(NativeCall.status(() -> (int) batchNormForwardTraining.invokeExact(handle, BATCHNORM_SPATIAL, one,
                    zero, xDesc, x, xDesc, y, bnDesc, scale, bias, 1.0, runningMean, runningVar, epsilon, saveMean,
                    saveInvStd)), "cudnnBatchNormalizationForwardTraining");
        }
    }

    /** Batch-norm backward in spatial mode from the saved mean and inverse standard deviation. */
    void batchNormBackward(MemorySegment handle, MemorySegment xDesc, long x, long dy, long dx, MemorySegment bnDesc,
                           long scale, long dScale, long dBias, double epsilon, long savedMean, long savedInvStd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocateFrom(JAVA_FLOAT, 1f);
            MemorySegment zero = a.allocateFrom(JAVA_FLOAT, 0f);
            check(NativeCall.status(() -> (int) batchNormBackward.invokeExact(handle, BATCHNORM_SPATIAL, one, zero,
                    one, zero, xDesc, x, xDesc, dy, xDesc, dx, bnDesc, scale, dScale, dBias, epsilon, savedMean,
                    savedInvStd)), "cudnnBatchNormalizationBackward");
        }
    }
}
