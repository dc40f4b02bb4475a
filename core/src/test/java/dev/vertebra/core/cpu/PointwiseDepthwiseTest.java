package dev.vertebra.core.cpu;

import dev.vertebra.core.Activation;
import dev.vertebra.core.Backend;
import dev.vertebra.core.Backend.ConvAffine;
import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.ReduceOp;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fused expansion → depthwise chain ({@link PointwiseDepthwise}, called directly and through
 * {@link Backend#conv2dAffineChain}) gives the bits of the two convolutions run one after the other: the same GEMM
 * per element and the same row kernel, whatever the bands, sub-bands and halo rows carried between them; its sums
 * over H and W ({@link Backend#conv2dAffineChainPooled}) are the reduction's bits, taken row by row or after the
 * pass. The same for an image stem then a depthwise layer ({@link SmallChannelDepthwise}). (The conformance suite
 * checks the op against the reference backend.)
 */
class PointwiseDepthwiseTest {

    @ParameterizedTest(name = "[{0}, {1}, {2}, {3}] → {4}, {5}×{5} s{6}, TF-same {7}")
    @CsvSource({
            // B0's second block at a smaller size: 3×3 stride 2 on the 6× expansion.
            "2, 24, 24, 16, 96, 3, 2, false",
            // One image: the rows are split into bands for both threads; 5×5 stride 1 keeps four halo rows.
            "1, 29, 17, 24, 144, 5, 1, false",
            // Rows wide enough that a band walks several sub-bands and carries their shared rows forward; stride 2
            // with TensorFlow's asymmetric padding.
            "1, 41, 40, 16, 400, 5, 2, true",
            "3, 40, 33, 8, 260, 3, 1, true",
            // Channels that are not a whole number of vectors, a tiny image.
            "2, 5, 4, 12, 20, 3, 1, false",
            "2, 7, 7, 40, 240, 5, 2, false",
            // Whole images per task (a batch of at least twice the threads), so the sums are taken row by row;
            // 1600 pixels cross the reduction's chunks (170 rows at 96 channels) and float runs.
            "8, 40, 40, 8, 96, 3, 1, false",
            "8, 15, 13, 12, 36, 5, 2, true",
    })
    void matchesTheTwoConvolutionsBitForBit(int n, int h, int w, int cin, int c, int k, int stride, boolean tfSame) {
        Generator gen = new Generator(31L * h + c);
        Tensor x = Init.normal(gen, Shape.of(n, h, w, cin), 0, 1, Device.CPU);
        ConvSpec pointwise = ConvSpec.of(1, 0, 1, 1);
        ConvSpec depthwise = tfSame ? ConvSpec.same(h, w, k, k, stride, 1, c) : ConvSpec.of(stride, k / 2, 1, c);
        ConvAffine first = layer(gen, Shape.of(1, 1, cin, c), pointwise, 0.3, Activation.SILU);
        ConvAffine second = layer(gen, Shape.of(k, k, 1, c), depthwise, 0.5, Activation.SILU);
        Backend cpu = Backends.get(Device.CPU);

        Tensor middle = cpu.conv2dAffine(x, null, first.weight(), pointwise, first.scale(), first.shift(),
                first.activation());
        float[] separate = cpu.conv2dAffine(middle, null, second.weight(), depthwise, second.scale(), second.shift(),
                second.activation()).toFloatArray();

        Conv2dShape pointwiseShape = Conv2dShape.symmetric(n, h, w, cin, c, 1, 1, 0, 1, 1);
        Conv2dShape depthwiseShape = new Conv2dShape(n, h, w, c, c, k, k, stride, stride, depthwise.padTop(),
                depthwise.padBottom(), depthwise.padLeft(), depthwise.padRight(), 1, 1, c);
        assertEquals(n * depthwiseShape.outHeight() * depthwiseShape.outWidth() * c, separate.length);
        float[] kernel = new float[separate.length];
        PointwiseDepthwise.forward(pointwiseShape, x.toFloatArray(), 0, first.weight().toFloatArray(), 0,
                epilogue(first), depthwiseShape, second.weight().toFloatArray(), 0, epilogue(second), kernel);
        assertArrayEquals(separate, kernel, "the kernel");
        assertArrayEquals(separate, cpu.conv2dAffineChain(x, first, second).toFloatArray(), "the backend's op");

        // With the squeeze-excitation's sums over H and W: those of the reduction over the separate output.
        Tensor separateY = Tensor.of(separate, n, depthwiseShape.outHeight(), depthwiseShape.outWidth(), c);
        float[] wantSums = cpu.reduce(ReduceOp.SUM, separateY, new int[]{1, 2}, true).toFloatArray();
        float[] sums = new float[n * c];
        PointwiseDepthwise.forward(pointwiseShape, x.toFloatArray(), 0, first.weight().toFloatArray(), 0,
                epilogue(first), depthwiseShape, second.weight().toFloatArray(), 0, epilogue(second), kernel, sums);
        assertArrayEquals(separate, kernel, "the kernel, summing");
        assertArrayEquals(wantSums, sums, "the kernel's sums");
        Backend.PooledOutput pooled = cpu.conv2dAffineChainPooled(x, first, second);
        assertArrayEquals(separate, pooled.output().toFloatArray(), "the backend's pooled op");
        assertEquals(Shape.of(n, 1, 1, c), pooled.channelSums().shape());
        assertArrayEquals(wantSums, pooled.channelSums().toFloatArray(), "the backend's sums");
    }

    @ParameterizedTest(name = "[{0}, {1}, {2}, {3}] → {4}, stem s2 TF-same {6}, then {5}×{5} s{7}")
    @CsvSource({
            // Two images: each split into two bands for two threads.
            "2, 24, 24, 3, 32, 3, false, 1",
            // B0's stem and first depthwise layer at batch 8: a band an image, several sub-bands each, rows summed.
            "8, 224, 224, 3, 32, 3, false, 1",
            // Odd sizes with TensorFlow's asymmetric padding on both layers; a 5×5 stride-2 depthwise layer.
            "1, 33, 31, 3, 32, 5, true, 2",
            // One input channel (grayscale CT), one vector of output channels.
            "3, 20, 18, 1, 16, 3, false, 1",
    })
    void aStemThenADepthwiseLayerMatchTheTwoConvolutionsBitForBit(int n, int h, int w, int cin, int c, int k,
                                                                  boolean tfSame, int stride) {
        Generator gen = new Generator(17L * h + c);
        Tensor x = Init.normal(gen, Shape.of(n, h, w, cin), 0, 1, Device.CPU);
        ConvSpec stem = tfSame ? ConvSpec.same(h, w, 3, 3, 2, 1, 1) : ConvSpec.of(2, 1, 1, 1);
        int oh = tfSame ? (h + 1) / 2 : (h - 1) / 2 + 1;
        int ow = tfSame ? (w + 1) / 2 : (w - 1) / 2 + 1;
        ConvSpec depthwise = tfSame ? ConvSpec.same(oh, ow, k, k, stride, 1, c) : ConvSpec.of(stride, k / 2, 1, c);
        ConvAffine first = layer(gen, Shape.of(3, 3, cin, c), stem, 0.3, Activation.SILU);
        ConvAffine second = layer(gen, Shape.of(k, k, 1, c), depthwise, 0.5, Activation.SILU);
        Backend cpu = Backends.get(Device.CPU);

        Tensor middle = cpu.conv2dAffine(x, null, first.weight(), stem, first.scale(), first.shift(),
                first.activation());
        assertEquals(Shape.of(n, oh, ow, c), middle.shape());
        Tensor separate = cpu.conv2dAffine(middle, null, second.weight(), depthwise, second.scale(), second.shift(),
                second.activation());
        assertArrayEquals(separate.toFloatArray(), cpu.conv2dAffineChain(x, first, second).toFloatArray(),
                "the backend's op");
        Backend.PooledOutput pooled = cpu.conv2dAffineChainPooled(x, first, second);
        assertArrayEquals(separate.toFloatArray(), pooled.output().toFloatArray(), "the backend's pooled op");
        assertArrayEquals(cpu.reduce(ReduceOp.SUM, separate, new int[]{1, 2}, true).toFloatArray(),
                pooled.channelSums().toFloatArray(), "the backend's sums");
    }

    private static ChannelEpilogue epilogue(ConvAffine layer) {
        return new ChannelEpilogue(layer.scale().toFloatArray(), 0, layer.shift().toFloatArray(), 0,
                layer.activation());
    }

    private static ConvAffine layer(Generator gen, Shape weight, ConvSpec spec, double std, Activation activation) {
        int c = weight.dim(3);
        return new ConvAffine(Init.normal(gen, weight, 0, std, Device.CPU), spec,
                Init.uniform(gen, Shape.of(c), 0.5, 1.5, Device.CPU), Init.normal(gen, Shape.of(c), 0, 1, Device.CPU),
                activation);
    }
}
