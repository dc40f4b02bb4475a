package dev.vertebra.core.cpu;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The direct small-channel kernel gives the bits of im2col + GEMM (the same taps in the same order, one FMA each,
 * from zero) through each of its pixel paths: six interior pixels at a time (dilation 1, whole pairs of output
 * vectors), four, and one at the borders.
 */
class SmallChannelConv2dTest {

    static Stream<Conv2dShape> shapes() {
        return Stream.of(
                // B0's stem at a smaller size: 3×3 stride 2 pad 1, 3 → 32, rows of six, four and border pixels.
                Conv2dShape.symmetric(2, 40, 37, 3, 32, 3, 2, 1, 1, 1),
                // TensorFlow's asymmetric "same" padding at stride 2; two pairs of output vectors.
                new Conv2dShape(1, 30, 31, 3, 64, 3, 3, 2, 2, 0, 1, 0, 1, 1, 1, 1),
                // One output vector (16 lanes): four and one pixels only.
                Conv2dShape.symmetric(2, 20, 23, 4, 16, 3, 1, 1, 1, 1),
                // Dilation 2, 5×5: the kernel walks kw and ci apart.
                new Conv2dShape(1, 19, 26, 2, 32, 5, 5, 1, 1, 4, 4, 3, 5, 2, 2, 1),
                // One input channel, 7×7 stride 1.
                Conv2dShape.symmetric(1, 16, 29, 1, 48, 7, 1, 3, 1, 1));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void matchesIm2colAndGemmBitForBit(Conv2dShape s) {
        assertTrue(SmallChannelConv2d.handles(s), "the shape is one the kernel takes: " + s);
        Random random = new Random(s.height() * 31L + s.outChannels());
        float[] x = new float[(int) s.inputSize()];
        float[] w = new float[(int) s.weightSize()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        float[] want = new float[(int) s.outputSize()];
        Conv2dGemm.forward(s, x, 0, w, 0, null, 0, want, 0, false);
        float[] got = new float[want.length];
        SmallChannelConv2d.forward(s, x, 0, w, 0, got, null);
        assertArrayEquals(want, got);
    }
}
