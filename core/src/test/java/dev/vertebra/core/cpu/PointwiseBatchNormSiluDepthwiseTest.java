package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Device;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An inverted bottleneck's expansion (a 1×1 convolution), its training batch norm + SiLU and its depthwise layer,
 * with every gradient from one backward ({@link Backend#pointwiseBatchNormSiluDepthwiseGrads},
 * {@link Functional#pointwiseBatchNormSiluDepthwise}). The CPU makes the batch norm's input gradient a block of rows
 * at a time for both of the expansion's products ({@link PointwiseBatchNormBackward}); that must give the bits of
 * the default's three calls on the CPU, and values close to the reference backend's plain loops.
 */
class PointwiseBatchNormSiluDepthwiseTest {
    private static final Backend CPU = Backends.get(Device.CPU);
    private static final Backend REFERENCE = Backends.get(Device.REFERENCE);
    private static final double EPS = 1e-3;

    /** The expansion's input and weight, the batch norm's parameters, the depthwise layer and its output gradient. */
    private record Block(Tensor input, Tensor pointwise, Tensor weight, Tensor bias, Tensor dwWeight, ConvSpec spec,
                        Tensor dy) {
        static Block random(long seed, Shape input, int expanded, int kernel, int stride, Device device) {
            Generator gen = new Generator(seed);
            int n = input.dim(0);
            Tensor in = Init.normal(gen, input, 0.3, 1, device);
            Tensor pointwise = Init.normal(gen, Shape.of(1, 1, input.dim(3), expanded), 0, 0.4, device);
            Tensor weight = Init.uniform(gen, Shape.of(expanded), 0.5, 1.5, device);
            Tensor bias = Init.normal(gen, Shape.of(expanded), 0, 0.5, device);
            Tensor dwWeight = Init.normal(gen, Shape.of(kernel, kernel, 1, expanded), 0, 0.3, device);
            ConvSpec spec = ConvSpec.of(stride, (kernel - 1) / 2, 1, expanded);
            int oh = spec.outHeight(input.dim(1), kernel);
            int ow = spec.outWidth(input.dim(2), kernel);
            Tensor dy = Init.normal(gen, Shape.of(n, oh, ow, expanded), 0, 1, device);
            return new Block(in, pointwise, weight, bias, dwWeight, spec, dy);
        }

        Block on(Device device) {
            return new Block(input.to(device), pointwise.to(device), weight.to(device), bias.to(device),
                    dwWeight.to(device), spec, dy.to(device));
        }

        Conv2dShape pointwiseShape() {
            return Conv2dShape.symmetric(input.dim(0), input.dim(1), input.dim(2), input.dim(3), pointwise.dim(3), 1, 1,
                    0, 1, 1);
        }
    }

    private static final ConvSpec POINTWISE = ConvSpec.of(1, 0, 1, 1);

    @Test
    void theFusedGradientsAreTheThreeCallsBitForBit() {
        // 4 608 pixels: two weight-gradient partials of 2 304 rows; 600 channels make blocks of one K block (256
        // rows, 42 six-row tiles and a ragged one), nine to a partial. 4 757 pixels at 96
        // channels: blocks of 1 280 rows, the second of each partial shorter; a 5×5 stride-2 depthwise layer. 80
        // inputs to 64 channels: more inputs than outputs, the weight gradient's direct form. 16 → 96 at 8 192
        // pixels: four partials, B0's second block's shape in miniature.
        for (Block in : new Block[]{
                Block.random(1, Shape.of(2, 48, 48, 8), 600, 3, 1, Device.CPU),
                Block.random(2, Shape.of(1, 67, 71, 16), 96, 5, 2, Device.CPU),
                Block.random(3, Shape.of(1, 64, 72, 80), 64, 3, 1, Device.CPU),
                Block.random(4, Shape.of(2, 64, 64, 16), 96, 3, 2, Device.CPU)}) {
            assertTrue(PointwiseBatchNormBackward.handles(in.pointwiseShape()), "the fused pass takes it");
            assertFusedMatches(in);
        }
    }

    @Test
    void smallMapsAndNarrowOutputsTakeTheThreeCalls() {
        // 1 568 pixels (B0's 14² layers at batch 8): one weight-gradient partial; 80 → 40: the transposed product.
        Block small = Block.random(5, Shape.of(8, 14, 14, 16), 96, 5, 1, Device.CPU);
        assertFalse(PointwiseBatchNormBackward.handles(small.pointwiseShape()));
        assertFusedMatches(small);
        Block narrow = Block.random(6, Shape.of(1, 64, 72, 80), 40, 3, 1, Device.CPU);
        assertFalse(PointwiseBatchNormBackward.handles(narrow.pointwiseShape()));
        assertFusedMatches(narrow);
    }

    @Test
    void theBatchNormsOutputGradientGoesBackToThePool() {
        Block in = Block.random(7, Shape.of(2, 48, 48, 8), 96, 3, 1, Device.CPU);
        long bytes = 4L * in.input().numel() / 8 * 96; // the batch norm's input's size
        Tensor x = CPU.conv2d(in.input(), in.pointwise(), POINTWISE);
        Backend.BatchNormResult stats = CPU.batchNormSilu(x, in.weight(), in.bias(), EPS);
        MemoryScope.releaseCached();
        try (MemoryScope _ = MemoryScope.open()) {
            CPU.pointwiseBatchNormSiluDepthwiseGrads(in.dy(), in.dwWeight(), in.spec(), x, in.weight(), in.bias(),
                    stats.mean(), stats.invStd(), in.input(), in.pointwise(), POINTWISE);
            assertTrue(MemoryScope.cachedBytes() >= bytes, "the temporary handed back while the scope is open: "
                    + MemoryScope.cachedBytes() + " bytes pooled");
        }
    }

    @Test
    void theOpsGradientsAreTheTwoCallsGradientsBitForBit() {
        Block in = Block.random(8, Shape.of(2, 48, 48, 8), 48, 3, 2, Device.CPU);
        assertGraphMatches(in, true);
        // A frozen expansion weight: the two calls inside the op, the other gradients as before.
        assertGraphMatches(Block.random(9, Shape.of(2, 48, 48, 8), 48, 3, 1, Device.CPU), false);
    }

    private static void assertGraphMatches(Block in, boolean trainedPointwise) {
        float[][] fused = graph(in, true, trainedPointwise);
        float[][] apart = graph(in, false, trainedPointwise);
        String[] names = {"output", "running mean", "running variance", "d input", "d weight", "d bias",
                "d depthwise", "d pointwise"};
        assertEquals(apart.length, fused.length);
        for (int i = 0; i < apart.length; i++) {
            assertArrayEquals(apart[i], fused[i], 0f, names[i]);
        }
    }

    /**
     * The op or the two calls, with running buffers and every input and parameter requiring gradients (the
     * expansion weight only when {@code trainedPointwise}): the output, the running buffers after the step, and the
     * gradients of input, batch norm weight and bias, depthwise weight and the expansion weight, if any.
     */
    private static float[][] graph(Block in, boolean fused, boolean trainedPointwise) {
        Tensor input = in.input().detach().requiresGrad(true);
        Tensor pointwise = in.pointwise().detach().requiresGrad(trainedPointwise);
        Tensor weight = in.weight().detach().requiresGrad(true);
        Tensor bias = in.bias().detach().requiresGrad(true);
        Tensor dwWeight = in.dwWeight().detach().requiresGrad(true);
        int c = pointwise.dim(3);
        Tensor runningMean = Tensor.zeros(Shape.of(c), input.dtype(), Device.CPU);
        Tensor runningVar = Tensor.full(Shape.of(c), input.dtype(), Device.CPU, 1);
        Tensor y = fused
                ? Functional.pointwiseBatchNormSiluDepthwise(input, pointwise, POINTWISE, runningMean, runningVar,
                        weight, bias, 0.1, EPS, dwWeight, in.spec())
                : Functional.batchNormSiluDepthwise(Functional.conv2d(input, pointwise, null, POINTWISE), runningMean,
                        runningVar, weight, bias, 0.1, EPS, dwWeight, in.spec());
        y.mul(in.dy()).sum().backward();
        float[][] out = {y.toFloatArray(), runningMean.toFloatArray(), runningVar.toFloatArray(),
                input.grad().toFloatArray(), weight.grad().toFloatArray(), bias.grad().toFloatArray(),
                dwWeight.grad().toFloatArray(), null};
        if (!trainedPointwise) {
            return Arrays.copyOf(out, out.length - 1);
        }
        assertNotNull(pointwise.grad(), "the expansion weight's gradient");
        out[out.length - 1] = pointwise.grad().toFloatArray();
        return out;
    }

    /**
     * The CPU's op against its three calls (the default: the depthwise and batch norm gradients, then the 1×1
     * convolution's two from the batch norm's input gradient), bit for bit, and against the reference backend.
     */
    private static void assertFusedMatches(Block in) {
        Tensor x = CPU.conv2d(in.input(), in.pointwise(), POINTWISE);
        Backend.BatchNormResult stats = CPU.batchNormSilu(x, in.weight(), in.bias(), EPS);
        Backend.PointwiseBatchNormSiluDepthwiseGrads fused = CPU.pointwiseBatchNormSiluDepthwiseGrads(in.dy(),
                in.dwWeight(), in.spec(), x, in.weight(), in.bias(), stats.mean(), stats.invStd(), in.input(),
                in.pointwise(), POINTWISE);
        Backend.DepthwiseBatchNormSiluGrads depthwise = CPU.depthwiseBatchNormSiluGrads(in.dy(), in.dwWeight(),
                in.spec(), x, in.weight(), in.bias(), stats.mean(), stats.invStd());
        Tensor dx = depthwise.batchNorm().input();
        assertArrayEquals(CPU.conv2dBackwardInput(dx, in.pointwise(), in.input().shape(), POINTWISE).toFloatArray(),
                fused.input().toFloatArray(), 0f, "d input");
        assertArrayEquals(CPU.conv2dBackwardWeight(in.input(), dx, in.pointwise().shape(), POINTWISE)
                .toFloatArray(), fused.pointwiseWeight().toFloatArray(), 0f, "d pointwise");
        assertArrayEquals(depthwise.batchNorm().weight().toFloatArray(), fused.batchNormWeight().toFloatArray(), 0f,
                "d weight");
        assertArrayEquals(depthwise.batchNorm().bias().toFloatArray(), fused.batchNormBias().toFloatArray(), 0f,
                "d bias");
        assertArrayEquals(depthwise.depthwiseWeight().toFloatArray(), fused.depthwiseWeight().toFloatArray(), 0f,
                "d depthwise");

        Block ref = in.on(Device.REFERENCE);
        Tensor refX = REFERENCE.conv2d(ref.input(), ref.pointwise(), POINTWISE);
        Backend.BatchNormResult refStats = REFERENCE.batchNormSilu(refX, ref.weight(), ref.bias(), EPS);
        Backend.PointwiseBatchNormSiluDepthwiseGrads plain = REFERENCE.pointwiseBatchNormSiluDepthwiseGrads(ref.dy(),
                ref.dwWeight(), ref.spec(), refX, ref.weight(), ref.bias(), refStats.mean(), refStats.invStd(),
                ref.input(), ref.pointwise(), POINTWISE);
        assertClose(plain.input(), fused.input(), "reference, d input");
        assertClose(plain.pointwiseWeight(), fused.pointwiseWeight(), "reference, d pointwise");
        assertClose(plain.batchNormWeight(), fused.batchNormWeight(), "reference, d weight");
        assertClose(plain.batchNormBias(), fused.batchNormBias(), "reference, d bias");
        assertClose(plain.depthwiseWeight(), fused.depthwiseWeight(), "reference, d depthwise");
    }

    /** Within 10⁻⁴ of the largest magnitude of {@code expected}, element by element. */
    static void assertClose(Tensor expected, Tensor actual, String what) {
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        assertEquals(e.length, a.length, what);
        double scale = 0;
        for (float v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], 1e-4 * scale, what + " [" + i + "]");
        }
    }
}
