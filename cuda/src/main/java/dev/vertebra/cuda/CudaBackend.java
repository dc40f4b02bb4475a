package dev.vertebra.cuda;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Layout;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.PoolSpec;
import dev.vertebra.core.ReduceOp;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Storage;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.UnaryOp;
import dev.vertebra.core.io.HostArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;


/**
 * The CUDA backend of one device ({@code cuda:N}): its primary context, one stream, a caching allocator,
 * NVRTC-compiled kernels and a cuBLAS handle. Work is queued on the stream and runs asynchronously;
 * {@link #download} and {@link #synchronize()} wait for it.
 *
 * <pre>{@code
 * Tensor x = Tensor.of(new float[]{1, 2, 3}, 3).to(Device.parse("cuda:0"));
 * Tensor y = x.exp().sum();
 * System.out.println(y.toFloatArray()[0]);
 * }</pre>
 *
 * <p>Compute primitives take float32 (elementwise ops, reductions and matmul also float64); copies and casts take
 * every {@link DType}. Other dtypes get an {@link UnsupportedOperationException} naming the op.
 *
 * <p>Mixed precision: float16 and bfloat16 run natively where autocast sends them — matmul (cuBLAS GemmEx, float32
 * accumulation), convolutions on cuDNN (float32 accumulation, tensor cores) and elementwise ops (computed in
 * float) — and through a float32 copy elsewhere (reductions, pooling, batch norm, indexing, the own convolution
 * kernels), the result rounded back. TF32 for float32 matmuls and convolutions follows
 * {@link Backends#allowTf32}, read at each call.
 */
public final class CudaBackend implements Backend {
    private final Device device;
    private final CudaRuntime runtime;
    private final CudaContext context;
    private final CachingAllocator allocator;
    private final HostTransfers transfers;
    private final KernelLibrary kernels;
    private final MemorySegment blas;
    /** The math mode last set on {@link #blas}: TF32 tensor cores allowed or not. */
    private boolean blasTf32;
    private final String description;
    private final ConvolutionOps convolutions;
    private final ChannelOps channelOps;
    private final ColumnSums columnSums;
    private final GatedPointwise gatedPointwise;
    /** Null without cuDNN (missing, switched off or failing to start); {@link #cudnnStatus} says which. */
    private final CudnnConvolutions cudnnConvolutions;
    /** Which convolutions go to cuDNN when it is in use (read when the backend opens). */
    private final CudnnSettings cudnnSettings = CudnnSettings.fromSystem();
    /** Null without cuDNN; used by batchNorm only when {@code vertebra.cudnn.batchnorm} asks for it. */
    private final CudnnBatchNorm cudnnBatchNorm;
    private final boolean batchNormOnCudnn;
    private final String cudnnStatus;
    private volatile boolean useCudnn;
    /**
     * Batch norm and reductions over middle dimensions on the one-pass column kernels ({@link ColumnSums});
     * {@code -Dvertebra.cuda.legacyChannelKernels=true} keeps the two-pass batch norm with atomics and the
     * row-per-block reduction, to measure the two against each other on a GPU.
     */
    private volatile boolean columnKernels = !Boolean.getBoolean("vertebra.cuda.legacyChannelKernels");
    /**
     * Depthwise convolutions of 16-bit data on the depthwise kernels as they are; {@code
     * -Dvertebra.cuda.widenDepthwise16=true} widens them to float32 and rounds the result (the earlier path), for
     * A/B timing.
     */
    private final boolean depthwise16 = !Boolean.getBoolean("vertebra.cuda.widenDepthwise16");
    /**
     * 3×3 and 5×5 depthwise convolutions (stride 1 or 2, no dilation or channel multiplier) forward, and their
     * stride-1 data gradients, on the kernels that compute four outputs per thread from registers
     * ({@code -Dvertebra.cuda.depthwiseRuns=true}). Off until measured on a GPU against the one-output kernels.
     */
    private volatile boolean depthwiseRuns = Boolean.getBoolean("vertebra.cuda.depthwiseRuns");
    /**
     * A squeeze-excitation gate and the 1×1 convolution after it as batched GEMMs over per-image weights
     * ({@link GatedPointwise}; {@code -Dvertebra.cuda.gatedGemm=true}). Off until measured on a GPU against the
     * default's separate ops.
     */
    private volatile boolean gatedGemm = Boolean.getBoolean("vertebra.cuda.gatedGemm");
    /**
     * Batch norm's per-element passes on the column kernels in float arithmetic with CUDA's fast-math e^x and
     * division, as the CPU backend's fast path ({@code -Dvertebra.cuda.fastBatchNorm=true}): the float affine map,
     * float sums of up to 64 rows before they meet in double. Off until measured on a GPU against the double
     * arithmetic of the default kernels (ncu found those bound by instructions, not memory).
     */
    private volatile boolean fastBatchNorm = Boolean.getBoolean("vertebra.cuda.fastBatchNorm");

    CudaBackend(Device device, CudaRuntime runtime) {
        this.device = device;
        this.runtime = runtime;
        Driver driver = runtime.driver;
        this.context = new CudaContext(driver, device.index());
        int handle = driver.device(device.index());
        int sm = driver.attribute(handle, Driver.ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) * 10
                + driver.attribute(handle, Driver.ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        this.allocator = new CachingAllocator(driver, context);
        this.transfers = new HostTransfers(driver, context);
        this.kernels = new KernelLibrary(driver, runtime.nvrtc, context, sm);
        this.blasTf32 = Backends.tf32Allowed();
        this.blas = runtime.cublas.create(context.stream(), blasTf32);
        this.convolutions = new ConvolutionOps(this);
        this.channelOps = new ChannelOps(this);
        this.columnSums = new ColumnSums(this);
        this.gatedPointwise = new GatedPointwise(this);
        CudnnConvolutions conv = null;
        CudnnBatchNorm norm = null;
        boolean normOnCudnn = false;
        String status = runtime.cudnnStatus;
        if (runtime.cudnn != null) {
            try {
                MemorySegment dnn = runtime.cudnn.create(context.stream());
                conv = new CudnnConvolutions(this, runtime.cudnn, dnn, cudnnSettings);
                // A handle of its own (same stream): the two op classes lock separately.
                norm = new CudnnBatchNorm(this, runtime.cudnn, runtime.cudnn.create(context.stream()));
                normOnCudnn = cudnnSettings.batchNorm();
                status += ", convolutions" + (normOnCudnn ? " and batch norm" : "") + " on cuDNN ("
                        + (cudnnSettings.exhaustiveSearch() ? "timed" : "heuristic") + " algorithm choice, "
                        + (cudnnSettings.allAlgorithms() ? "all algorithms" : "GEMM-like and direct algorithms")
                        + (cudnnSettings.depthwise() ? "" : ", depthwise on own kernels")
                        + (cudnnSettings.pointwise() ? "" : ", 1x1 as cuBLAS GEMMs") + ")";
            } catch (CudaException e) {
                status = "cuDNN found but unusable, own kernels only: " + e.getMessage();
            }
        }
        this.cudnnConvolutions = conv;
        this.cudnnBatchNorm = norm;
        this.batchNormOnCudnn = normOnCudnn;
        this.cudnnStatus = status;
        this.useCudnn = conv != null;
        this.description = device + " " + driver.deviceName(handle) + " (sm_" + sm + ", kernels " + kernels.target()
                + "; " + status + ")";
    }

    @Override
    public Device device() {
        return device;
    }

    /** Whether batch norm and middle-dimension sums use the column kernels (see {@link #useColumnKernels}). */
    boolean columnKernels() {
        return columnKernels;
    }

    /** Switches between the column kernels and the legacy ones, for A/B timing within one process. */
    void useColumnKernels(boolean on) {
        columnKernels = on;
    }

    /** Whether depthwise convolutions may use the run kernels (see {@link #useDepthwiseRuns}). */
    boolean depthwiseRuns() {
        return depthwiseRuns;
    }

    /** Switches the depthwise run kernels on or off, for A/B timing within one process. */
    void useDepthwiseRuns(boolean on) {
        depthwiseRuns = on;
    }

    /** Whether batch norm on the column kernels uses the fast kernels (see {@link #useFastBatchNorm}). */
    boolean fastBatchNorm() {
        return fastBatchNorm;
    }

    /** Switches batch norm's fast kernels on or off, for A/B timing within one process. */
    void useFastBatchNorm(boolean on) {
        fastBatchNorm = on;
    }

    /** Whether the gated 1×1 convolution runs as batched GEMMs (see {@link #useGatedGemm}). */
    boolean gatedGemm() {
        return gatedGemm;
    }

    /** Switches the gated 1×1 convolution between batched GEMMs and the separate ops, for A/B timing. */
    void useGatedGemm(boolean on) {
        gatedGemm = on;
    }

    /** Whether cuDNN was found and started: its version and folder, or why not. */
    public String cudnnStatus() {
        return cudnnStatus;
    }

    /** True when convolutions (and batch norm, if asked for) currently go to cuDNN. */
    public boolean cudnnActive() {
        return useCudnn;
    }

    /**
     * Routes convolutions to cuDNN ({@code true}, where it was found) or to the backend's own kernels, for A/B
     * comparisons within one process; {@code -Dvertebra.cudnn=false} does the same for a whole run.
     *
     * @return whether cuDNN is now in use (false when it is not available)
     */
    public boolean useCudnn(boolean on) {
        useCudnn = on && cudnnConvolutions != null;
        return useCudnn;
    }

    /** Device name, architecture and kernel target, e.g. "cuda:0 NVIDIA H100 80GB HBM3 (sm_90, kernels sm_90 cubin)". */
    public String description() {
        return description;
    }

    /** The caching allocator's counters. */
    public AllocatorStats allocatorStats() {
        return allocator.stats();
    }

    /** Returns every cached (free) block to the driver. */
    public void emptyCache() {
        allocator.emptyCache();
    }

    /** {free, total} bytes of device memory as the driver sees them. */
    public long[] memoryInfo() {
        context.makeCurrent();
        return runtime.driver.memInfo();
    }

    /** Milliseconds {@code work} takes on the GPU, measured with events around it on the stream. */
    public double timeMillis(Runnable work) {
        context.makeCurrent();
        Driver d = runtime.driver;
        MemorySegment start = d.createEvent();
        try {
            MemorySegment end = d.createEvent();
            try {
                d.record(start, context.stream());
                work.run();
                d.record(end, context.stream());
                d.synchronizeEvent(end);
                return d.elapsedMillis(start, end);
            } finally {
                d.destroyEvent(end);
            }
        } finally {
            d.destroyEvent(start);
        }
    }

    @Override
    public void synchronize() {
        context.synchronize();
    }

    // ---- helpers for the op classes -----------------------------------------------------------------------

    KernelLibrary kernels() {
        return kernels;
    }

    Cublas cublas() {
        return runtime.cublas;
    }

    /** The cuBLAS handle, its math mode brought in line with {@link Backends#tf32Allowed()} first. */
    MemorySegment blasHandle() {
        boolean tf32 = Backends.tf32Allowed();
        if (tf32 != blasTf32) {
            context.makeCurrent();
            runtime.cublas.mathMode(blas, tf32);
            blasTf32 = tf32;
        }
        return blas;
    }

    CudaContext context() {
        return context;
    }

    /** The buffer behind a tensor of this backend. */
    CudaBuffer buffer(Tensor t) {
        if (t.storage() instanceof CudaBuffer b && b.device().equals(device)) {
            return b;
        }
        throw new IllegalArgumentException("the " + device + " backend got a tensor of another device: " + t.describe());
    }

    /** Device address of the tensor's first element (its layout offset). */
    long address(Tensor t) {
        return buffer(t).address(t.layout().offset());
    }

    /** A new uninitialised contiguous tensor. */
    Tensor empty(Shape shape, DType dtype) {
        return Tensor.wrap(newBuffer(dtype, shape.numel()), shape, this);
    }

    /** A new buffer, owned by the thread's open {@link MemoryScope} (if any) until that closes or keeps it. */
    private CudaBuffer newBuffer(DType dtype, int size) {
        CudaBuffer b = new CudaBuffer(device, dtype, size, allocator);
        MemoryScope.adopt(b);
        return b;
    }

    /** A new zero-filled contiguous tensor. */
    Tensor zeros(Shape shape, DType dtype) {
        return Tensor.wrap(allocate(dtype, shape.numel()), shape, this);
    }

    /** {@code t} itself when its elements are contiguous in C order (any offset), else a contiguous copy. */
    Tensor dense(Tensor t) {
        if (t.isContiguous()) {
            return t;
        }
        Tensor out = empty(t.shape(), t.dtype());
        copyInto(t, out);
        return out;
    }

    /** {@code t} as float32 (a new tensor unless it is float32): for primitives with float32 kernels only. */
    Tensor widened(Tensor t) {
        if (t.dtype() == DType.FLOAT32) {
            return t;
        }
        Tensor out = empty(t.shape(), DType.FLOAT32);
        copyInto(t, out);
        return out;
    }

    /** A float32 result rounded to {@code dtype}. */
    Tensor narrowed(Tensor t, DType dtype) {
        if (t.dtype() == dtype) {
            return t;
        }
        Tensor out = empty(t.shape(), dtype);
        copyInto(t, out);
        return out;
    }

    // ---- storage and copies ---------------------------------------------------------------------------------

    @Override
    public Storage allocate(DType dtype, int size) {
        CudaBuffer b = newBuffer(dtype, size);
        if (size > 0) {
            context.makeCurrent();
            runtime.driver.memsetBytes(b.address(), (byte) 0, b.byteSize(), context.stream());
        }
        return b;
    }

    @Override
    public Storage allocateForOverwrite(DType dtype, int size) {
        return newBuffer(dtype, size);
    }

    @Override
    public Storage upload(HostArray data) {
        CudaBuffer b = newBuffer(data.dtype(), data.size());
        if (data.size() > 0) {
            transfers.upload(heapSegment(data.data()), b.address(), b.byteSize());
        }
        return b;
    }

    @Override
    public HostArray download(Tensor x) {
        Tensor d = dense(x);
        Object array = java.lang.reflect.Array.newInstance(HostArray.javaArrayType(x.dtype()).componentType(),
                x.numel());
        if (x.numel() > 0) {
            transfers.download(address(d), heapSegment(array), (long) x.numel() * x.dtype().byteSize());
        }
        return new HostArray(x.dtype(), x.shape().dims(), array);
    }

    private static MemorySegment heapSegment(Object array) {
        return switch (array) {
            case float[] a -> MemorySegment.ofArray(a);
            case double[] a -> MemorySegment.ofArray(a);
            case long[] a -> MemorySegment.ofArray(a);
            case int[] a -> MemorySegment.ofArray(a);
            case short[] a -> MemorySegment.ofArray(a);
            case byte[] a -> MemorySegment.ofArray(a);
            default -> throw new IllegalArgumentException("not a host array type: " + array.getClass());
        };
    }

    @Override
    public void copyInto(Tensor src, Tensor dst) {
        if (dst.numel() == 0) {
            return;
        }
        Layout from = src.layout().expand(dst.shape());
        if (src.storage() == dst.storage()) {
            // Overlapping views of one buffer: read everything before writing anything.
            Tensor staged = empty(src.shape(), src.dtype());
            copyInto(src, staged);
            src = staged;
            from = staged.layout().expand(dst.shape());
        }
        CudaBuffer s = buffer(src);
        CudaBuffer d = buffer(dst);
        DType srcType = src.dtype();
        if (srcType == dst.dtype() && dst.isContiguous() && from.isContiguous()) {
            context.makeCurrent();
            runtime.driver.copyDeviceToDevice(d.address(dst.layout().offset()), s.address(from.offset()),
                    (long) dst.numel() * dst.dtype().byteSize(), context.stream());
            return;
        }
        StridedView[] v = StridedView.merged(dst.layout(), from);
        int n = dst.numel();
        kernels.launch1d("copy", "copy_cast", n, a -> a.pointer(d.address()).view(v[0]).i32(dst.dtype().ordinal())
                .pointer(s.address()).view(v[1]).i32(srcType.ordinal()).i32(n));
    }

    @Override
    public Tensor full(Shape shape, DType dtype, double value) {
        if (value == 0 && Double.doubleToRawLongBits(value) == 0) {
            return zeros(shape, dtype);
        }
        Tensor out = empty(shape, dtype);
        long address = address(out);
        int n = shape.numel();
        kernels.launch1d("copy", "fill", n, a -> a.pointer(address).i32(dtype.ordinal()).f64(value).i32(n));
        return out;
    }

    // ---- elementwise ------------------------------------------------------------------------------------------

    @Override
    public Tensor unary(UnaryOp op, Tensor x) {
        String name = "unary_" + op.kernel() + "_" + KernelTypes.elementwiseSuffix(op.kernel(), x.dtype());
        Tensor out = empty(x.shape(), x.dtype());
        StridedView v = StridedView.merged(x.layout())[0];
        long in = buffer(x).address();
        long o = address(out);
        int n = x.numel();
        kernels.launch1d("elementwise", name, n, a -> a.pointer(o).pointer(in).view(v).i32(n));
        return out;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String name = "binary_" + op.kernel() + "_" + KernelTypes.elementwiseSuffix(op.kernel(), a.dtype());
        Shape shape = Shape.broadcast(a.shape(), b.shape());
        Tensor out = empty(shape, a.dtype());
        StridedView[] v = StridedView.merged(a.layout().expand(shape), b.layout().expand(shape));
        long pa = buffer(a).address();
        long pb = buffer(b).address();
        long o = address(out);
        int n = shape.numel();
        kernels.launch1d("elementwise", name, n, k -> k.pointer(o).pointer(pa).view(v[0]).pointer(pb).view(v[1]).i32(n));
        return out;
    }

    /** One kernel instead of the default's add and copy-back (and its temporary). */
    @Override
    public void accumulate(Tensor dst, Tensor src) {
        if (!dst.isContiguous() || src.dtype() != dst.dtype()) {
            Backend.super.accumulate(dst, src);
            return;
        }
        String name = "accumulate_" + KernelTypes.elementwiseSuffix("accumulate", dst.dtype());
        StridedView v = StridedView.merged(src.layout().expand(dst.shape()))[0];
        long pd = address(dst);
        long ps = buffer(src).address();
        int n = dst.numel();
        kernels.launch1d("elementwise", name, n, k -> k.pointer(pd).pointer(ps).view(v).i32(n));
    }

    /** One kernel instead of the default's two scalar products, sum and copy-back (float32 and float64). */
    @Override
    public void scaleAdd(Tensor dst, double alpha, Tensor src, double beta) {
        DType t = dst.dtype();
        if (!dst.isContiguous() || src.dtype() != t || (t != DType.FLOAT32 && t != DType.FLOAT64)) {
            Backend.super.scaleAdd(dst, alpha, src, beta);
            return;
        }
        String name = "scale_add_" + (t == DType.FLOAT32 ? "f32" : "f64");
        long pd = address(dst);
        long ps = address(dense(src));
        int n = dst.numel();
        kernels.launch1d("elementwise", name, n, k -> k.pointer(pd).pointer(ps).f64(alpha).f64(beta).i32(n));
    }

    /** elementwise.cu's VX_SCALE_ADD_TENSORS: pairs per scale_add_many_f32 launch. */
    private static final int SCALE_ADD_TENSORS = 128;
    /** Blocks along a scale_add_many_f32 launch's x: enough for a large tensor, few idle ones for small ones. */
    private static final int SCALE_ADD_BLOCKS = 64;

    /**
     * Float32 pairs {@value #SCALE_ADD_TENSORS} per launch (an optimiser's step: a few launches instead of one per
     * parameter), with scaleAdd's rounding; anything else pair by pair.
     */
    @Override
    public void scaleAddAll(List<Tensor> dsts, double alpha, List<Tensor> srcs, double beta) {
        List<Tensor> dst = new ArrayList<>();
        List<Tensor> src = new ArrayList<>();
        for (int i = 0; i < dsts.size(); i++) {
            Tensor d = dsts.get(i);
            Tensor s = srcs.get(i);
            if (d.dtype() == DType.FLOAT32 && s.dtype() == DType.FLOAT32 && d.isContiguous() && s.isContiguous()
                    && d.numel() > 0) {
                dst.add(d);
                src.add(s);
            } else {
                scaleAdd(d, alpha, s, beta);
            }
        }
        for (int from = 0; from < dst.size(); from += SCALE_ADD_TENSORS) {
            int count = Math.min(SCALE_ADD_TENSORS, dst.size() - from);
            long[] pd = new long[count];
            long[] ps = new long[count];
            int[] n = new int[count];
            int largest = 0;
            for (int i = 0; i < count; i++) {
                pd[i] = address(dst.get(from + i));
                ps[i] = address(src.get(from + i));
                n[i] = dst.get(from + i).numel();
                largest = Math.max(largest, n[i]);
            }
            int blocks = Math.min(SCALE_ADD_BLOCKS, (largest + KernelLibrary.BLOCK - 1) / KernelLibrary.BLOCK);
            // VxScaleAddList: dst[128], src[128] (8 bytes each), n[128], count (4 bytes each), padded to 8.
            long bytes = 20L * SCALE_ADD_TENSORS + 8;
            kernels.launch("elementwise", "scale_add_many_f32", blocks, count, 1, KernelLibrary.BLOCK, 1, 0,
                    k -> k.struct(bytes, m -> {
                        for (int i = 0; i < count; i++) {
                            m.set(ValueLayout.JAVA_LONG, 8L * i, pd[i]);
                            m.set(ValueLayout.JAVA_LONG, 8L * (SCALE_ADD_TENSORS + i), ps[i]);
                            m.set(ValueLayout.JAVA_INT, 16L * SCALE_ADD_TENSORS + 4L * i, n[i]);
                        }
                        m.set(ValueLayout.JAVA_INT, 20L * SCALE_ADD_TENSORS, count);
                    }).f64(alpha).f64(beta));
        }
    }

    @Override
    public Tensor binaryScalar(BinaryOp op, Tensor a, double scalar) {
        String name = "scalar_" + op.kernel() + "_" + KernelTypes.elementwiseSuffix(op.kernel(), a.dtype());
        Tensor out = empty(a.shape(), a.dtype());
        StridedView v = StridedView.merged(a.layout())[0];
        long pa = buffer(a).address();
        long o = address(out);
        int n = a.numel();
        kernels.launch1d("elementwise", name, n, k -> k.pointer(o).pointer(pa).view(v).f64(scalar).i32(n));
        return out;
    }

    // ---- reductions ---------------------------------------------------------------------------------------------

    @Override
    public Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim) {
        if (op == ReduceOp.SUM) {
            Tensor columns = columnSum(x, null, dims, keepDim);
            if (columns != null) {
                return columns;
            }
        }
        if (KernelTypes.isLow(x)) {
            return narrowed(reduce(op, widened(x), dims, keepDim), x.dtype());
        }
        String name = "reduce_" + op.kernel() + "_" + KernelTypes.suffix(op.kernel(), x.dtype(), true);
        int rank = x.rank();
        boolean[] reduced = new boolean[rank];
        for (int d : dims) {
            reduced[d] = true;
        }
        // Kept dimensions first, reduced ones last: each output is one row of the permuted view.
        int[] order = new int[rank];
        int[] keptShape = x.shape().dims();
        int[] dropped = new int[rank - dims.length];
        int k = 0;
        int j = 0;
        long rows = 1;
        for (int d = 0; d < rank; d++) {
            if (!reduced[d]) {
                order[k++] = d;
                dropped[j++] = x.dim(d);
                rows *= x.dim(d);
            } else {
                keptShape[d] = 1;
            }
        }
        for (int d : dims) {
            order[k++] = d;
        }
        Shape outShape = keepDim ? Shape.of(keptShape) : Shape.of(dropped);
        Tensor out = empty(outShape, x.dtype());
        if (rows == 0) {
            return out;
        }
        int cols = (int) (x.numel() == 0 ? 0 : x.numel() / rows);
        for (int d : dims) {
            if (x.dim(d) == 0) {
                cols = 0;
            }
        }
        StridedView v = x.numel() == 0 ? new StridedView(0, new int[0], new int[0])
                : StridedView.merged(x.layout().permute(order))[0];
        int block = 32;
        while (block < cols && block < KernelLibrary.BLOCK) {
            block *= 2;
        }
        int r = (int) rows;
        int c = cols;
        long in = buffer(x).address();
        long o = address(out);
        kernels.launch("reduce", name, Math.min(r, 1 << 20), 1, 1, block, 1, block * 8,
                a -> a.pointer(o).pointer(in).view(v).i32(r).i32(c));
        return out;
    }

    @Override
    public Tensor mulSum(Tensor a, Tensor b, int[] dims, boolean keepDim) {
        Tensor columns = a.shape().equals(b.shape()) && a.dtype() == b.dtype() ? columnSum(a, b, dims, keepDim)
                : null;
        return columns != null ? columns : Backend.super.mulSum(a, b, dims, keepDim);
    }

    /**
     * {@code Σ_dims x} (or {@code Σ_dims x·y}) by {@link ColumnSums}, in x's dtype, when x (and y) are contiguous
     * float32 or 16-bit floats and {@code dims} (ascending, as the callers normalise them) are consecutive and not
     * the last dimension, i.e. x is {@code [outer, rows, c]} with the rows summed per column: squeeze-excitation
     * pooling of NHWC activations, bias gradients. Null otherwise.
     */
    private Tensor columnSum(Tensor x, Tensor y, int[] dims, boolean keepDim) {
        int rank = x.rank();
        boolean floating = x.dtype() == DType.FLOAT32 || KernelTypes.isLow(x);
        if (!columnKernels || dims.length == 0 || !floating || !x.isContiguous()
                || y != null && (y.dtype() != x.dtype() || !y.isContiguous())) {
            return null;
        }
        int first = dims[0];
        int last = dims[dims.length - 1];
        if (last - first + 1 != dims.length || last == rank - 1) {
            return null;
        }
        long outer = 1;
        long rows = 1;
        long c = 1;
        for (int d = 0; d < rank; d++) {
            long n = x.dim(d);
            if (d < first) {
                outer *= n;
            } else if (d <= last) {
                rows *= n;
            } else {
                c *= n;
            }
        }
        if (outer > ColumnSums.MAX_OUTER || rows > Integer.MAX_VALUE || c > Integer.MAX_VALUE / 2
                || !ColumnSums.partialsFit(outer, rows, (int) c)) {
            return null;
        }
        int[] kept = x.shape().dims();
        int[] dropped = new int[rank - dims.length];
        for (int d = 0, j = 0; d < rank; d++) {
            if (d >= first && d <= last) {
                kept[d] = 1;
            } else {
                dropped[j++] = x.dim(d);
            }
        }
        Shape outShape = keepDim ? Shape.of(kept) : Shape.of(dropped);
        Tensor sums = columnSums.sum(x, y, outer, (int) rows, (int) c, outShape);
        return x.dtype() == DType.FLOAT32 ? sums : narrowed(sums, x.dtype());
    }

    // ---- matmul -------------------------------------------------------------------------------------------------

    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        boolean half = KernelTypes.isLow(a) && a.dtype() == b.dtype();
        boolean f64 = !half && KernelTypes.suffix("matmul", a.dtype(), true).equals("f64");
        int batch = Math.max(a.dim(0), b.dim(0));
        int m = a.dim(1);
        int k = a.dim(2);
        int n = b.dim(2);
        Tensor out = zeros(Shape.of(batch, m, n), a.dtype());
        if (batch == 0 || m == 0 || n == 0 || k == 0) {
            return out;
        }
        Cublas.Operand ga = gemmOperand(a);
        Cublas.Operand gb = gemmOperand(b);
        MemorySegment handle = blasHandle();
        context.makeCurrent();
        if (half) {
            runtime.cublas.gemmHalf(handle, a.dtype() == DType.BFLOAT16, batch, m, n, k, 1, ga, gb, 0, address(out), n,
                    (long) m * n);
        } else {
            runtime.cublas.gemm(handle, f64, batch, m, n, k, 1, ga, gb, 0, address(out), n, (long) m * n);
        }
        return out;
    }

    /** Uses {@code t} in place when its matrices have a unit stride in either dimension; else copies it. */
    private Cublas.Operand gemmOperand(Tensor t) {
        int rows = t.dim(1);
        int cols = t.dim(2);
        int rs = t.layout().stride(1);
        int cs = t.layout().stride(2);
        long bs = t.dim(0) == 1 ? 0 : t.layout().stride(0);
        if ((cs == 1 || cols == 1) && (rows == 1 || rs >= Math.max(cols, 1))) {
            return new Cublas.Operand(address(t), false, rows == 1 ? Math.max(cols, 1) : rs, bs);
        }
        if ((rs == 1 || rows == 1) && (cols == 1 || cs >= Math.max(rows, 1))) {
            return new Cublas.Operand(address(t), true, cols == 1 ? Math.max(rows, 1) : cs, bs);
        }
        Tensor d = dense(t);
        return new Cublas.Operand(address(d), false, Math.max(cols, 1), t.dim(0) == 1 ? 0 : (long) rows * cols);
    }

    // ---- image ops, batch norm, indexing ------------------------------------------------------------------------

    // cuDNN first where it is in use, the settings route the problem there and cuDNN takes it (float32 or 16-bit,
    // non-empty); the own kernels otherwise: 1×1 GEMMs in the data's own type, the rest in float32.

    private boolean cudnnTakes(Shape w, ConvSpec spec) {
        return useCudnn && cudnnSettings.routesToCudnn(w, spec);
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor w, ConvSpec spec) {
        if (cudnnTakes(w.shape(), spec)) {
            Optional<Tensor> y = cudnnConvolutions.forward(x, w, spec);
            if (y.isPresent()) {
                return y.get();
            }
        }
        if (KernelTypes.isLow(x) && !ConvolutionOps.pointwise(x, w, w.shape(), spec) && !depthwise16(x, w, spec)) {
            return narrowed(convolutions.forward(widened(x), widened(w), spec), x.dtype());
        }
        return convolutions.forward(x, w, spec);
    }

    @Override
    public Tensor conv2dBackwardInput(Tensor dy, Tensor w, Shape xShape, ConvSpec spec) {
        if (cudnnTakes(w.shape(), spec)) {
            Optional<Tensor> dx = cudnnConvolutions.backwardData(dy, w, xShape, spec);
            if (dx.isPresent()) {
                return dx.get();
            }
        }
        if (KernelTypes.isLow(dy) && !ConvolutionOps.pointwise(dy, w, w.shape(), spec) && !depthwise16(dy, w, spec)) {
            return narrowed(convolutions.backwardInput(widened(dy), widened(w), xShape, spec), dy.dtype());
        }
        return convolutions.backwardInput(dy, w, xShape, spec);
    }

    @Override
    public Tensor conv2dBackwardWeight(Tensor x, Tensor dy, Shape wShape, ConvSpec spec) {
        if (cudnnTakes(wShape, spec)) {
            Optional<Tensor> dw = cudnnConvolutions.backwardFilter(x, dy, wShape, spec);
            if (dw.isPresent()) {
                return dw.get();
            }
        }
        if (KernelTypes.isLow(x) && depthwise16 && ConvolutionOps.depthwise(wShape, spec) && dy.dtype() == x.dtype()) {
            // The kernels read x and dy as they are and sum the weight gradient in float32.
            return narrowed(convolutions.backwardWeight(x, dy, wShape, spec), x.dtype());
        }
        if (KernelTypes.isLow(x) && !ConvolutionOps.pointwise(x, dy, wShape, spec)) {
            return narrowed(convolutions.backwardWeight(widened(x), widened(dy), wShape, spec), x.dtype());
        }
        return convolutions.backwardWeight(x, dy, wShape, spec);
    }

    /** True when a depthwise convolution of 16-bit {@code a} and {@code w} runs on the kernels without widening. */
    private boolean depthwise16(Tensor a, Tensor w, ConvSpec spec) {
        return depthwise16 && a.dtype() == w.dtype() && ConvolutionOps.depthwise(w.shape(), spec);
    }

    @Override
    public Tensor pool2d(Tensor x, PoolSpec spec) {
        if (KernelTypes.isLow(x)) {
            return narrowed(channelOps.pool(widened(x), spec), x.dtype());
        }
        return channelOps.pool(x, spec);
    }

    @Override
    public Tensor pool2dBackward(Tensor x, Tensor dy, PoolSpec spec) {
        if (KernelTypes.isLow(x)) {
            return narrowed(channelOps.poolBackward(widened(x), widened(dy), spec), x.dtype());
        }
        return channelOps.poolBackward(x, dy, spec);
    }

    @Override
    public BatchNormResult batchNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        if (KernelTypes.isLow(x)) {
            // 16-bit parameters too (autocast's mixed case arrives as batchNormMixed): widened to float32.
            BatchNormResult r = batchNorm(widened(x), widened(weight), widened(bias), eps);
            DType t = x.dtype();
            return new BatchNormResult(narrowed(r.output(), t), narrowed(r.mean(), t), narrowed(r.variance(), t),
                    narrowed(r.invStd(), t));
        }
        if (useCudnn && batchNormOnCudnn) {
            Optional<BatchNormResult> r = cudnnBatchNorm.forward(x, weight, bias, eps);
            if (r.isPresent()) {
                return r.get();
            }
        }
        return channelOps.batchNorm(x, weight, bias, eps, false);
    }

    /** One pass fewer than batch norm then SiLU: the SiLU is applied as the normalised values are stored. */
    @Override
    public BatchNormResult batchNormSilu(Tensor x, Tensor weight, Tensor bias, double eps) {
        if (KernelTypes.isLow(x) || useCudnn && batchNormOnCudnn) {
            return Backend.super.batchNormSilu(x, weight, bias, eps);
        }
        return channelOps.batchNorm(x, weight, bias, eps, true);
    }

    @Override
    public BatchNormGrads batchNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor invStd) {
        if (KernelTypes.isLow(x)) {
            BatchNormGrads g = batchNormBackward(widened(dy), widened(x), widened(weight), widened(mean),
                    widened(invStd));
            DType t = x.dtype();
            return new BatchNormGrads(narrowed(g.input(), t), narrowed(g.weight(), t), narrowed(g.bias(), t));
        }
        if (useCudnn && batchNormOnCudnn) {
            Optional<BatchNormGrads> g = cudnnBatchNorm.backward(dy, x, weight, mean, invStd);
            if (g.isPresent()) {
                return g.get();
            }
        }
        return channelOps.batchNormBackward(dy, x, weight, null, mean, invStd, false);
    }

    /**
     * The SiLU's derivative recomputed inside batch norm's two backward passes: five passes over the activations
     * instead of the default's seventeen (four broadcast ops and the SiLU gradient, each writing a full tensor).
     */
    @Override
    public BatchNormGrads batchNormSiluBackward(Tensor dz, Tensor x, Tensor weight, Tensor bias, Tensor mean,
                                                Tensor invStd) {
        if (KernelTypes.isLow(x) || useCudnn && batchNormOnCudnn) {
            return Backend.super.batchNormSiluBackward(dz, x, weight, bias, mean, invStd);
        }
        return channelOps.batchNormBackward(dz, x, weight, bias, mean, invStd, true);
    }

    @Override
    public Tensor conv2dGated(Tensor x, Tensor gate, Tensor w, ConvSpec spec) {
        if (gatedGemm && ConvolutionOps.pointwise(w.shape(), spec) && GatedPointwise.takes(x, gate, w)) {
            return gatedPointwise.forward(x, gate, w);
        }
        return Backend.super.conv2dGated(x, gate, w, spec);
    }

    @Override
    public GatedConvGrads conv2dGatedBackward(Tensor dy, Tensor x, Tensor gate, Tensor w, ConvSpec spec) {
        if (gatedGemm && ConvolutionOps.pointwise(w.shape(), spec) && GatedPointwise.takes(x, gate, w)
                && dy.dtype() == DType.FLOAT32) {
            return gatedPointwise.backward(dy, x, gate, w);
        }
        return Backend.super.conv2dGatedBackward(dy, x, gate, w, spec);
    }

    /** 16-bit activations read and written as they are by the column kernels: no widening or rounding passes. */
    @Override
    public BatchNormResult batchNormMixed(Tensor x, Tensor weight, Tensor bias, double eps, boolean silu) {
        if (!channelOps.columnBatchNorm(x) || weight.dtype() != DType.FLOAT32 || bias.dtype() != DType.FLOAT32) {
            return Backend.super.batchNormMixed(x, weight, bias, eps, silu);
        }
        return channelOps.batchNorm(x, weight, bias, eps, silu);
    }

    @Override
    public BatchNormGrads batchNormMixedBackward(Tensor dz, Tensor x, Tensor weight, Tensor bias, Tensor mean,
                                                 Tensor invStd, boolean silu) {
        if (!channelOps.columnBatchNorm(x) || dz.dtype() != x.dtype() || weight.dtype() != DType.FLOAT32) {
            return Backend.super.batchNormMixedBackward(dz, x, weight, bias, mean, invStd, silu);
        }
        return channelOps.batchNormBackward(dz, x, weight, silu ? bias : null, mean, invStd, silu);
    }

    // ---- the two convolution paths, side by side (tests and A/B timing) -----------------------------------------

    /** The cuDNN path alone: empty when cuDNN is missing or does not take the problem. */
    Optional<Tensor> cudnnConv2d(Tensor x, Tensor w, ConvSpec spec) {
        return cudnnConvolutions == null ? Optional.empty() : cudnnConvolutions.forward(x, w, spec);
    }

    Optional<Tensor> cudnnConv2dBackwardInput(Tensor dy, Tensor w, Shape xShape, ConvSpec spec) {
        return cudnnConvolutions == null ? Optional.empty() : cudnnConvolutions.backwardData(dy, w, xShape, spec);
    }

    Optional<Tensor> cudnnConv2dBackwardWeight(Tensor x, Tensor dy, Shape wShape, ConvSpec spec) {
        return cudnnConvolutions == null ? Optional.empty() : cudnnConvolutions.backwardFilter(x, dy, wShape, spec);
    }

    /** The algorithms cuDNN chose for a problem so far (null entries: not run yet), for logs and tests. */
    CudnnConvolutions.Choice[] cudnnChoices(Shape x, Shape w, ConvSpec spec) {
        return cudnnConvolutions == null ? new CudnnConvolutions.Choice[3] : cudnnConvolutions.choices(x, w, spec);
    }

    /** cuDNN batch norm regardless of {@code vertebra.cudnn.batchnorm} (tests): empty where it does not apply. */
    Optional<BatchNormResult> cudnnBatchNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        return cudnnBatchNorm == null ? Optional.empty() : cudnnBatchNorm.forward(x, weight, bias, eps);
    }

    Optional<BatchNormGrads> cudnnBatchNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor invStd) {
        return cudnnBatchNorm == null ? Optional.empty() : cudnnBatchNorm.backward(dy, x, weight, mean, invStd);
    }

    @Override
    public Tensor gather(Tensor x, int dim, Tensor index) {
        if (KernelTypes.isLow(x)) {
            return narrowed(IndexOps.gather(this, widened(x), dim, index), x.dtype());
        }
        return IndexOps.gather(this, x, dim, index);
    }

    @Override
    public Tensor scatterAdd(Shape shape, int dim, Tensor index, Tensor src) {
        if (KernelTypes.isLow(src)) {
            return narrowed(IndexOps.scatterAdd(this, shape, dim, index, widened(src)), src.dtype());
        }
        return IndexOps.scatterAdd(this, shape, dim, index, src);
    }

    /** Copies {@code bytes} from device to host (used to read back error flags). */
    long[] readLongs(Tensor t) {
        long[] out = new long[t.numel()];
        transfers.download(address(t), MemorySegment.ofArray(out), 8L * out.length);
        return out;
    }

    @Override
    public String toString() {
        return "CudaBackend[" + description + "]";
    }

}
