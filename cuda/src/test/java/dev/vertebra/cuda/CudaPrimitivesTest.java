package dev.vertebra.cuda;

import dev.vertebra.core.Backend;
import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.DType;
import dev.vertebra.core.PoolSpec;
import dev.vertebra.core.ReduceOp;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.UnaryOp;
import dev.vertebra.core.io.HostArray;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static dev.vertebra.cuda.GpuFixture.Pair;
import static dev.vertebra.cuda.GpuFixture.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** GPU only: every primitive of {@link CudaBackend} against the reference backend on small random inputs. */
class CudaPrimitivesTest {
    private CudaBackend gpu;
    private Backend ref;
    private final Random rnd = new Random(42);

    @BeforeEach
    void open() {
        gpu = GpuFixture.requireGpu();
        ref = GpuFixture.reference();
    }

    @Test
    void unaryOpsOnContiguousAndPermutedInputs() {
        for (UnaryOp op : UnaryOp.values()) {
            boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT;
            Pair x = Pair.random(rnd, positive ? 0.1 : -4, 4, 3, 5, 7);
            assertClose(ref.unary(op, x.ref()), gpu.unary(op, x.gpu()), op.name());
            Pair t = x.map(v -> v.permute(2, 0, 1));
            assertClose(ref.unary(op, t.ref()), gpu.unary(op, t.gpu()), op + " permuted");
        }
    }

    @Test
    void unaryNanHandling() {
        float[] v = {Float.NaN, -0f, 0f, -2, 3, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        Pair x = Pair.of(new HostArray(DType.FLOAT32, new int[]{v.length}, v));
        for (UnaryOp op : UnaryOp.values()) {
            assertClose(ref.unary(op, x.ref()), gpu.unary(op, x.gpu()), op + " on special values");
        }
    }

    @Test
    void binaryOpsWithBroadcasting() {
        for (BinaryOp op : BinaryOp.values()) {
            double lo = op == BinaryOp.POW ? 0.1 : -3;
            Pair a = Pair.random(rnd, lo, 3, 4, 1, 5);
            Pair b = Pair.random(rnd, -2, 2, 3, 1);
            assertClose(ref.binary(op, a.ref(), b.ref()), gpu.binary(op, a.gpu(), b.gpu()), op.name());
            Pair c = Pair.random(rnd, lo, 3, 4, 3, 5);
            assertClose(ref.binary(op, c.ref(), c.ref()), gpu.binary(op, c.gpu(), c.gpu()), op + " same operand");
            assertClose(ref.binaryScalar(op, a.ref(), 0.7), gpu.binaryScalar(op, a.gpu(), 0.7), op + " scalar");
        }
    }

    @Test
    void maximumAndMinimumPropagateNan() {
        float[] av = {Float.NaN, 1, -0f, 2};
        float[] bv = {1, Float.NaN, 0f, -5};
        Pair a = Pair.of(new HostArray(DType.FLOAT32, new int[]{4}, av));
        Pair b = Pair.of(new HostArray(DType.FLOAT32, new int[]{4}, bv));
        for (BinaryOp op : List.of(BinaryOp.MAX, BinaryOp.MIN)) {
            assertClose(ref.binary(op, a.ref(), b.ref()), gpu.binary(op, a.gpu(), b.gpu()), op + " with NaN");
            assertClose(ref.binaryScalar(op, a.ref(), Double.NaN), gpu.binaryScalar(op, a.gpu(), Double.NaN),
                    op + " with a NaN scalar");
        }
        for (ReduceOp op : ReduceOp.values()) {
            assertClose(ref.reduce(op, a.ref(), new int[]{0}, false), gpu.reduce(op, a.gpu(), new int[]{0}, false),
                    op + " over NaN");
        }
    }

    @Test
    void reductionsOverChosenDimensions() {
        Pair x = Pair.random(rnd, -3, 3, 4, 5, 6);
        Pair permuted = x.map(t -> t.permute(1, 2, 0));
        int[][] dimSets = {{0}, {1}, {2}, {0, 2}, {1, 2}, {0, 1, 2}};
        for (ReduceOp op : ReduceOp.values()) {
            for (int[] dims : dimSets) {
                for (boolean keep : new boolean[]{false, true}) {
                    String what = op + " over " + java.util.Arrays.toString(dims) + (keep ? " kept" : "");
                    assertClose(ref.reduce(op, x.ref(), dims, keep), gpu.reduce(op, x.gpu(), dims, keep), what);
                    assertClose(ref.reduce(op, permuted.ref(), dims, keep), gpu.reduce(op, permuted.gpu(), dims, keep),
                            what + " permuted");
                }
            }
        }
        Pair big = Pair.random(rnd, -1, 1, 3, 5000);
        assertClose(ref.reduce(ReduceOp.SUM, big.ref(), new int[]{1}, false),
                gpu.reduce(ReduceOp.SUM, big.gpu(), new int[]{1}, false), 1e-4, 1e-5, "long rows");
    }

    @Test
    void matmulWithTransposedBroadcastAndStridedOperands() {
        Pair a = Pair.random(rnd, -1, 1, 2, 3, 4);
        Pair b = Pair.random(rnd, -1, 1, 2, 4, 5);
        assertClose(ref.matmul(a.ref(), b.ref()), gpu.matmul(a.gpu(), b.gpu()), "plain");
        Pair at = Pair.random(rnd, -1, 1, 2, 4, 3).map(t -> t.transpose(1, 2));
        assertClose(ref.matmul(at.ref(), b.ref()), gpu.matmul(at.gpu(), b.gpu()), "transposed a");
        Pair bt = Pair.random(rnd, -1, 1, 2, 5, 4).map(t -> t.transpose(1, 2));
        assertClose(ref.matmul(a.ref(), bt.ref()), gpu.matmul(a.gpu(), bt.gpu()), "transposed b");
        Pair shared = Pair.random(rnd, -1, 1, 1, 4, 5).map(t -> t.expand(Shape.of(2, 4, 5)));
        assertClose(ref.matmul(a.ref(), shared.ref()), gpu.matmul(a.gpu(), shared.gpu()), "broadcast batch");
        Pair strided = Pair.random(rnd, -1, 1, 2, 3, 8).map(t -> t.permute(0, 2, 1).narrow(1, 2, 4)
                .transpose(1, 2));
        assertClose(ref.matmul(strided.ref(), b.ref()), gpu.matmul(strided.gpu(), b.gpu()), "narrowed view");
        Pair oddStride = Pair.random(rnd, -1, 1, 2, 6, 8).map(t -> t.narrow(1, 0, 3).narrow(2, 0, 4));
        assertClose(ref.matmul(oddStride.ref(), b.ref()), gpu.matmul(oddStride.gpu(), b.gpu()), "padded rows");
        HostArray ad = new HostArray(DType.FLOAT64, new int[]{1, 3, 2}, new double[]{1, 2, 3, 4, 5, 6});
        HostArray bd = new HostArray(DType.FLOAT64, new int[]{1, 2, 2}, new double[]{0.5, -1, 2, 0.25});
        Pair a64 = Pair.of(ad);
        Pair b64 = Pair.of(bd);
        assertClose(ref.matmul(a64.ref(), b64.ref()), gpu.matmul(a64.gpu(), b64.gpu()), 1e-12, 1e-12, "float64");
    }

    private void checkConv(String what, int n, int h, int w, int cin, int kh, int kw, int cout, ConvSpec spec) {
        Pair x = Pair.random(rnd, -1, 1, n, h, w, cin);
        Pair wt = Pair.random(rnd, -1, 1, kh, kw, cin / spec.groups(), cout);
        Tensor yRef = ref.conv2d(x.ref(), wt.ref(), spec);
        assertClose(yRef, gpu.conv2d(x.gpu(), wt.gpu(), spec), 1e-4, 1e-4, what + " forward");
        Pair dy = Pair.random(rnd, -1, 1, yRef.shape().dims());
        assertClose(ref.conv2dBackwardInput(dy.ref(), wt.ref(), x.ref().shape(), spec),
                gpu.conv2dBackwardInput(dy.gpu(), wt.gpu(), x.gpu().shape(), spec), 1e-4, 1e-4, what + " dx");
        assertClose(ref.conv2dBackwardWeight(x.ref(), dy.ref(), wt.ref().shape(), spec),
                gpu.conv2dBackwardWeight(x.gpu(), dy.gpu(), wt.gpu().shape(), spec), 1e-4, 1e-4, what + " dw");
    }

    @Test
    void convolutions() {
        checkConv("3x3 s1 p1", 2, 6, 7, 3, 3, 3, 4, ConvSpec.of(1, 1, 1, 1));
        checkConv("3x3 s2 SAME", 2, 7, 8, 3, 3, 3, 5, ConvSpec.same(7, 8, 3, 3, 2, 1, 1));
        checkConv("5x3 dilated", 1, 9, 8, 2, 5, 3, 3, new ConvSpec(1, 2, 2, 1, 0, 3, 2, 1, 1));
        checkConv("grouped", 2, 5, 5, 4, 3, 3, 6, ConvSpec.of(1, 1, 1, 2));
        checkConv("depthwise", 2, 6, 6, 5, 3, 3, 5, ConvSpec.of(2, 1, 1, 5));
        checkConv("depthwise ×2", 1, 5, 6, 3, 3, 3, 6, ConvSpec.of(1, 1, 1, 3));
        checkConv("pointwise", 2, 4, 5, 6, 1, 1, 7, ConvSpec.of(1, 0, 1, 1));
        checkConv("1x1 stride 2", 2, 5, 5, 3, 1, 1, 4, ConvSpec.of(2, 0, 1, 1));
    }

    @Test
    void depthwiseKernelsOverSeveralBlocksOfChannelsAndRows() {
        // Channel counts around the kernels' 32-channel blocks; 3x3 and 5x5 take the kernels with the weights (and
        // the weight gradient's sums) in registers, 7x7, 3x5 and the channel multiplier the general ones; stride 3
        // divides where strides 1 and 2 shift.
        checkConv("depthwise 3x3 s1, 40 channels", 3, 17, 19, 40, 3, 3, 40, ConvSpec.of(1, 1, 1, 40));
        checkConv("depthwise 3x3 s2 SAME, 72 channels", 3, 17, 19, 72, 3, 3, 72, ConvSpec.same(17, 19, 3, 3, 2, 1, 72));
        checkConv("depthwise 5x5 s1 SAME, 33 channels", 2, 13, 11, 33, 5, 5, 33, ConvSpec.same(13, 11, 5, 5, 1, 1, 33));
        checkConv("depthwise 5x5 s2 SAME, 64 channels", 2, 15, 16, 64, 5, 5, 64, ConvSpec.same(15, 16, 5, 5, 2, 1, 64));
        checkConv("depthwise 3x3 dilated, multiplier 2", 2, 12, 13, 20, 3, 3, 40, ConvSpec.of(1, 2, 2, 20));
        checkConv("depthwise 3x3 stride 3", 2, 16, 14, 24, 3, 3, 24, ConvSpec.of(3, 1, 1, 24));
        checkConv("depthwise 7x7", 2, 10, 9, 8, 7, 7, 8, ConvSpec.of(1, 3, 1, 8));
        checkConv("depthwise 3x5", 2, 10, 9, 36, 3, 5, 36, new ConvSpec(1, 1, 1, 1, 2, 2, 1, 1, 36));
    }

    @Test
    void convolutionOfAStridedInput() {
        Pair x = Pair.random(rnd, -1, 1, 2, 3, 5, 6).map(t -> t.permute(0, 2, 1, 3).narrow(3, 1, 4));
        Pair wt = Pair.random(rnd, -1, 1, 3, 3, 4, 2);
        ConvSpec spec = ConvSpec.of(1, 1, 1, 1);
        assertClose(ref.conv2d(x.ref(), wt.ref(), spec), gpu.conv2d(x.gpu(), wt.gpu(), spec), 1e-4, 1e-4, "view");
    }

    @Test
    void pooling() {
        List<PoolSpec> specs = List.of(PoolSpec.max(3, 2, 1), PoolSpec.avg(3, 2, 1), PoolSpec.max(2, 2, 0),
                new PoolSpec(false, 3, 3, 2, 2, 1, 1, 1, 1, false), new PoolSpec(true, 3, 2, 1, 2, 1, 0, 1, 0, true));
        for (PoolSpec spec : specs) {
            Pair x = Pair.random(rnd, -2, 2, 2, 7, 6, 3);
            Tensor yRef = ref.pool2d(x.ref(), spec);
            assertClose(yRef, gpu.pool2d(x.gpu(), spec), spec + " forward");
            Pair dy = Pair.random(rnd, -1, 1, yRef.shape().dims());
            assertClose(ref.pool2dBackward(x.ref(), dy.ref(), spec), gpu.pool2dBackward(x.gpu(), dy.gpu(), spec),
                    spec + " backward");
        }
        float[] ties = new float[2 * 4 * 4];
        Pair flat = Pair.of(new HostArray(DType.FLOAT32, new int[]{1, 4, 4, 2}, ties));
        Pair dy = Pair.random(rnd, -1, 1, 1, 2, 2, 2);
        PoolSpec spec = PoolSpec.max(3, 2, 1);
        assertClose(ref.pool2dBackward(flat.ref(), dy.ref(), spec), gpu.pool2dBackward(flat.gpu(), dy.gpu(), spec),
                "ties go to the first maximum");
    }

    @Test
    void batchNormForwardAndBackward() {
        Pair x = Pair.random(rnd, -2, 3, 2, 3, 3, 5);
        Pair w = Pair.random(rnd, 0.5, 1.5, 5);
        Pair b = Pair.random(rnd, -1, 1, 5);
        Backend.BatchNormResult r = ref.batchNorm(x.ref(), w.ref(), b.ref(), 1e-5);
        Backend.BatchNormResult g = gpu.batchNorm(x.gpu(), w.gpu(), b.gpu(), 1e-5);
        assertClose(r.output(), g.output(), "output");
        assertClose(r.mean(), g.mean(), "mean");
        assertClose(r.variance(), g.variance(), "variance");
        assertClose(r.invStd(), g.invStd(), "invStd");
        Pair dy = Pair.random(rnd, -1, 1, 2, 3, 3, 5);
        Backend.BatchNormGrads rg = ref.batchNormBackward(dy.ref(), x.ref(), w.ref(), r.mean(), r.invStd());
        Backend.BatchNormGrads gg = gpu.batchNormBackward(dy.gpu(), x.gpu(), w.gpu(), g.mean(), g.invStd());
        assertClose(rg.input(), gg.input(), 1e-4, 1e-4, "dx");
        assertClose(rg.weight(), gg.weight(), 1e-4, 1e-4, "dweight");
        assertClose(rg.bias(), gg.bias(), 1e-4, 1e-4, "dbias");
        Pair many = Pair.random(rnd, -1, 1, 3000, 40);
        Pair w40 = Pair.random(rnd, 0.5, 1.5, 40);
        Pair b40 = Pair.random(rnd, -1, 1, 40);
        assertClose(ref.batchNorm(many.ref(), w40.ref(), b40.ref(), 1e-3).output(),
                gpu.batchNorm(many.gpu(), w40.gpu(), b40.gpu(), 1e-3).output(), 1e-4, 1e-4, "many rows");
    }

    @Test
    void gatherAndScatterAdd() {
        Pair x = Pair.random(rnd, -1, 1, 3, 4);
        long[] idx = {0, 3, 3, 1, 2, 2};
        Pair index = Pair.of(new HostArray(DType.INT64, new int[]{3, 2}, idx));
        assertClose(ref.gather(x.ref(), 1, index.ref()), gpu.gather(x.gpu(), 1, index.gpu()), "gather dim 1");
        Pair src = Pair.random(rnd, -1, 1, 3, 2);
        assertClose(ref.scatterAdd(Shape.of(3, 4), 1, index.ref(), src.ref()),
                gpu.scatterAdd(Shape.of(3, 4), 1, index.gpu(), src.gpu()), "scatterAdd dim 1");
        Pair rows = Pair.of(new HostArray(DType.INT64, new int[]{2, 4}, new long[]{2, 0, 1, 2, 0, 0, 2, 1}));
        assertClose(ref.gather(x.ref(), 0, rows.ref()), gpu.gather(x.gpu(), 0, rows.gpu()), "gather dim 0");
        Pair bad = Pair.of(new HostArray(DType.INT64, new int[]{1, 1}, new long[]{4}));
        assertThrows(IndexOutOfBoundsException.class, () -> gpu.gather(x.gpu(), 1, bad.gpu()));
    }

    @Test
    void float64IsRefusedClearlyWhereOnlyFloat32IsImplemented() {
        Pair x = Pair.of(new HostArray(DType.FLOAT64, new int[]{1, 2, 2, 1}, new double[]{1, 2, 3, 4}));
        assertThrows(UnsupportedOperationException.class, () -> gpu.pool2d(x.gpu(), PoolSpec.max(2, 2, 0)));
        Pair ints = Pair.of(new HostArray(DType.INT32, new int[]{2}, new int[]{1, 2}));
        assertThrows(UnsupportedOperationException.class, () -> gpu.unary(UnaryOp.EXP, ints.gpu()));
    }
}
