package dev.vertebra.core.reference;

import dev.vertebra.core.Backend;
import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.CpuStorage;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Layout;
import dev.vertebra.core.PoolSpec;
import dev.vertebra.core.ReduceOp;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Storage;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.UnaryOp;
import dev.vertebra.core.io.HostArray;

/**
 * The oracle: every primitive as plain loops over strided indices, accumulating in double. Slow by design and
 * meant to be obviously right; every fast backend is tested against it. Results are rounded once, to the
 * output's dtype.
 */
public class ReferenceBackend implements Backend {
    private final Device device;

    public ReferenceBackend(Device device) {
        this.device = device;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public Storage allocate(DType dtype, int size) {
        return CpuStorage.allocate(dtype, size);
    }

    @Override
    public Storage upload(HostArray data) {
        return CpuStorage.wrap(data);
    }

    @Override
    public HostArray download(Tensor x) {
        CpuStorage out = CpuStorage.allocateUnpooled(x.dtype(), x.numel());   // the caller owns the array
        copyInto(x, Tensor.wrap(out, x.shape(), this));
        return new HostArray(x.dtype(), x.shape().dims(), out.array());
    }

    /** The CPU storage behind a tensor of this backend. */
    protected static CpuStorage cpu(Tensor t) {
        if (t.storage() instanceof CpuStorage s) {
            return s;
        }
        throw new IllegalArgumentException("a CPU backend got " + t.describe());
    }

    /** A new zero-filled contiguous tensor on this backend. */
    protected Tensor empty(Shape shape, DType dtype) {
        return Tensor.wrap(CpuStorage.allocate(dtype, shape.numel()), shape, this);
    }

    /** All elements of {@code t} in C order, as doubles. */
    protected static double[] values(Tensor t) {
        CpuStorage s = cpu(t);
        int[] offsets = t.layout().elementOffsets();
        double[] out = new double[offsets.length];
        for (int i = 0; i < offsets.length; i++) {
            out[i] = s.get(offsets[i]);
        }
        return out;
    }

    /** A contiguous tensor holding {@code v}, rounded to {@code dtype}. */
    protected Tensor fromValues(Shape shape, DType dtype, double[] v) {
        Tensor out = empty(shape, dtype);
        CpuStorage s = cpu(out);
        for (int i = 0; i < v.length; i++) {
            s.set(i, v[i]);
        }
        return out;
    }

    @Override
    public void copyInto(Tensor src, Tensor dst) {
        CpuStorage from = cpu(src);
        CpuStorage to = cpu(dst);
        int[] so = src.layout().expand(dst.shape()).elementOffsets();
        int[] dOff = dst.layout().elementOffsets();
        boolean integral = !src.dtype().isFloating() && !dst.dtype().isFloating();
        for (int i = 0; i < dOff.length; i++) {
            if (integral) {
                to.setLong(dOff[i], from.getLong(so[i]));
            } else {
                to.set(dOff[i], from.get(so[i]));
            }
        }
    }

    @Override
    public Tensor full(Shape shape, DType dtype, double value) {
        Tensor out = empty(shape, dtype);
        CpuStorage s = cpu(out);
        for (int i = 0; i < shape.numel(); i++) {
            s.set(i, value);
        }
        return out;
    }

    @Override
    public Tensor unary(UnaryOp op, Tensor x) {
        double[] v = values(x);
        for (int i = 0; i < v.length; i++) {
            v[i] = op.apply(v[i]);
        }
        return fromValues(x.shape(), x.dtype(), v);
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Shape shape = Shape.broadcast(a.shape(), b.shape());
        CpuStorage sa = cpu(a);
        CpuStorage sb = cpu(b);
        int[] oa = a.layout().expand(shape).elementOffsets();
        int[] ob = b.layout().expand(shape).elementOffsets();
        double[] v = new double[oa.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = op.apply(sa.get(oa[i]), sb.get(ob[i]));
        }
        return fromValues(shape, a.dtype(), v);
    }

    @Override
    public Tensor binaryScalar(BinaryOp op, Tensor a, double scalar) {
        double[] v = values(a);
        for (int i = 0; i < v.length; i++) {
            v[i] = op.apply(v[i], scalar);
        }
        return fromValues(a.shape(), a.dtype(), v);
    }

    @Override
    public Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim) {
        int[] kept = x.shape().dims();
        for (int d : dims) {
            kept[d] = 1;
        }
        Shape keptShape = Shape.of(kept);
        // Walk the input in C order; the output index of each element is the same layout with reduced dims at stride 0.
        int[] outStrides = keptShape.contiguousStrides();
        for (int d : dims) {
            outStrides[d] = 0;
        }
        int[] outIndex = new Layout(x.shape(), outStrides, 0).elementOffsets();
        double[] in = values(x);
        double[] acc = new double[keptShape.numel()];
        java.util.Arrays.fill(acc, op.identity());
        for (int i = 0; i < in.length; i++) {
            acc[outIndex[i]] = op.combine(acc[outIndex[i]], in[i]);
        }
        return fromValues(keepDim ? keptShape : dropDims(x.shape(), dims), x.dtype(), acc);
    }

    private static Shape dropDims(Shape s, int[] dims) {
        int[] out = new int[s.rank() - dims.length];
        int j = 0;
        for (int i = 0; i < s.rank(); i++) {
            if (java.util.Arrays.binarySearch(dims, i) < 0) {
                out[j++] = s.dim(i);
            }
        }
        return Shape.of(out);
    }

    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        int batch = Math.max(a.dim(0), b.dim(0));
        int m = a.dim(1);
        int k = a.dim(2);
        int n = b.dim(2);
        double[] av = values(a);
        double[] bv = values(b);
        double[] out = new double[batch * m * n];
        for (int p = 0; p < batch; p++) {
            int pa = a.dim(0) == 1 ? 0 : p;
            int pb = b.dim(0) == 1 ? 0 : p;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int q = 0; q < k; q++) {
                        acc += av[(pa * m + i) * k + q] * bv[(pb * k + q) * n + j];
                    }
                    out[(p * m + i) * n + j] = acc;
                }
            }
        }
        return fromValues(Shape.of(batch, m, n), a.dtype(), out);
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor w, ConvSpec spec) {
        ConvGeometry g = new ConvGeometry(x.shape(), w.shape(), spec);
        double[] xv = values(x);
        double[] wv = values(w);
        double[] y = new double[g.n() * g.oh() * g.ow() * g.cout()];
        g.forEachTap((yi, xi, wi) -> y[yi] += xv[xi] * wv[wi]);
        return fromValues(Shape.of(g.n(), g.oh(), g.ow(), g.cout()), x.dtype(), y);
    }

    @Override
    public Tensor conv2dBackwardInput(Tensor dy, Tensor w, Shape xShape, ConvSpec spec) {
        ConvGeometry g = new ConvGeometry(xShape, w.shape(), spec);
        double[] dyv = values(dy);
        double[] wv = values(w);
        double[] dx = new double[xShape.numel()];
        g.forEachTap((yi, xi, wi) -> dx[xi] += dyv[yi] * wv[wi]);
        return fromValues(xShape, dy.dtype(), dx);
    }

    @Override
    public Tensor conv2dBackwardWeight(Tensor x, Tensor dy, Shape wShape, ConvSpec spec) {
        ConvGeometry g = new ConvGeometry(x.shape(), wShape, spec);
        double[] xv = values(x);
        double[] dyv = values(dy);
        double[] dw = new double[wShape.numel()];
        g.forEachTap((yi, xi, wi) -> dw[wi] += xv[xi] * dyv[yi]);
        return fromValues(wShape, x.dtype(), dw);
    }

    @Override
    public Tensor pool2d(Tensor x, PoolSpec spec) {
        PoolGeometry g = new PoolGeometry(x.shape(), spec);
        double[] xv = values(x);
        double[] y = new double[g.outputSize()];
        g.forEachWindow((yi, taps, count) -> {
            if (spec.max()) {
                double best = Double.NEGATIVE_INFINITY;
                for (int t = 0; t < count; t++) {
                    double v = xv[taps[t]];
                    if (v > best || Double.isNaN(v)) {
                        best = v;
                    }
                }
                y[yi] = best;
            } else {
                double sum = 0;
                for (int t = 0; t < count; t++) {
                    sum += xv[taps[t]];
                }
                y[yi] = sum / g.divisor(count);
            }
        });
        return fromValues(g.outputShape(), x.dtype(), y);
    }

    @Override
    public Tensor pool2dBackward(Tensor x, Tensor dy, PoolSpec spec) {
        PoolGeometry g = new PoolGeometry(x.shape(), spec);
        double[] xv = values(x);
        double[] dyv = values(dy);
        double[] dx = new double[x.numel()];
        g.forEachWindow((yi, taps, count) -> {
            if (spec.max()) {
                int arg = -1;
                double best = Double.NEGATIVE_INFINITY;
                for (int t = 0; t < count; t++) {
                    if (arg < 0 || xv[taps[t]] > best) {
                        best = xv[taps[t]];
                        arg = taps[t];
                    }
                }
                if (arg >= 0) {
                    dx[arg] += dyv[yi];
                }
            } else {
                double share = dyv[yi] / g.divisor(count);
                for (int t = 0; t < count; t++) {
                    dx[taps[t]] += share;
                }
            }
        });
        return fromValues(x.shape(), x.dtype(), dx);
    }

    @Override
    public BatchNormResult batchNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        int c = x.dim(-1);
        double[] xv = values(x);
        double[] wv = values(weight);
        double[] bv = values(bias);
        int count = xv.length / c;
        double[] mean = new double[c];
        double[] var = new double[c];
        for (int i = 0; i < xv.length; i++) {
            mean[i % c] += xv[i];
        }
        for (int ch = 0; ch < c; ch++) {
            mean[ch] /= count;
        }
        for (int i = 0; i < xv.length; i++) {
            double d = xv[i] - mean[i % c];
            var[i % c] += d * d;
        }
        double[] invStd = new double[c];
        for (int ch = 0; ch < c; ch++) {
            var[ch] /= count;
            invStd[ch] = 1 / Math.sqrt(var[ch] + eps);
        }
        double[] y = new double[xv.length];
        for (int i = 0; i < xv.length; i++) {
            int ch = i % c;
            y[i] = (xv[i] - mean[ch]) * invStd[ch] * wv[ch] + bv[ch];
        }
        Shape cs = Shape.of(c);
        return new BatchNormResult(fromValues(x.shape(), x.dtype(), y), fromValues(cs, x.dtype(), mean),
                fromValues(cs, x.dtype(), var), fromValues(cs, x.dtype(), invStd));
    }

    @Override
    public BatchNormGrads batchNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor invStd) {
        int c = x.dim(-1);
        double[] xv = values(x);
        double[] dyv = values(dy);
        double[] wv = values(weight);
        double[] mv = values(mean);
        double[] is = values(invStd);
        int count = xv.length / c;
        double[] sumDy = new double[c];
        double[] sumDyXhat = new double[c];
        for (int i = 0; i < xv.length; i++) {
            int ch = i % c;
            sumDy[ch] += dyv[i];
            sumDyXhat[ch] += dyv[i] * (xv[i] - mv[ch]) * is[ch];
        }
        double[] dx = new double[xv.length];
        for (int i = 0; i < xv.length; i++) {
            int ch = i % c;
            double xhat = (xv[i] - mv[ch]) * is[ch];
            dx[i] = wv[ch] * is[ch] * (dyv[i] - sumDy[ch] / count - xhat * sumDyXhat[ch] / count);
        }
        Shape cs = Shape.of(c);
        return new BatchNormGrads(fromValues(x.shape(), x.dtype(), dx), fromValues(cs, x.dtype(), sumDyXhat),
                fromValues(cs, x.dtype(), sumDy));
    }

    @Override
    public Tensor gather(Tensor x, int dim, Tensor index) {
        double[] xv = values(x);
        double[] out = new double[index.numel()];
        forEachGathered(x.shape(), dim, index, (i, xi) -> out[i] = xv[xi]);
        return fromValues(index.shape(), x.dtype(), out);
    }

    @Override
    public Tensor scatterAdd(Shape shape, int dim, Tensor index, Tensor src) {
        double[] sv = values(src);
        double[] out = new double[shape.numel()];
        forEachGathered(shape, dim, index, (i, xi) -> out[xi] += sv[i]);
        return fromValues(shape, src.dtype(), out);
    }

    /** Visits (position in index, C-order position in a tensor of {@code shape}) pairs of a gather. */
    private static void forEachGathered(Shape shape, int dim, Tensor index, IndexPairVisitor visitor) {
        CpuStorage is = cpu(index);
        int[] io = index.layout().elementOffsets();
        int[] strides = shape.contiguousStrides();
        int[] idxDims = index.shape().dims();
        int[] pos = new int[idxDims.length];
        for (int i = 0; i < io.length; i++) {
            long target = is.getLong(io[i]);
            if (target < 0 || target >= shape.dim(dim)) {
                throw new IndexOutOfBoundsException("index " + target + " is out of range for dimension " + dim
                        + " of size " + shape.dim(dim));
            }
            int flat = 0;
            for (int d = 0; d < pos.length; d++) {
                flat += (d == dim ? (int) target : pos[d]) * strides[d];
            }
            visitor.visit(i, flat);
            for (int d = pos.length - 1; d >= 0; d--) {
                if (++pos[d] < idxDims[d]) {
                    break;
                }
                pos[d] = 0;
            }
        }
    }

    @FunctionalInterface
    private interface IndexPairVisitor {
        void visit(int indexPosition, int tensorPosition);
    }
}
