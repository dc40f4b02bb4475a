package dev.vertebra.core.cpu;

import dev.vertebra.core.Activation;
import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.CpuStorage;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Layout;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.ReduceOp;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.UnaryOp;
import dev.vertebra.core.reference.ReferenceBackend;

import java.util.Arrays;
import java.util.Objects;

/**
 * The fast CPU backend: float32 primitives on Vector API kernels and all cores ({@link CpuThreads}); everything
 * else (other dtypes, rare ops) falls back to the reference loops it extends, so both always agree on
 * semantics. Conformance tests compare every primitive against {@link ReferenceBackend}.
 *
 * <p>float16 and bfloat16 (mixed precision): matmul, convolutions, elementwise ops and reductions widen their
 * operands to float32, run the float32 kernels (float32 accumulation) and round the result once to the 16-bit
 * type ({@link LowPrecision}). The 16-bit types are storage formats here, not faster arithmetic.
 */
public final class CpuBackend extends ReferenceBackend {
    /** Elements per parallel task of an elementwise loop. */
    private static final int ELEMENTWISE_GRAIN = 1 << 14;
    // Row broadcasts up to this many elements run plain loops: a squeeze-excitation's [N, C] up to batch 32 × 2048.
    private static final int SMALL_ROW_BROADCAST = 1 << 16;
    /** The upstream gradient size (floats, 8 MB) from which {@link #broadcastMulGradients} fuses its two passes. */
    private static final long FUSED_MUL_GRADIENTS_MIN_ELEMENTS = 1 << 21;
    /** Pixels from which {@link #pointwiseBatchNormSiluDepthwise} gathers the statistics in the product. */
    private static final int MOMENTS_IN_PRODUCT_MIN_ROWS = 4096;

    public CpuBackend(Device device) {
        super(device);
    }

    private static boolean isFloat(Tensor t) {
        return t.dtype() == DType.FLOAT32;
    }

    private static float[] floats(Tensor t) {
        return cpu(t).floats();
    }

    /**
     * A new tensor for a kernel that writes every element: float32 comes uncleared from the {@link MemoryScope}'s
     * pool when one is open (a clearing pass saved); other dtypes are zero-filled as usual.
     */
    private Tensor output(Shape shape, DType dtype) {
        if (dtype != DType.FLOAT32) {
            return empty(shape, dtype);
        }
        return Tensor.wrap(CpuStorage.allocateUninitialized(shape.numel()), shape, this);
    }

    /** The float data of {@code t} as a contiguous array from offset 0 or {@code t.layout().offset()}. */
    private Tensor dense(Tensor t) {
        if (t.isContiguous()) {
            return t;
        }
        Tensor out = output(t.shape(), t.dtype());
        copyInto(t, out);
        return out;
    }

    private static boolean isLow(Tensor t) {
        return LowPrecision.isLow(t.dtype());
    }

    /** True when {@code a} and {@code b} hold the same 16-bit float type: compute widened to float32. */
    private static boolean isLowPair(Tensor a, Tensor b) {
        return isLow(a) && a.dtype() == b.dtype();
    }

    /** {@code t} as a contiguous float32 tensor (itself when it already is float32). */
    private Tensor widened(Tensor t) {
        if (isFloat(t)) {
            return t;
        }
        Tensor out = output(t.shape(), DType.FLOAT32);
        copyInto(t, out);
        return out;
    }

    /** A float32 result rounded to {@code dtype}. */
    private Tensor narrowed(Tensor t, DType dtype) {
        if (t.dtype() == dtype) {
            return t;
        }
        Tensor out = empty(t.shape(), dtype);
        copyInto(t, out);
        return out;
    }

    @Override
    public void copyInto(Tensor src, Tensor dst) {
        if (dst.numel() == 0 || !LowPrecision.isConvertible(src.dtype()) || !LowPrecision.isConvertible(dst.dtype())) {
            super.copyInto(src, dst);
            return;
        }
        if (!isFloat(src) || !isFloat(dst)) {
            convertingCopy(src, dst);
            return;
        }
        Layout s = src.layout().expand(dst.shape());
        StridedLoops.Plan plan = StridedLoops.plan(dst.shape().dims(), s.strides(), dst.layout().strides());
        float[] from = floats(src);
        float[] to = floats(dst);
        int so = s.offset();
        int dOff = dst.layout().offset();
        int inner = plan.inner();
        int ss = plan.innerStride(0);
        int ds = plan.innerStride(1);
        CpuThreads.parallelFor(0, plan.rows(), Math.max(1, ELEMENTWISE_GRAIN / Math.max(inner, 1)), (r0, r1) -> {
            StridedLoops.RowCursor at = plan.cursor(r0);
            for (int r = r0; r < r1; r++, at.next()) {
                int a = so + at.offset(0);
                int b = dOff + at.offset(1);
                if (ss == 1 && ds == 1) {
                    System.arraycopy(from, a, to, b, inner);
                } else {
                    for (int i = 0; i < inner; i++) {
                        to[b + i * ds] = from[a + i * ss];
                    }
                }
            }
        });
    }

    /** {@link #copyInto} where either side is float16 or bfloat16. */
    private void convertingCopy(Tensor src, Tensor dst) {
        Layout s = src.layout().expand(dst.shape());
        StridedLoops.Plan plan = StridedLoops.plan(dst.shape().dims(), s.strides(), dst.layout().strides());
        Object from = cpu(src).array();
        Object to = cpu(dst).array();
        DType st = src.dtype();
        DType dt = dst.dtype();
        int inner = plan.inner();
        int ss = plan.innerStride(0);
        int ds = plan.innerStride(1);
        CpuThreads.parallelFor(0, plan.rows(), Math.max(1, ELEMENTWISE_GRAIN / Math.max(inner, 1)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                LowPrecision.convert(from, st, s.offset() + plan.rowOffset(0, r), ss, to, dt,
                        dst.layout().offset() + plan.rowOffset(1, r), ds, inner);
            }
        });
    }

    @Override
    public Tensor full(Shape shape, DType dtype, double value) {
        if (dtype != DType.FLOAT32) {
            return super.full(shape, dtype, value);
        }
        Tensor out = output(shape, dtype);
        Arrays.fill(floats(out), (float) value);
        return out;
    }

    @Override
    public Tensor unary(UnaryOp op, Tensor x) {
        if (isLow(x)) {
            return narrowed(unary(op, widened(x)), x.dtype());
        }
        if (!isFloat(x)) {
            return super.unary(op, x);
        }
        Tensor in = dense(x);
        Tensor out = output(x.shape(), x.dtype());
        float[] xs = floats(in);
        float[] ys = floats(out);
        int base = in.layout().offset();
        CpuThreads.parallelFor(0, x.numel(), ELEMENTWISE_GRAIN,
                (from, to) -> FloatElementwise.unary(op, xs, base + from, 1, ys, from, to - from));
        return out;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        if (isLowPair(a, b)) {
            return narrowed(binary(op, widened(a), widened(b)), a.dtype());
        }
        if (!isFloat(a) || !isFloat(b)) {
            return super.binary(op, a, b);
        }
        Shape shape = Shape.broadcast(a.shape(), b.shape());
        Layout la = a.layout().expand(shape);
        Layout lb = b.layout().expand(shape);
        Tensor out = output(shape, a.dtype());
        if (rowBroadcast(op, a, b, lb, shape, out)) {
            return out;
        }
        StridedLoops.Plan plan = StridedLoops.plan(shape.dims(), la.strides(), lb.strides(), shape.contiguousStrides());
        float[] av = floats(a);
        float[] bv = floats(b);
        float[] yv = floats(out);
        int inner = plan.inner();
        int as = plan.innerStride(0);
        int bs = plan.innerStride(1);
        if (plan.rank() <= 1) {
            // One flat run: split it across threads directly.
            CpuThreads.parallelFor(0, inner, ELEMENTWISE_GRAIN, (from, to) -> FloatElementwise.binary(op,
                    av, la.offset() + from * as, as, bv, lb.offset() + from * bs, bs, yv, from, to - from));
            return out;
        }
        CpuThreads.parallelFor(0, plan.rows(), Math.max(1, ELEMENTWISE_GRAIN / Math.max(inner, 1)), (r0, r1) -> {
            StridedLoops.RowCursor at = plan.cursor(r0);
            for (int r = r0; r < r1; r++, at.next()) {
                FloatElementwise.binary(op, av, la.offset() + at.offset(0), as,
                        bv, lb.offset() + at.offset(1), bs, yv, at.offset(2), inner);
            }
        });
        return out;
    }

    /**
     * {@code [N, …, C] op [N or 1, 1, …, 1, C]} with the left side contiguous: the per-channel broadcasts of NHWC
     * models (batch norm's scale and shift, the squeeze-excitation gate), done a block of rows per call by
     * {@link RowBroadcast}. False (nothing done) for any other pattern.
     */
    private static boolean rowBroadcast(BinaryOp op, Tensor a, Tensor b, Layout lb, Shape shape, Tensor out) {
        int rank = shape.rank();
        if (!RowBroadcast.supports(op) || rank < 2 || shape.numel() == 0 || !a.shape().equals(shape)
                || !a.isContiguous()) {
            return false;
        }
        int[] bs = lb.strides();
        if (bs[rank - 1] != 1) {
            return false;
        }
        for (int i = 1; i < rank - 1; i++) {
            if (bs[i] != 0) {
                return false;
            }
        }
        int c = shape.dim(rank - 1);
        int rows = shape.numel() / c;
        int perBatch = rows / shape.dim(0);   // consecutive rows that share one b vector
        int bStride = bs[0];
        int ao = a.layout().offset();
        int bo = lb.offset();
        float[] av = floats(a);
        float[] bv = floats(b);
        float[] yv = floats(out);
        boolean small = shape.numel() <= SMALL_ROW_BROADCAST; // plain loops (RowBroadcast.applyPlain)
        CpuThreads.parallelFor(0, rows, Math.max(1, ELEMENTWISE_GRAIN / Math.max(c, 1)), (r0, r1) -> {
            for (int r = r0; r < r1; ) {
                int batch = r / perBatch;
                int upTo = Math.min(r1, (batch + 1) * perBatch);
                if (small) {
                    RowBroadcast.applyPlain(op, av, ao + r * c, bv, bo + batch * bStride, yv, r * c, upTo - r, c);
                } else {
                    RowBroadcast.apply(op, av, ao + r * c, bv, bo + batch * bStride, yv, r * c, upTo - r, c);
                }
                r = upTo;
            }
        });
        return true;
    }

    /** In place: each element of dst is read and written by the same iteration, so no copy is needed. */
    @Override
    public void accumulate(Tensor dst, Tensor src) {
        if (!isFloat(dst) || !isFloat(src) || !dst.isContiguous()) {
            super.accumulate(dst, src);
            return;
        }
        Layout ls = src.layout().expand(dst.shape());
        StridedLoops.Plan plan = StridedLoops.plan(dst.shape().dims(), dst.layout().strides(), ls.strides());
        float[] dv = floats(dst);
        float[] sv = floats(src);
        int dOff = dst.layout().offset();
        int inner = plan.inner();
        int ss = plan.innerStride(1);
        if (plan.rank() <= 1) {
            CpuThreads.parallelFor(0, inner, ELEMENTWISE_GRAIN, (from, to) -> FloatElementwise.binary(BinaryOp.ADD,
                    dv, dOff + from, 1, sv, ls.offset() + from * ss, ss, dv, dOff + from, to - from));
            return;
        }
        CpuThreads.parallelFor(0, plan.rows(), Math.max(1, ELEMENTWISE_GRAIN / Math.max(inner, 1)), (r0, r1) -> {
            StridedLoops.RowCursor at = plan.cursor(r0);
            for (int r = r0; r < r1; r++, at.next()) {
                int d = dOff + at.offset(0);
                FloatElementwise.binary(BinaryOp.ADD, dv, d, 1, sv, ls.offset() + at.offset(1), ss, dv, d, inner);
            }
        });
    }

    @Override
    public void scaleAdd(Tensor dst, double alpha, Tensor src, double beta) {
        boolean sameStorage = floats(dst) == floats(src);   // two storages may wrap one array
        if (!isFloat(dst) || !isFloat(src) || !dst.isContiguous() || !src.isContiguous()
                || (sameStorage && src.layout().offset() != dst.layout().offset())) {
            super.scaleAdd(dst, alpha, src, beta);
            return;
        }
        float[] dv = floats(dst);
        float[] sv = floats(src);
        int dOff = dst.layout().offset();
        int sOff = src.layout().offset();
        float a = (float) alpha;
        float b = (float) beta;
        CpuThreads.parallelFor(0, dst.numel(), ELEMENTWISE_GRAIN,
                (from, to) -> VectorOps.scaleAdd(dv, dOff + from, a, sv, sOff + from, b, to - from));
    }

    /** {@link FloatAdam}: one pass over contiguous float32 w, g, m, v (four distinct arrays) instead of ten. */
    @Override
    public void adamStep(Tensor w, Tensor g, Tensor m, Tensor v, AdamStep step) {
        boolean fused = true;
        for (Tensor t : new Tensor[]{w, g, m, v}) {
            fused &= isFloat(t) && t.isContiguous() && t.shape().equals(w.shape());
        }
        float[] wv = fused ? floats(w) : null;
        float[] gv = fused ? floats(g) : null;
        float[] mv = fused ? floats(m) : null;
        float[] vv = fused ? floats(v) : null;
        if (!fused || wv == gv || wv == mv || wv == vv || gv == mv || gv == vv || mv == vv) {
            super.adamStep(w, g, m, v, step);
            return;
        }
        int wOff = w.layout().offset();
        int gOff = g.layout().offset();
        int mOff = m.layout().offset();
        int vOff = v.layout().offset();
        boolean decays = step.weightDecay() != 0;
        float decay = decays && step.decoupled() ? (float) (1 - step.lr() * step.weightDecay()) : 1f;
        float gradDecay = decays && !step.decoupled() ? (float) step.weightDecay() : 0f;
        float b1 = (float) step.beta1();
        float ob1 = (float) (1 - step.beta1());
        float b2 = (float) step.beta2();
        float ob2 = (float) (1 - step.beta2());
        float invC2 = (float) (1 / step.correction2Sqrt()); // as Tensor.div(double) does
        float eps = (float) step.eps();
        float negStep = (float) -step.stepSize();
        CpuThreads.parallelFor(0, w.numel(), ELEMENTWISE_GRAIN, (from, to) -> FloatAdam.step(wv, wOff, gv, gOff, mv,
                mOff, vv, vOff, from, to, decay, gradDecay, b1, ob1, b2, ob2, invC2, eps, negStep));
    }

    @Override
    public Tensor binaryScalar(BinaryOp op, Tensor a, double scalar) {
        if (isLow(a)) {
            return narrowed(binaryScalar(op, widened(a), scalar), a.dtype());
        }
        if (!isFloat(a)) {
            return super.binaryScalar(op, a, scalar);
        }
        Tensor in = dense(a);
        Tensor out = output(a.shape(), a.dtype());
        float[] xs = floats(in);
        float[] ys = floats(out);
        float[] s = {(float) scalar};
        int base = in.layout().offset();
        if (a.numel() <= ELEMENTWISE_GRAIN && FloatElementwise.arithmeticScalar(op, xs, base, s[0], ys, 0, a.numel())) {
            return out; // one chunk: no loop to share
        }
        CpuThreads.parallelFor(0, a.numel(), ELEMENTWISE_GRAIN,
                (from, to) -> FloatElementwise.binary(op, xs, base + from, 1, s, 0, 0, ys, from, to - from));
        return out;
    }

    @Override
    public Tensor mulSum(Tensor a, Tensor b, int[] dims, boolean keepDim) {
        Folded f = Folded.of(a.shape(), dims);
        if (!isFloat(a) || !isFloat(b) || !a.shape().equals(b.shape()) || f == null || dims.length == 0) {
            return super.mulSum(a, b, dims, keepDim);
        }
        Tensor ai = dense(a);
        Tensor bi = dense(b);
        Tensor out = empty(reducedShape(a.shape(), dims, keepDim), a.dtype());
        if (f.reduced() == 0) {
            return out;   // empty sums: the zeros of a new tensor
        }
        FloatReduce.productSum(floats(ai), ai.layout().offset(), floats(bi), bi.layout().offset(), f.outer(),
                f.reduced(), f.inner(), floats(out));
        return out;
    }

    /**
     * Both gradients on one pass over g when b broadcasts over consecutive dimensions of a float32 a with at least
     * two trailing elements ([N, H, W, C] · [N, 1, 1, C]) and g is large: the values of the default's two ops, bit
     * for bit. Small g stays in cache between the two separate passes, and there the row-order multiplication is
     * faster than the fused kernel's column sweeps, which store a line per row (bench/NOTES.md: B0's
     * squeeze-excitations at batch 8, 20–26 % faster fused from 9.6 MB up, even at 6 MB, 5–20 % slower at 1–4 MB).
     */
    @Override
    public Tensor[] broadcastMulGradients(Tensor g, Tensor a, Tensor b, int[] dims) {
        Folded f = Folded.of(g.shape(), dims);
        if (!isFloat(g) || !isFloat(a) || !isFloat(b) || !g.shape().equals(a.shape()) || f == null
                || dims.length == 0 || f.inner() < 2 || !b.shape().equals(reducedShape(g.shape(), dims, true))
                || g.numel() < FUSED_MUL_GRADIENTS_MIN_ELEMENTS) {
            return super.broadcastMulGradients(g, a, b, dims);
        }
        Tensor gi = dense(g);
        Tensor ai = dense(a);
        Tensor bi = dense(b);
        Tensor forA = output(g.shape(), g.dtype());
        Tensor forB = empty(b.shape(), g.dtype());
        if (f.reduced() > 0) {
            FloatReduce.productSumAndScale(floats(gi), gi.layout().offset(), floats(ai), ai.layout().offset(),
                    f.outer(), f.reduced(), f.inner(), floats(forB), floats(bi), bi.layout().offset(), floats(forA));
        }
        return new Tensor[]{forA, forB};
    }

    /** A shape viewed as [outer, reduced, inner] around consecutive reduced dimensions. */
    private record Folded(int outer, int reduced, int inner) {
        /** The view for {@code dims} (ascending), or null when they are not consecutive. */
        static Folded of(Shape shape, int[] dims) {
            for (int i = 1; i < dims.length; i++) {
                if (dims[i] != dims[i - 1] + 1) {
                    return null;
                }
            }
            int outer = 1;
            int reduced = 1;
            int inner = 1;
            for (int d = 0; d < shape.rank(); d++) {
                if (dims.length > 0 && d < dims[0]) {
                    outer *= shape.dim(d);
                } else if (dims.length > 0 && d <= dims[dims.length - 1]) {
                    reduced *= shape.dim(d);
                } else {
                    inner *= shape.dim(d);
                }
            }
            return new Folded(outer, reduced, inner);
        }
    }

    /** {@code shape} with {@code dims} reduced: kept as size 1 or dropped. */
    private static Shape reducedShape(Shape shape, int[] dims, boolean keepDim) {
        int[] kept = shape.dims();
        for (int d : dims) {
            kept[d] = 1;
        }
        return Shape.of(keepDim ? kept : dropped(shape, dims));
    }

    @Override
    public Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim) {
        if (isLow(x)) {
            return narrowed(reduce(op, widened(x), dims, keepDim), x.dtype());
        }
        if (!isFloat(x)) {
            return super.reduce(op, x, dims, keepDim);
        }
        // Fast when the reduced dimensions are consecutive: x viewed as [outer, reduced, inner].
        Folded f = Folded.of(x.shape(), dims);
        if (f == null) {
            return super.reduce(op, x, dims, keepDim);
        }
        Tensor in = dense(x);
        Tensor out = output(reducedShape(x.shape(), dims, keepDim), x.dtype());
        if (f.reduced() == 0) {
            Arrays.fill(floats(out), (float) op.identity());
            return out;
        }
        boolean oneChunkEach = FloatReduce.rowsPerChunk(f.reduced(), f.inner()) >= f.reduced();
        if (op == ReduceOp.SUM && f.inner() >= 2 && (f.outer() >= CpuThreads.parallelism() || oneChunkEach)) {
            columnSumsPerItem(floats(in), in.layout().offset(), f.outer(), f.reduced(), f.inner(), floats(out));
            return out;
        }
        FloatReduce.reduce(op, floats(in), in.layout().offset(), f.outer(), f.reduced(), f.inner(), floats(out));
        return out;
    }

    /**
     * out[o, :] = the column sums of x[o] ([outer, rows, columns] contiguous from xOff), one item per task, by
     * {@link StreamingColumnSums}: the bits of {@link FloatReduce#reduce}, from the code the fused kernels sum their
     * rows with. Why not FloatReduce: in inference the only such sum is the head's pooling, once a step, and
     * FloatReduce's column loop then ran as C1 code and reached C2 among the measured steps of a fresh process (B0
     * inference, steps 4–10 of a fresh JVM 12–19 % faster this way: bench/NOTES.md, twenty-ninth round), while the
     * fused kernels' column sums are compiled in the first steps (in training too: the bias gradients of the
     * squeeze-excitations' convolutions, [N, Cr] summed over N). With fewer items than threads, FloatReduce, which
     * also splits an item's rows between tasks, unless each item's rows make one chunk (one task each there too).
     */
    private static void columnSumsPerItem(float[] x, int xOff, int outer, int rows, int columns, float[] out) {
        CpuThreads.parallelFor(0, outer, 1, (o0, o1) -> {
            for (int o = o0; o < o1; o++) {
                StreamingColumnSums sums = new StreamingColumnSums(rows, columns);
                sums.add(x, xOff + o * rows * columns, rows);
                sums.finish(out, o * columns);
            }
        });
    }

    private static int[] dropped(Shape s, int[] dims) {
        int[] out = new int[s.rank() - dims.length];
        int j = 0;
        for (int i = 0; i < s.rank(); i++) {
            if (Arrays.binarySearch(dims, i) < 0) {
                out[j++] = s.dim(i);
            }
        }
        return out;
    }

    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        if (isLowPair(a, b)) {
            return narrowed(matmul(widened(a), widened(b)), a.dtype());
        }
        if (!isFloat(a) || !isFloat(b)) {
            return super.matmul(a, b);
        }
        GemmOperand ga = gemmOperand(a);
        GemmOperand gb = gemmOperand(b);
        int batch = Math.max(a.dim(0), b.dim(0));
        int m = a.dim(1);
        int k = a.dim(2);
        int n = b.dim(2);
        Tensor out = output(Shape.of(batch, m, n), a.dtype());
        Sgemm.sgemmBatched(batch, ga.transposed(), gb.transposed(), m, n, k, 1f,
                floats(ga.t()), ga.t().layout().offset(), ga.ld(), ga.batchStride(),
                floats(gb.t()), gb.t().layout().offset(), gb.ld(), gb.batchStride(),
                0f, floats(out), 0, n, m * n);
        return out;
    }

    /** A [B, R, C] operand as Sgemm takes it: row-major (or transposed) matrices with a leading dimension. */
    private record GemmOperand(Tensor t, boolean transposed, int ld, int batchStride) {
    }

    /** Uses {@code t} in place when its matrices have a unit stride in either dimension; else copies it. */
    private GemmOperand gemmOperand(Tensor t) {
        int rows = t.dim(1);
        int cols = t.dim(2);
        int rs = t.layout().stride(1);
        int cs = t.layout().stride(2);
        int bs = t.dim(0) == 1 ? 0 : t.layout().stride(0);
        if ((cs == 1 || cols == 1) && (rows == 1 || rs >= Math.max(cols, 1))) {
            return new GemmOperand(t, false, rows == 1 ? Math.max(cols, 1) : rs, bs);
        }
        if ((rs == 1 || rows == 1) && (cols == 1 || cs >= Math.max(rows, 1))) {
            return new GemmOperand(t, true, cols == 1 ? Math.max(rows, 1) : cs, bs);
        }
        Tensor d = dense(t);
        return new GemmOperand(d, false, Math.max(cols, 1), t.dim(0) == 1 ? 0 : rows * cols);
    }

    private static Conv2dShape convShape(Shape x, Shape w, ConvSpec s) {
        return new Conv2dShape(x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(3), w.dim(0), w.dim(1),
                s.strideH(), s.strideW(), s.padTop(), s.padBottom(), s.padLeft(), s.padRight(),
                s.dilationH(), s.dilationW(), s.groups());
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor w, ConvSpec spec) {
        if (isLowPair(x, w)) {
            return narrowed(conv2d(widened(x), widened(w), spec), x.dtype());
        }
        if (!isFloat(x) || !isFloat(w)) {
            return super.conv2d(x, w, spec);
        }
        Conv2dShape s = convShape(x.shape(), w.shape(), spec);
        Tensor xi = dense(x);
        Tensor wi = dense(w);
        Tensor y = output(Shape.of(s.batch(), s.outHeight(), s.outWidth(), s.outChannels()), x.dtype());
        ConvKernels.forward(s, floats(xi), xi.layout().offset(), floats(wi), wi.layout().offset(), floats(y));
        return y;
    }

    @Override
    public Tensor conv2dGated(Tensor x, Tensor gate, Tensor w, ConvSpec spec) {
        if (!isFloat(x) || !isFloat(gate) || !isFloat(w)) {
            return super.conv2dGated(x, gate, w, spec);
        }
        Conv2dShape s = convShape(x.shape(), w.shape(), spec);
        // Scaling the weights costs Cin·Cout per image, scaling x costs H·W·Cin: fold only where it is cheaper.
        if (!s.isPointwise() || s.groups() != 1 || s.outChannels() >= s.height() * s.width()) {
            return super.conv2dGated(x, gate, w, spec);
        }
        Tensor xi = dense(x);
        Tensor g = dense(gate);
        Tensor wi = dense(w);
        Tensor y = output(Shape.of(s.batch(), s.height(), s.width(), s.outChannels()), x.dtype());
        Conv2dGemm.forwardGated(s, floats(xi), xi.layout().offset(), floats(g), g.layout().offset(), floats(wi),
                wi.layout().offset(), floats(y), null);
        return y;
    }

    @Override
    public GatedConvGrads conv2dGatedBackward(Tensor dy, Tensor x, Tensor gate, Tensor w, ConvSpec spec) {
        if (!isFloat(dy) || !isFloat(x) || !isFloat(gate) || !isFloat(w)) {
            return super.conv2dGatedBackward(dy, x, gate, w, spec);
        }
        Conv2dShape s = convShape(x.shape(), w.shape(), spec);
        // Each image's [Cin, Cout] product is written and read once (2·Cin·Cout floats), against three passes over
        // its H·W·Cin activations saved: worth it where 3·H·W ≥ 2·Cout, not on maps small against Cout (B0's 7²
        // layers, where the separate ops measured 8–28 % faster).
        long products = (long) s.batch() * s.inChannels() * s.outChannels();
        if (!s.isPointwise() || s.groups() != 1 || 3 * s.height() * s.width() < 2 * s.outChannels()
                || products > Integer.MAX_VALUE - 8) {
            return super.conv2dGatedBackward(dy, x, gate, w, spec);
        }
        Tensor g = dense(dy);
        Tensor xi = dense(x);
        Tensor gi = dense(gate);
        Tensor wi = dense(w);
        Tensor dx = output(x.shape(), x.dtype());
        Tensor dgate = output(gate.shape(), x.dtype());
        Tensor dw = output(w.shape(), x.dtype());
        GatedPointwiseBackward.backward(s, floats(g), g.layout().offset(), floats(xi), xi.layout().offset(),
                floats(gi), gi.layout().offset(), floats(wi), wi.layout().offset(), floats(dx), floats(dgate),
                floats(dw));
        return new GatedConvGrads(dx, dgate, dw);
    }

    @Override
    public Tensor conv2dAffine(Tensor x, Tensor inputScale, Tensor w, ConvSpec spec, Tensor scale, Tensor shift,
                               Activation activation) {
        if (!isFloat(x) || !isFloat(w) || !isFloat(scale) || !isFloat(shift)
                || (inputScale != null && !isFloat(inputScale))) {
            return super.conv2dAffine(x, inputScale, w, spec, scale, shift, activation);
        }
        Conv2dShape s = convShape(x.shape(), w.shape(), spec);
        Tensor y = output(Shape.of(s.batch(), s.outHeight(), s.outWidth(), s.outChannels()), x.dtype());
        forwardAffine(s, x, inputScale, dense(w), y, epilogue(s, scale, shift, activation));
        return y;
    }

    /** conv2d(x · inputScale, w) into y (fresh, dense), each finished block of y through {@code epilogue}. */
    private void forwardAffine(Conv2dShape s, Tensor x, Tensor inputScale, Tensor w, Tensor y,
                               ChannelEpilogue epilogue) {
        if (foldsGate(s, inputScale)) {
            // The gate folds into per-image weights: no pass over x to scale it.
            Tensor xi = dense(x);
            Tensor g = dense(inputScale);
            Conv2dGemm.forwardGated(s, floats(xi), xi.layout().offset(), floats(g), g.layout().offset(), floats(w),
                    w.layout().offset(), floats(y), epilogue);
            return;
        }
        Tensor xi = dense(inputScale == null ? x : binary(BinaryOp.MUL, x, inputScale));
        ConvKernels.forward(s, floats(xi), xi.layout().offset(), floats(w), w.layout().offset(), floats(y), epilogue);
    }

    /**
     * Whether {@link #conv2dAffine} folds {@code inputScale} into per-image weights: a per-image gate
     * [N, 1, 1, Cin] before an ungrouped 1×1 convolution, where scaling the weights (Cin·Cout per image) is cheaper
     * than scaling x (H·W·Cin).
     */
    private static boolean foldsGate(Conv2dShape s, Tensor inputScale) {
        return inputScale != null && inputScale.shape().equals(Shape.of(s.batch(), 1, 1, s.inChannels()))
                && s.isPointwise() && s.groups() == 1 && s.outChannels() < s.height() * s.width();
    }

    /**
     * For an ungrouped 1×1 convolution (gate folded into the weights or not) the residual is added by the epilogue
     * of each finished tile, after the affine map: the bits of the default's separate addition. Both paths apply
     * the epilogue in place, so y's element k meets the addend's element k.
     */
    @Override
    public Tensor conv2dAffineResidual(Tensor x, Tensor inputScale, ConvAffine layer, Tensor residual) {
        Conv2dShape s = convShape(x.shape(), layer.weight().shape(), layer.spec());
        Shape out = Shape.of(s.batch(), s.outHeight(), s.outWidth(), s.outChannels());
        if (!s.isPointwise() || s.groups() != 1 || !isFloat(x) || (inputScale != null && !isFloat(inputScale))
                || !isFloat(layer.weight()) || !isFloat(layer.scale()) || !isFloat(layer.shift())
                || !isFloat(residual) || layer.activation() != Activation.NONE || !residual.shape().equals(out)) {
            return super.conv2dAffineResidual(x, inputScale, layer, residual);
        }
        Tensor r = dense(residual);
        // y is fresh (offset 0): the addend's element of y[k] is r[k + r's offset].
        ChannelEpilogue epilogue = epilogue(s, layer.scale(), layer.shift(), Activation.NONE)
                .withAddend(floats(r), r.layout().offset());
        Tensor y = output(out, x.dtype());
        forwardAffine(s, x, inputScale, dense(layer.weight()), y, epilogue);
        return y;
    }

    @Override
    public PooledOutput conv2dAffinePooled(Tensor x, ConvAffine layer) {
        boolean floats = isFloat(x) && isFloat(layer.weight()) && isFloat(layer.scale()) && isFloat(layer.shift());
        Conv2dShape s = convShape(x.shape(), layer.weight().shape(), layer.spec());
        if (!floats || !s.isDepthwise()) {
            return super.conv2dAffinePooled(x, layer);
        }
        ChannelEpilogue epilogue = epilogue(s, layer.scale(), layer.shift(), layer.activation());
        Tensor xi = dense(x);
        Tensor wi = dense(layer.weight());
        Tensor y = output(Shape.of(s.batch(), s.outHeight(), s.outWidth(), s.outChannels()), x.dtype());
        Tensor sums = output(Shape.of(s.batch(), 1, 1, s.outChannels()), x.dtype());
        DepthwiseConv2d.forwardPooled(s, floats(xi), xi.layout().offset(), floats(wi), wi.layout().offset(), floats(y),
                epilogue, floats(sums));
        return new PooledOutput(y, sums);
    }

    /** The per-channel epilogue {@code activation(v·scale + shift)} of a convolution of shape s. */
    private ChannelEpilogue epilogue(Conv2dShape s, Tensor scale, Tensor shift, Activation activation) {
        if (scale.numel() != s.outChannels() || shift.numel() != s.outChannels()) {
            throw new IllegalArgumentException("conv2dAffine: scale " + scale.describe() + " and shift "
                    + shift.describe() + " must have the " + s.outChannels() + " output channels");
        }
        Tensor scaleI = dense(scale);
        Tensor shiftI = dense(shift);
        return new ChannelEpilogue(floats(scaleI), scaleI.layout().offset(), floats(shiftI), shiftI.layout().offset(),
                Objects.requireNonNull(activation, "activation")).withRuns(s.outChannels());
    }

    @Override
    public Tensor conv2dAffineChain(Tensor x, ConvAffine first, ConvAffine second) {
        FusedChain fused = fusedChain(x, first, second, false);
        return fused != null ? fused.output() : super.conv2dAffineChain(x, first, second);
    }

    @Override
    public PooledOutput conv2dAffineChainPooled(Tensor x, ConvAffine first, ConvAffine second) {
        FusedChain fused = fusedChain(x, first, second, true);
        return fused != null ? new PooledOutput(fused.output(), fused.sums())
                : super.conv2dAffineChainPooled(x, first, second);
    }

    /** The output of a fused chain and, if asked for, its sums over H and W (else null). */
    private record FusedChain(Tensor output, Tensor sums) {
    }

    /**
     * The chain as one pass ({@link PointwiseDepthwise}, or {@link SmallChannelDepthwise} after an image stem), with
     * the output's sums over H and W when {@code pooled}; null where neither kernel takes these convolutions.
     */
    private FusedChain fusedChain(Tensor x, ConvAffine first, ConvAffine second, boolean pooled) {
        boolean floats = isFloat(x);
        for (Tensor t : new Tensor[]{first.weight(), first.scale(), first.shift(), second.weight(), second.scale(),
                second.shift()}) {
            floats &= isFloat(t);
        }
        if (!floats) {
            return null;
        }
        Conv2dShape s1 = convShape(x.shape(), first.weight().shape(), first.spec());
        Shape middle = Shape.of(s1.batch(), s1.outHeight(), s1.outWidth(), s1.outChannels());
        Conv2dShape s2 = convShape(middle, second.weight().shape(), second.spec());
        boolean pointwise = PointwiseDepthwise.handles(s1, s2);
        if (!pointwise && !SmallChannelDepthwise.handles(s1, s2)) {
            return null;
        }
        ChannelEpilogue e1 = epilogue(s1, first.scale(), first.shift(), first.activation());
        ChannelEpilogue e2 = epilogue(s2, second.scale(), second.shift(), second.activation());
        Tensor xi = dense(x);
        Tensor w1 = dense(first.weight());
        Tensor w2 = dense(second.weight());
        Tensor y = output(Shape.of(s2.batch(), s2.outHeight(), s2.outWidth(), s2.outChannels()), x.dtype());
        Tensor sums = pooled ? output(Shape.of(s2.batch(), 1, 1, s2.outChannels()), x.dtype()) : null;
        if (pointwise) {
            PointwiseDepthwise.forward(s1, floats(xi), xi.layout().offset(), floats(w1), w1.layout().offset(), e1,
                    s2, floats(w2), w2.layout().offset(), e2, floats(y), sums == null ? null : floats(sums));
        } else {
            SmallChannelDepthwise.forward(s1, floats(xi), xi.layout().offset(), floats(w1), w1.layout().offset(), e1,
                    s2, floats(w2), w2.layout().offset(), e2, floats(y), sums == null ? null : floats(sums));
        }
        return new FusedChain(y, sums);
    }

    @Override
    public Tensor conv2dBackwardInput(Tensor dy, Tensor w, Shape xShape, ConvSpec spec) {
        if (isLowPair(dy, w)) {
            return narrowed(conv2dBackwardInput(widened(dy), widened(w), xShape, spec), dy.dtype());
        }
        if (!isFloat(dy) || !isFloat(w)) {
            return super.conv2dBackwardInput(dy, w, xShape, spec);
        }
        Conv2dShape s = convShape(xShape, w.shape(), spec);
        Tensor g = dense(dy);
        Tensor wi = dense(w);
        Tensor dx = output(xShape, dy.dtype());
        ConvKernels.backwardData(s, floats(g), g.layout().offset(), floats(wi), wi.layout().offset(), floats(dx));
        return dx;
    }

    @Override
    public Tensor conv2dBackwardWeight(Tensor x, Tensor dy, Shape wShape, ConvSpec spec) {
        if (isLowPair(x, dy)) {
            return narrowed(conv2dBackwardWeight(widened(x), widened(dy), wShape, spec), x.dtype());
        }
        if (!isFloat(x) || !isFloat(dy)) {
            return super.conv2dBackwardWeight(x, dy, wShape, spec);
        }
        Conv2dShape s = convShape(x.shape(), wShape, spec);
        Tensor xi = dense(x);
        Tensor g = dense(dy);
        Tensor dw = output(wShape, x.dtype());
        ConvKernels.backwardWeight(s, floats(xi), xi.layout().offset(), floats(g), g.layout().offset(), floats(dw));
        return dw;
    }

    @Override
    public BatchNormResult batchNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        if (!isFloat(x) || !isFloat(weight) || !isFloat(bias)) {
            return super.batchNorm(x, weight, bias, eps);
        }
        Tensor in = dense(x);
        int c = x.dim(-1);
        int rows = x.numel() / c;
        Shape cs = Shape.of(c);
        Tensor mean = empty(cs, x.dtype());
        Tensor var = empty(cs, x.dtype());
        Tensor invStd = empty(cs, x.dtype());
        Tensor y = output(x.shape(), x.dtype());
        FloatBatchNorm.forward(floats(in), in.layout().offset(), rows, c, packed(weight), packed(bias), eps, floats(y), floats(mean), floats(var), floats(invStd));
        return new BatchNormResult(y, mean, var, invStd);
    }

    @Override
    public BatchNormGrads batchNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor invStd) {
        if (!isFloat(dy) || !isFloat(x)) {
            return super.batchNormBackward(dy, x, weight, mean, invStd);
        }
        Tensor xi = dense(x);
        Tensor g = dense(dy);
        int c = x.dim(-1);
        int rows = x.numel() / c;
        Shape cs = Shape.of(c);
        Tensor dx = output(x.shape(), x.dtype());
        Tensor dw = empty(cs, x.dtype());
        Tensor db = empty(cs, x.dtype());
        FloatBatchNorm.backward(floats(g), g.layout().offset(), floats(xi), xi.layout().offset(), rows, c,
                packed(weight), packed(mean), packed(invStd), floats(dx), floats(dw), floats(db));
        return new BatchNormGrads(dx, dw, db);
    }

    @Override
    public BatchNormResult batchNormSilu(Tensor x, Tensor weight, Tensor bias, double eps) {
        if (!isFloat(x) || !isFloat(weight) || !isFloat(bias)) {
            return super.batchNormSilu(x, weight, bias, eps);
        }
        Tensor in = dense(x);
        int c = x.dim(-1);
        Shape cs = Shape.of(c);
        Tensor mean = empty(cs, x.dtype());
        Tensor var = empty(cs, x.dtype());
        Tensor invStd = empty(cs, x.dtype());
        Tensor z = output(x.shape(), x.dtype());
        FloatBatchNormSilu.forward(floats(in), in.layout().offset(), x.numel() / c, c, packed(weight), packed(bias),
                eps, floats(z), floats(mean), floats(var), floats(invStd));
        return new BatchNormResult(z, mean, var, invStd);
    }

    @Override
    public BatchNormResult batchNormSiluDepthwise(Tensor x, Tensor weight, Tensor bias, double eps, Tensor w,
                                                  ConvSpec spec) {
        if (!isFloat(x) || !isFloat(weight) || !isFloat(bias) || !isFloat(w) || x.rank() != 4) {
            return super.batchNormSiluDepthwise(x, weight, bias, eps, w, spec);
        }
        Conv2dShape s = convShape(x.shape(), w.shape(), spec);
        if (!s.isDepthwise()) {
            return super.batchNormSiluDepthwise(x, weight, bias, eps, w, spec);
        }
        return depthwiseOfBatchNormSilu(s, dense(x), null, weight, bias, eps, w);
    }

    /**
     * {@link FloatBatchNormSilu#forwardThroughDepthwise} of a dense float x, with its moments already gathered or
     * (null) gathered there.
     */
    private BatchNormResult depthwiseOfBatchNormSilu(Conv2dShape s, Tensor x, ChunkMoments moments, Tensor weight,
                                                     Tensor bias, double eps, Tensor w) {
        Tensor wi = dense(w);
        Shape cs = Shape.of(x.dim(3));
        Tensor mean = empty(cs, x.dtype());
        Tensor var = empty(cs, x.dtype());
        Tensor invStd = empty(cs, x.dtype());
        Tensor y = output(Shape.of(s.batch(), s.outHeight(), s.outWidth(), s.outChannels()), x.dtype());
        FloatBatchNormSilu.forwardThroughDepthwise(s, floats(x), x.layout().offset(), moments, packed(weight),
                packed(bias), eps, floats(wi), wi.layout().offset(), floats(y), floats(mean), floats(var),
                floats(invStd));
        return new BatchNormResult(y, mean, var, invStd);
    }

    /**
     * The 1×1 product hands each finished tile of x to the batch statistics while it is in cache (tiles aligned to
     * their chunks), so the batch norm reads x once, not twice: the bits of the two calls. Only for maps of at least
     * {@value #MOMENTS_IN_PRODUCT_MIN_ROWS} pixels: the alignment makes the product's tiles coarser, which costs
     * small maps more balance than they gain, and their x is still in cache for the second read anyway.
     */
    @Override
    public PointwiseBatchNormResult pointwiseBatchNormSiluDepthwise(Tensor input, Tensor pointwise,
                                                                    ConvSpec pointwiseSpec, Tensor weight,
                                                                    Tensor bias, double eps, Tensor w,
                                                                    ConvSpec spec) {
        if (!isFloat(input) || !isFloat(pointwise) || !isFloat(weight) || !isFloat(bias) || !isFloat(w)
                || input.rank() != 4 || pointwise.rank() != 4) {
            return super.pointwiseBatchNormSiluDepthwise(input, pointwise, pointwiseSpec, weight, bias, eps, w, spec);
        }
        Conv2dShape p = convShape(input.shape(), pointwise.shape(), pointwiseSpec);
        Shape xShape = Shape.of(p.batch(), p.outHeight(), p.outWidth(), p.outChannels());
        int rows = p.batch() * p.outHeight() * p.outWidth();
        Conv2dShape s = convShape(xShape, w.shape(), spec);
        if (!p.isPointwise() || p.groups() != 1 || rows < MOMENTS_IN_PRODUCT_MIN_ROWS || !s.isDepthwise()) {
            return super.pointwiseBatchNormSiluDepthwise(input, pointwise, pointwiseSpec, weight, bias, eps, w, spec);
        }
        Tensor in = dense(input);
        Tensor pw = dense(pointwise);
        Tensor x = output(xShape, input.dtype());
        ChunkMoments moments = new ChunkMoments(rows, p.outChannels());
        Conv2dGemm.forwardPointwiseMoments(p, floats(in), in.layout().offset(), floats(pw), pw.layout().offset(),
                floats(x), moments);
        return new PointwiseBatchNormResult(x, depthwiseOfBatchNormSilu(s, x, moments, weight, bias, eps, w));
    }

    @Override
    public PooledBatchNorm batchNormSiluPooled(Tensor x, Tensor weight, Tensor bias, double eps) {
        if (!isFloat(x) || !isFloat(weight) || !isFloat(bias) || x.rank() != 4) {
            return super.batchNormSiluPooled(x, weight, bias, eps);
        }
        Tensor in = dense(x);
        int c = x.dim(3);
        Shape cs = Shape.of(c);
        Tensor mean = empty(cs, x.dtype());
        Tensor var = empty(cs, x.dtype());
        Tensor invStd = empty(cs, x.dtype());
        Tensor z = output(x.shape(), x.dtype());
        Tensor sums = output(Shape.of(x.dim(0), 1, 1, c), x.dtype());
        FloatBatchNormSilu.forwardPooled(floats(in), in.layout().offset(), x.dim(0), x.dim(1) * x.dim(2), c,
                packed(weight), packed(bias), eps, floats(z), floats(mean), floats(var), floats(invStd), floats(sums));
        return new PooledBatchNorm(new BatchNormResult(z, mean, var, invStd), sums);
    }

    /**
     * One pass over the channels instead of up to seven elementwise ops on [C] tensors (each a dispatch, a new tensor
     * and, early in a process, a kernel not yet compiled): per layer and call in inference. The same float32
     * operations in the same order as the default, so the same bits.
     *
     * <p>No loop here, only in {@link #evalAffine}: this method runs once a layer, and with the channel loop in it C2
     * compiled it (with the tensor code it inlines) twice during B0's measured first steps, 40–50 ms of the one C2
     * thread; the loop alone compiles in a fraction of that (bench/NOTES.md, twenty-ninth round).
     */
    @Override
    public ChannelAffine batchNormEvalAffine(Tensor runningMean, Tensor runningVar, Tensor bnWeight, Tensor bnBias,
                                             Tensor convBias, double eps) {
        int c = runningVar.numel();
        if (!isChannelVector(runningMean, c) || !isChannelVector(runningVar, c) || !isChannelVector(bnWeight, c)
                || !isChannelVector(bnBias, c) || !isChannelVector(convBias, c)) {
            return super.batchNormEvalAffine(runningMean, runningVar, bnWeight, bnBias, convBias, eps);
        }
        Tensor scale = empty(Shape.of(c), DType.FLOAT32);
        Tensor shift = empty(Shape.of(c), DType.FLOAT32);
        evalAffine(packed(runningMean), packed(runningVar), bnWeight == null ? null : packed(bnWeight),
                bnBias == null ? null : packed(bnBias), convBias == null ? null : packed(convBias), (float) eps, c,
                floats(scale), floats(shift));
        return new ChannelAffine(scale, shift);
    }

    /** Null, or a float32 vector of c elements. */
    private static boolean isChannelVector(Tensor t, int c) {
        return t == null || (isFloat(t) && t.rank() == 1 && t.numel() == c);
    }

    /**
     * {@link #batchNormEvalAffine}'s channels: a = weight·(var + eps)^−½, b = bias − (mean − convShift)·a, with weight,
     * bias and convShift optional (null).
     */
    private static void evalAffine(float[] mean, float[] var, float[] weight, float[] bias, float[] convShift,
                                   float epsilon, int c, float[] a, float[] b) {
        for (int i = 0; i < c; i++) {
            float s = (float) Math.pow(var[i] + epsilon, -0.5);
            if (weight != null) {
                s = weight[i] * s;
            }
            float centre = convShift == null ? mean[i] : mean[i] - convShift[i];
            float t = -(centre * s);
            a[i] = s;
            b[i] = bias == null ? t : bias[i] + t;
        }
    }

    @Override
    public BatchNormGrads batchNormSiluBackward(Tensor dz, Tensor x, Tensor weight, Tensor bias, Tensor mean,
                                                Tensor invStd) {
        return batchNormSiluBackward(dz, null, x, weight, bias, mean, invStd);
    }

    @Override
    public BatchNormGrads batchNormSiluBackward(Tensor dz, Tensor dzPerImage, Tensor x, Tensor weight, Tensor bias,
                                                Tensor mean, Tensor invStd) {
        boolean perImage = dzPerImage != null;
        if (!isFloat(dz) || !isFloat(x) || (perImage && (!isFloat(dzPerImage) || x.rank() != 4
                || !dzPerImage.shape().equals(Shape.of(x.dim(0), 1, 1, x.dim(3)))))) {
            return perImage ? super.batchNormSiluBackward(dz, dzPerImage, x, weight, bias, mean, invStd)
                    : super.batchNormSiluBackward(dz, x, weight, bias, mean, invStd);
        }
        Tensor xi = dense(x);
        Tensor g = dense(dz);
        int c = x.dim(-1);
        Shape cs = Shape.of(c);
        Tensor dx = output(x.shape(), x.dtype());
        Tensor dw = empty(cs, x.dtype());
        Tensor db = empty(cs, x.dtype());
        // Rows of one image share their row of dzPerImage: [N, C] over N·H·W rows.
        FloatBatchNormSilu.Addend addend = perImage
                ? new FloatBatchNormSilu.Addend(packed(dzPerImage), x.dim(1) * x.dim(2)) : null;
        FloatBatchNormSilu.backward(floats(g), g.layout().offset(), addend, floats(xi), xi.layout().offset(),
                x.numel() / c, c, packed(weight), packed(bias), packed(mean), packed(invStd), floats(dx), floats(dw),
                floats(db));
        return new BatchNormGrads(dx, dw, db);
    }

    @Override
    public BatchNormGrads depthwiseBatchNormSiluBackward(Tensor dy, Tensor w, ConvSpec spec, Tensor x, Tensor weight,
                                                         Tensor bias, Tensor mean, Tensor invStd) {
        DepthwiseBatchNormSiluGrads g = fusedDepthwiseBackward(dy, w, spec, x, weight, bias, mean, invStd, false);
        return g != null ? g.batchNorm()
                : super.depthwiseBatchNormSiluBackward(dy, w, spec, x, weight, bias, mean, invStd);
    }

    @Override
    public DepthwiseBatchNormSiluGrads depthwiseBatchNormSiluGrads(Tensor dy, Tensor w, ConvSpec spec, Tensor x,
                                                                   Tensor weight, Tensor bias, Tensor mean,
                                                                   Tensor invStd) {
        DepthwiseBatchNormSiluGrads g = fusedDepthwiseBackward(dy, w, spec, x, weight, bias, mean, invStd, true);
        return g != null ? g : super.depthwiseBatchNormSiluGrads(dy, w, spec, x, weight, bias, mean, invStd);
    }

    /**
     * For float32 tensors, a depthwise convolution and a 1×1 convolution that {@link PointwiseBatchNormBackward}
     * takes: {@link FloatBatchNormSilu#gradientSumsThroughDepthwise} (the batch norm's output gradient, into a
     * temporary handed back at the end), then both products of the 1×1 convolution from the batch norm's input
     * gradient made a block at a time. The same bits as the default's three calls.
     */
    @Override
    public PointwiseBatchNormSiluDepthwiseGrads pointwiseBatchNormSiluDepthwiseGrads(
            Tensor dy, Tensor w, ConvSpec spec, Tensor x, Tensor weight, Tensor bias, Tensor mean, Tensor invStd,
            Tensor input, Tensor pointwise, ConvSpec pointwiseSpec) {
        if (!isFloat(dy) || !isFloat(w) || !isFloat(x) || !isFloat(input) || !isFloat(pointwise) || x.rank() != 4
                || input.rank() != 4) {
            return super.pointwiseBatchNormSiluDepthwiseGrads(dy, w, spec, x, weight, bias, mean, invStd, input,
                    pointwise, pointwiseSpec);
        }
        Conv2dShape s = convShape(x.shape(), w.shape(), spec);
        Conv2dShape p = convShape(input.shape(), pointwise.shape(), pointwiseSpec);
        if (!s.isDepthwise() || !PointwiseBatchNormBackward.handles(p)
                || !Shape.of(p.batch(), p.outHeight(), p.outWidth(), p.outChannels()).equals(x.shape())) {
            return super.pointwiseBatchNormSiluDepthwiseGrads(dy, w, spec, x, weight, bias, mean, invStd, input,
                    pointwise, pointwiseSpec);
        }
        Tensor xi = dense(x);
        Tensor g = dense(dy);
        Tensor wi = dense(w);
        Tensor in = dense(input);
        Tensor pw = dense(pointwise);
        int c = x.dim(3);
        Shape cs = Shape.of(c);
        Tensor dw = empty(cs, x.dtype());
        Tensor db = empty(cs, x.dtype());
        Tensor dFilter = empty(w.shape(), x.dtype());
        Tensor batchNormDy = output(x.shape(), x.dtype());
        float[] gamma = packed(weight);
        float[] mu = packed(mean);
        float[] inverse = packed(invStd);
        double[] sums = FloatBatchNormSilu.gradientSumsThroughDepthwise(s, floats(g), g.layout().offset(), floats(wi),
                wi.layout().offset(), floats(xi), xi.layout().offset(), gamma, packed(bias), mu, inverse,
                floats(batchNormDy), floats(dFilter));
        FloatBatchNorm.InputGradient gradient = FloatBatchNorm.inputGradient(x.numel() / c, c, gamma, mu, inverse,
                sums, floats(dw), floats(db));
        Tensor dInput = output(input.shape(), input.dtype());
        Tensor dPointwise = output(pointwise.shape(), pointwise.dtype());
        PointwiseBatchNormBackward.backward(p, floats(in), in.layout().offset(), floats(pw), pw.layout().offset(),
                floats(batchNormDy), 0, floats(xi), xi.layout().offset(), gradient, floats(dInput),
                floats(dPointwise));
        MemoryScope.handBack(batchNormDy);
        return new PointwiseBatchNormSiluDepthwiseGrads(dInput, dPointwise, dw, db, dFilter);
    }

    /**
     * {@link FloatBatchNormSilu#backwardThroughDepthwise} for float32 x of rank 4 and a depthwise convolution (with
     * the depthwise weight's gradient when {@code withFilter}, else null in its place); null for anything else.
     */
    private DepthwiseBatchNormSiluGrads fusedDepthwiseBackward(Tensor dy, Tensor w, ConvSpec spec, Tensor x,
                                                               Tensor weight, Tensor bias, Tensor mean,
                                                               Tensor invStd, boolean withFilter) {
        if (!isFloat(dy) || !isFloat(w) || !isFloat(x) || x.rank() != 4) {
            return null;
        }
        Conv2dShape s = convShape(x.shape(), w.shape(), spec);
        if (!s.isDepthwise()) {
            return null;
        }
        Tensor xi = dense(x);
        Tensor g = dense(dy);
        Tensor wi = dense(w);
        Shape cs = Shape.of(x.dim(3));
        Tensor dx = output(x.shape(), x.dtype());
        Tensor dw = empty(cs, x.dtype());
        Tensor db = empty(cs, x.dtype());
        Tensor dFilter = withFilter ? empty(w.shape(), x.dtype()) : null;
        FloatBatchNormSilu.backwardThroughDepthwise(s, floats(g), g.layout().offset(), floats(wi),
                wi.layout().offset(), floats(xi), xi.layout().offset(), packed(weight), packed(bias), packed(mean),
                packed(invStd), floats(dx), floats(dw), floats(db), withFilter ? floats(dFilter) : null);
        return new DepthwiseBatchNormSiluGrads(new BatchNormGrads(dx, dw, db), dFilter);
    }

    /** True: the depthwise weight gradient takes its input's rows from the batch norm's backward pass. */
    @Override
    public boolean recomputesDepthwiseInput() {
        return true;
    }

    /** The elements of a float32 tensor in C order from index 0 (its own array when it already is so). */
    private float[] packed(Tensor t) {
        float[] data = floats(t);
        if (t.isContiguous() && t.layout().offset() == 0 && data.length == t.numel()) {
            return data;
        }
        Tensor copy = empty(t.shape(), t.dtype());
        copyInto(t, copy);
        return floats(copy);
    }
}
