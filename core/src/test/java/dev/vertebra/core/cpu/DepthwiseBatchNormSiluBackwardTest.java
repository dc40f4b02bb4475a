package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backward of training batch norm + SiLU whose output feeds a depthwise convolution, with the convolution's input
 * gradient carried through the batch norm row by row ({@link Backend#depthwiseBatchNormSiluBackward},
 * {@link Functional#batchNormSiluDepthwise}). Its batch norm sums add per image row instead of per 256-pixel chunk,
 * so the CPU's values are compared with tolerances: against the same two ops run apart on the CPU and on the
 * reference backend (plain loops). The reference backend runs the two ops for the fused one, so there the op and
 * its two calls agree bit for bit. The CPU also takes the depthwise weight's gradient in that pass, from the batch
 * norm + SiLU output recomputed a row at a time ({@link Backend#depthwiseBatchNormSiluGrads}), so its forward
 * ({@link Backend#batchNormSiluDepthwise}) never writes that output whole.
 */
class DepthwiseBatchNormSiluBackwardTest {
    private static final Backend CPU = Backends.get(Device.CPU);
    private static final Backend REFERENCE = Backends.get(Device.REFERENCE);
    private static final double EPS = 1e-3;

    /** A depthwise layer: batch norm input x [N, H, W, C], its parameters, the convolution, its output gradient. */
    private record Layer(Tensor x, Tensor weight, Tensor bias, Tensor dwWeight, ConvSpec spec, Tensor dy) {
        static Layer random(long seed, Shape shape, int kernel, ConvSpec spec, Device device) {
            Generator gen = new Generator(seed);
            int c = shape.dim(3);
            Tensor x = Init.normal(gen, shape, 0.5, 2, device);
            Tensor weight = Init.uniform(gen, Shape.of(c), 0.5, 1.5, device);
            Tensor bias = Init.normal(gen, Shape.of(c), 0, 0.5, device);
            Tensor dwWeight = Init.normal(gen, Shape.of(kernel, kernel, 1, c), 0, 0.3, device);
            Shape out = Functional.conv2d(x, dwWeight, null, spec).shape();
            return new Layer(x, weight, bias, dwWeight, spec, Init.normal(gen, out, 0, 1, device));
        }

        static Layer random(long seed, Shape shape, int kernel, int stride) {
            return random(seed, shape, kernel, ConvSpec.of(stride, (kernel - 1) / 2, 1, shape.dim(3)), Device.CPU);
        }

        Layer on(Device device) {
            return new Layer(x.to(device), weight.to(device), bias.to(device), dwWeight.to(device), spec,
                    dy.to(device));
        }
    }

    @Test
    void theFusedBackwardMatchesTheTwoOpsOnTheCpuAndTheReferenceBackend() {
        // 16 channels: narrow rows (no preload); 20: a vector tail; 96 and 80: rows preloaded; strides 1 (the forward
        // kernel on dy) and 2 (the gather); 10 × 7: an odd, non-square map; TensorFlow "SAME": asymmetric padding.
        assertFusedMatches(Layer.random(1, Shape.of(2, 9, 9, 16), 3, 1));
        assertFusedMatches(Layer.random(2, Shape.of(2, 10, 7, 20), 5, 2));
        assertFusedMatches(Layer.random(3, Shape.of(3, 8, 8, 96), 3, 2));
        assertFusedMatches(Layer.random(4, Shape.of(1, 7, 7, 80), 5, 1));
        assertFusedMatches(Layer.random(5, Shape.of(2, 10, 10, 64), 3,
                ConvSpec.same(10, 10, 3, 3, 2, 1, 64), Device.CPU));
    }

    @Test
    void theDepthwiseWeightGradientFromRecomputedRowsMatchesTheConvolutionsOwn() {
        // 3×3 stride 1: the nine-sum sweep over three output rows inside, one kernel row at a time at the edges (and
        // a vector tail at 20 channels); 5×5 stride 1 at 80 channels: the five-tap sweep; strides 2 and a dilation
        // of 2: tap by tap; asymmetric padding; a map of one row.
        assertFusedWeightGradientMatches(Layer.random(11, Shape.of(2, 9, 9, 16), 3, 1));
        assertFusedWeightGradientMatches(Layer.random(12, Shape.of(2, 6, 11, 20), 3, 1));
        assertFusedWeightGradientMatches(Layer.random(13, Shape.of(1, 7, 7, 80), 5, 1));
        assertFusedWeightGradientMatches(Layer.random(14, Shape.of(2, 10, 7, 20), 5, 2));
        assertFusedWeightGradientMatches(Layer.random(15, Shape.of(3, 8, 8, 96), 3, 2));
        assertFusedWeightGradientMatches(Layer.random(16, Shape.of(2, 10, 10, 64), 3,
                ConvSpec.same(10, 10, 3, 3, 2, 1, 64), Device.CPU));
        assertFusedWeightGradientMatches(Layer.random(17, Shape.of(2, 9, 9, 24), 3,
                ConvSpec.of(1, 2, 2, 24), Device.CPU));
        assertFusedWeightGradientMatches(Layer.random(18, Shape.of(4, 1, 12, 32), 3, 1));
    }

    /**
     * A channel whose batch norm output lies far below SiLU's range (bias −3·10³⁸): its recomputed z must be 0, as
     * the forward's and the reference's are, though the gradient's exponential is clamped there (a z of y·σ(y) with
     * the clamped σ would be about −0.9).
     */
    @Test
    void aChannelFarBelowTheExponentialsRangeRecomputesZAsZero() {
        Layer in = Layer.random(19, Shape.of(2, 9, 9, 16), 3, 1);
        float[] bias = in.bias().toFloatArray();
        bias[5] = -3e38f;
        Tensor far = Tensor.fromHost(new HostArray(DType.FLOAT32, new int[]{bias.length}, bias), Device.CPU);
        assertFusedWeightGradientMatches(new Layer(in.x(), in.weight(), far, in.dwWeight(), in.spec(), in.dy()));
    }

    @Test
    void theOpsGraphMatchesBatchNormSiluThenTheConvolution() {
        Layer cpu = Layer.random(6, Shape.of(2, 12, 12, 48), 5, 2);
        assertGraphMatches(cpu, 2e-5);
        assertGraphMatches(cpu.on(Device.REFERENCE), 0);
        assertGraphMatches(Layer.random(8, Shape.of(2, 14, 14, 40), 3, 1), 2e-5);
    }

    @Test
    void theForwardIsBatchNormSiluThenTheConvolutionBitForBit() {
        // One 40² × 96 image: more rows than the buffer holds (sub-bands) and four bands for two threads; eight
        // images of 9²: a band each, 20 channels (a vector tail), 5×5 stride 2; asymmetric padding, stride 2.
        assertForwardMatches(Layer.random(21, Shape.of(1, 40, 40, 96), 3, 1));
        assertForwardMatches(Layer.random(22, Shape.of(8, 9, 9, 20), 5, 2));
        assertForwardMatches(Layer.random(23, Shape.of(3, 10, 7, 16), 3,
                ConvSpec.same(10, 7, 3, 3, 2, 1, 16), Device.CPU));
    }

    private static void assertForwardMatches(Layer in) {
        Backend.BatchNormResult fused = CPU.batchNormSiluDepthwise(in.x(), in.weight(), in.bias(), EPS, in.dwWeight(),
                in.spec());
        Backend.BatchNormResult r = CPU.batchNormSilu(in.x(), in.weight(), in.bias(), EPS);
        Tensor y = CPU.conv2d(r.output(), in.dwWeight(), in.spec());
        assertArrayEquals(y.toFloatArray(), fused.output().toFloatArray(), 0f, "y");
        assertArrayEquals(r.mean().toFloatArray(), fused.mean().toFloatArray(), 0f, "mean");
        assertArrayEquals(r.variance().toFloatArray(), fused.variance().toFloatArray(), 0f, "variance");
        assertArrayEquals(r.invStd().toFloatArray(), fused.invStd().toFloatArray(), 0f, "invStd");
    }

    @Test
    void theCpuNeverWritesTheBatchNormOutputAndTheDefaultHandsItBack() {
        Layer in = Layer.random(9, Shape.of(2, 16, 16, 32), 3, 1);
        long bytes = 4L * in.x().numel(); // z's size, and y's (stride 1, as many channels)
        // The CPU allocates y alone (the statistics are below the pool's size floor) and hands nothing back.
        assertArrayEquals(new long[]{0, bytes}, forwardPoolBytes(CPU, in));
        // The default makes z, convolves it and hands z back at once: z's bytes in the pool before the scope ends
        // (the reference backend's ops make a temporary of their own besides).
        long[] byDefault = forwardPoolBytes(REFERENCE, in.on(Device.REFERENCE));
        assertEquals(bytes, byDefault[0], "z handed back");
        assertTrue(byDefault[1] >= 2 * bytes, "z and y allocated");
    }

    /**
     * {@link Backend#batchNormSiluDepthwise} in a scope: the bytes this thread's pool holds right after the call,
     * and after the scope closed (all that the call allocated).
     */
    private static long[] forwardPoolBytes(Backend backend, Layer in) {
        MemoryScope.releaseCached();
        long during;
        try (MemoryScope _ = MemoryScope.open()) {
            Backend.BatchNormResult r = backend.batchNormSiluDepthwise(in.x(), in.weight(), in.bias(), EPS,
                    in.dwWeight(), in.spec());
            assertEquals(in.dy().shape(), r.output().shape(), "the convolution's output");
            during = MemoryScope.cachedBytes();
        }
        return new long[]{during, MemoryScope.cachedBytes()};
    }

    @Test
    void aConvolutionThatIsNotDepthwiseTakesTheTwoOps() {
        Generator gen = new Generator(7);
        Tensor x = Init.normal(gen, Shape.of(2, 6, 6, 8), 0, 1, Device.CPU);
        Tensor w = Init.normal(gen, Shape.of(3, 3, 4, 8), 0, 0.3, Device.CPU); // two groups of four channels
        ConvSpec spec = ConvSpec.of(1, 1, 1, 2);
        Tensor fused = Functional.batchNormSiluDepthwise(x, null, null, null, null, 0.1, EPS, w, spec);
        Tensor apart = Functional.conv2d(Functional.batchNormSilu(x, null, null, null, null, true, 0.1, EPS), w, null,
                spec);
        assertArrayEquals(apart.toFloatArray(), fused.toFloatArray(), 0f);
    }

    private static void assertFusedMatches(Layer in) {
        Backend.BatchNormResult stats = CPU.batchNormSilu(in.x(), in.weight(), in.bias(), EPS);
        Backend.BatchNormGrads fused = CPU.depthwiseBatchNormSiluBackward(in.dy(), in.dwWeight(), in.spec(), in.x(),
                in.weight(), in.bias(), stats.mean(), stats.invStd());
        Tensor dz = CPU.conv2dBackwardInput(in.dy(), in.dwWeight(), in.x().shape(), in.spec());
        Backend.BatchNormGrads apart = CPU.batchNormSiluBackward(dz, in.x(), in.weight(), in.bias(), stats.mean(),
                stats.invStd());
        assertGradsClose(apart, fused, 2e-5, "CPU, two ops");

        Layer ref = in.on(Device.REFERENCE);
        Backend.BatchNormResult refStats = REFERENCE.batchNormSilu(ref.x(), ref.weight(), ref.bias(), EPS);
        Backend.BatchNormGrads plain = REFERENCE.batchNormSiluBackward(
                REFERENCE.conv2dBackwardInput(ref.dy(), ref.dwWeight(), ref.x().shape(), ref.spec()), ref.x(),
                ref.weight(), ref.bias(), refStats.mean(), refStats.invStd());
        assertGradsClose(plain, fused, 1e-4, "reference backend");
    }

    /**
     * {@link Backend#depthwiseBatchNormSiluGrads} on the CPU: the batch norm's gradients are the bits of
     * {@link Backend#depthwiseBatchNormSiluBackward}; the depthwise weight's, summed by input row from a recomputed z,
     * are close to the convolution's weight gradient from the forward's z on the CPU and on the reference backend.
     */
    private static void assertFusedWeightGradientMatches(Layer in) {
        Backend.BatchNormResult stats = CPU.batchNormSilu(in.x(), in.weight(), in.bias(), EPS);
        Backend.DepthwiseBatchNormSiluGrads fused = CPU.depthwiseBatchNormSiluGrads(in.dy(), in.dwWeight(), in.spec(),
                in.x(), in.weight(), in.bias(), stats.mean(), stats.invStd());
        Backend.BatchNormGrads batchNorm = CPU.depthwiseBatchNormSiluBackward(in.dy(), in.dwWeight(), in.spec(),
                in.x(), in.weight(), in.bias(), stats.mean(), stats.invStd());
        assertGradsClose(batchNorm, fused.batchNorm(), 0, "CPU, batch norm's gradients");
        Tensor apart = CPU.conv2dBackwardWeight(stats.output(), in.dy(), in.dwWeight().shape(), in.spec());
        assertClose(apart.toFloatArray(), fused.depthwiseWeight().toFloatArray(), 2e-5, "CPU, depthwise dw");

        Layer ref = in.on(Device.REFERENCE);
        Tensor z = REFERENCE.batchNormSilu(ref.x(), ref.weight(), ref.bias(), EPS).output();
        Tensor plain = REFERENCE.conv2dBackwardWeight(z, ref.dy(), ref.dwWeight().shape(), ref.spec());
        assertClose(plain.toFloatArray(), fused.depthwiseWeight().toFloatArray(), 1e-4, "reference, depthwise dw");
    }

    /** Output, running buffers and all four gradients of the op against batch norm + SiLU, then the convolution. */
    private static void assertGraphMatches(Layer in, double tolerance) {
        float[][] fused = graph(in, true);
        float[][] apart = graph(in, false);
        String[] names = {"output", "running mean", "running variance", "dx", "dweight", "dbias", "depthwise dw"};
        for (int i = 0; i < names.length; i++) {
            // The forward and the running buffers are the same ops in the same order: the same bits.
            assertClose(apart[i], fused[i], i < 3 ? 0 : tolerance, in.x().device() + ", " + names[i]);
        }
    }

    private static float[][] graph(Layer in, boolean fused) {
        Tensor x = in.x().detach().requiresGrad(true);
        Tensor w = in.weight().detach().requiresGrad(true);
        Tensor b = in.bias().detach().requiresGrad(true);
        Tensor dw = in.dwWeight().detach().requiresGrad(true);
        int c = x.dim(3);
        Tensor runningMean = Tensor.zeros(Shape.of(c), x.dtype(), x.device());
        Tensor runningVar = Tensor.full(Shape.of(c), x.dtype(), x.device(), 1);
        Tensor y = fused ? Functional.batchNormSiluDepthwise(x, runningMean, runningVar, w, b, 0.1, EPS, dw, in.spec())
                : Functional.conv2d(Functional.batchNormSilu(x, runningMean, runningVar, w, b, true, 0.1, EPS), dw,
                        null, in.spec());
        y.mul(in.dy()).sum().backward();
        return new float[][]{y.toFloatArray(), runningMean.toFloatArray(), runningVar.toFloatArray(),
                x.grad().toFloatArray(), w.grad().toFloatArray(), b.grad().toFloatArray(), dw.grad().toFloatArray()};
    }

    private static void assertGradsClose(Backend.BatchNormGrads expected, Backend.BatchNormGrads actual,
                                         double tolerance, String what) {
        assertClose(expected.input().toFloatArray(), actual.input().toFloatArray(), tolerance, what + ", dx");
        assertClose(expected.weight().toFloatArray(), actual.weight().toFloatArray(), tolerance, what + ", dweight");
        assertClose(expected.bias().toFloatArray(), actual.bias().toFloatArray(), tolerance, what + ", dbias");
    }

    /** Each |actual − expected| within tolerance · (|expected| + the largest |expected|); 0: the same bits. */
    private static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        if (tolerance == 0) {
            assertArrayEquals(expected, actual, 0f, what);
            return;
        }
        assertTrue(expected.length == actual.length, what + ": lengths differ");
        double scale = 0;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs((double) actual[i] - expected[i]);
            int at = i;
            assertTrue(error <= tolerance * (Math.abs(expected[i]) + scale),
                    () -> what + "[" + at + "]: expected " + expected[at] + ", got " + actual[at]);
        }
    }
}
