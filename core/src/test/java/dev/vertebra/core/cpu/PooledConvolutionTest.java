package dev.vertebra.core.cpu;

import dev.vertebra.core.Activation;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Device;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Functional.ConvBatchNorm;
import dev.vertebra.core.Functional.OutputAndMean;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.ReduceOp;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Evaluation convolutions that also pool their output for a squeeze-excitation
 * ({@link Functional#conv2dBatchNormEvalWithMean}, {@link Functional#conv2dBatchNormEvalChainWithMean}) give the
 * output of the plain call and the mean {@link Functional#globalAvgPool} takes of it, bit for bit: summed row by row
 * where a task holds whole images (a batch of at least twice the threads), after the pass otherwise, and through
 * the backend's default where no fused kernel takes the layer.
 */
class PooledConvolutionTest {

    @ParameterizedTest(name = "[{0}, {1}, {2}, {3}] {4}×{4} s{5}")
    @CsvSource({
            // B0's first block at a smaller size: whole images per task, 1600 pixels cross the reduction's chunks.
            "8, 40, 40, 32, 3, 1",
            "8, 17, 23, 40, 5, 2",
            // One image: rows split between the threads, sums after the pass.
            "1, 30, 29, 48, 3, 1",
            // Fewer channels than a vector.
            "8, 9, 9, 3, 3, 1",
    })
    void depthwiseLayerPoolsTheBitsOfGlobalAvgPool(int n, int h, int w, int c, int k, int stride) {
        Generator gen = new Generator(7L * h + c);
        Tensor x = Init.normal(gen, Shape.of(n, h, w, c), 0, 1, Device.CPU);
        ConvBatchNorm layer = layer(gen, Shape.of(k, k, 1, c), ConvSpec.of(stride, k / 2, 1, c));

        OutputAndMean pooled = Functional.conv2dBatchNormEvalWithMean(x, layer);
        assertEquals(Shape.of(n, 1, 1, c), pooled.mean().shape());
        assertPlainOutputAndItsPool(Functional.conv2dBatchNormEval(x, null, layer), pooled);
    }

    @Test
    void chainPoolsTheBitsOfGlobalAvgPool() {
        Generator gen = new Generator(3);
        Tensor x = Init.normal(gen, Shape.of(8, 20, 18, 16), 0, 1, Device.CPU);
        ConvBatchNorm expansion = layer(gen, Shape.of(1, 1, 16, 96), ConvSpec.of(1, 0, 1, 1));
        ConvBatchNorm depthwise = layer(gen, Shape.of(5, 5, 1, 96), ConvSpec.of(2, 2, 1, 96));

        assertPlainOutputAndItsPool(Functional.conv2dBatchNormEvalChain(x, expansion, depthwise),
                Functional.conv2dBatchNormEvalChainWithMean(x, expansion, depthwise));
    }

    /** A dense convolution has no pooled kernel: the backend's default gives the same result. */
    @Test
    void denseLayerTakesTheDefault() {
        Generator gen = new Generator(5);
        Tensor x = Init.normal(gen, Shape.of(8, 12, 12, 8), 0, 1, Device.CPU);
        ConvBatchNorm layer = layer(gen, Shape.of(3, 3, 8, 24), ConvSpec.of(1, 1, 1, 1));

        assertPlainOutputAndItsPool(Functional.conv2dBatchNormEval(x, null, layer),
                Functional.conv2dBatchNormEvalWithMean(x, layer));
    }

    /** The pooled op's output is the plain op's, its mean that of {@link Functional#globalAvgPool}, bit for bit. */
    private static void assertPlainOutputAndItsPool(Tensor plain, OutputAndMean pooled) {
        assertArrayEquals(plain.toFloatArray(), pooled.output().toFloatArray(), "output");
        assertArrayEquals(Functional.globalAvgPool(plain).toFloatArray(), pooled.mean().toFloatArray(), "mean");
    }

    /** The kernel itself, against its own forward pass and the reduction. */
    @Test
    void kernelSumsEqualTheReductionOfItsOutput() {
        Generator gen = new Generator(11);
        Conv2dShape s = new Conv2dShape(8, 21, 19, 64, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 64);
        float[] x = Init.normal(gen, Shape.of(8, 21, 19, 64), 0, 1, Device.CPU).toFloatArray();
        float[] w = Init.normal(gen, Shape.of(3, 3, 1, 64), 0, 0.3, Device.CPU).toFloatArray();
        ChannelEpilogue epilogue = new ChannelEpilogue(
                Init.uniform(gen, Shape.of(64), 0.5, 1.5, Device.CPU).toFloatArray(), 0,
                Init.normal(gen, Shape.of(64), 0, 1, Device.CPU).toFloatArray(), 0, Activation.SILU);
        float[] want = new float[(int) s.outputSize()];
        DepthwiseConv2d.forward(s, x, 0, w, 0, null, 0, want, 0, false, epilogue);
        int pixels = s.outHeight() * s.outWidth();
        float[] wantSums = new float[8 * 64];
        FloatReduce.reduce(ReduceOp.SUM, want, 0, 8, pixels, 64, wantSums);

        float[] y = new float[want.length];
        float[] sums = new float[wantSums.length];
        DepthwiseConv2d.forwardPooled(s, x, 0, w, 0, y, epilogue, sums);
        assertArrayEquals(want, y, "output");
        assertArrayEquals(wantSums, sums, "sums");
    }

    private static ConvBatchNorm layer(Generator gen, Shape weight, ConvSpec spec) {
        int c = weight.dim(3);
        return new ConvBatchNorm(Init.normal(gen, weight, 0, 0.3, Device.CPU), null, spec,
                Init.normal(gen, Shape.of(c), 0, 0.2, Device.CPU), Init.uniform(gen, Shape.of(c), 0.5, 1.5, Device.CPU),
                Init.uniform(gen, Shape.of(c), 0.5, 1.5, Device.CPU), Init.normal(gen, Shape.of(c), 0, 1, Device.CPU),
                1e-3, Activation.SILU);
    }
}
