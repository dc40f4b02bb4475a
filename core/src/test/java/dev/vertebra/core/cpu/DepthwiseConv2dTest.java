package dev.vertebra.core.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class DepthwiseConv2dTest {

    static Stream<Conv2dShape> shapes() {
        return Stream.of(
                // EfficientNet's cases: 3×3 and 5×5, stride 1 and 2, channels a multiple of the vector width
                Conv2dShape.symmetric(2, 13, 14, 32, 32, 3, 1, 1, 1, 32),
                Conv2dShape.symmetric(2, 15, 12, 48, 48, 3, 2, 1, 1, 48),
                Conv2dShape.symmetric(1, 17, 19, 16, 16, 5, 1, 2, 1, 16),
                Conv2dShape.symmetric(3, 11, 16, 40, 40, 5, 2, 2, 1, 40),
                // channels that leave a scalar tail, and fewer channels than one vector
                Conv2dShape.symmetric(2, 9, 10, 19, 19, 3, 1, 1, 1, 19),
                Conv2dShape.symmetric(1, 7, 8, 3, 3, 3, 2, 1, 1, 3),
                // TF-"same" asymmetric padding with stride 2, dilation, rectangular kernel
                new Conv2dShape(2, 12, 13, 20, 20, 3, 3, 2, 2, 0, 1, 0, 1, 1, 1, 20),
                new Conv2dShape(1, 14, 12, 17, 17, 3, 2, 1, 1, 2, 1, 1, 3, 2, 2, 17),
                // 3×3 stride 1 with a vertical dilation: the sliding-window path with spread kernel rows
                new Conv2dShape(1, 10, 11, 32, 32, 3, 3, 1, 1, 2, 2, 1, 1, 2, 1, 32),
                // a row narrower than one interior block, no padding
                Conv2dShape.symmetric(2, 5, 4, 16, 16, 3, 1, 0, 1, 16),
                // 1×1 depthwise: a per-channel scale
                Conv2dShape.symmetric(1, 3, 5, 33, 33, 1, 1, 0, 1, 33),
                // five taps wide at stride 1 (the sliding weight-gradient path): a 7×7 map with a channel tail, a
                // 3×5 kernel with vertical dilation and TF-"same" padding, a map narrower than the kernel
                Conv2dShape.symmetric(2, 7, 7, 37, 37, 5, 1, 2, 1, 37),
                new Conv2dShape(1, 9, 11, 16, 16, 3, 5, 2, 1, 1, 2, 2, 2, 2, 1, 16),
                Conv2dShape.symmetric(1, 3, 3, 16, 16, 5, 1, 2, 1, 16),
                // five wide at stride 1, every pixel in blocks: rows of 8 (one block of eight), 9 and 14 wide
                Conv2dShape.symmetric(1, 6, 8, 32, 32, 5, 1, 2, 1, 32),
                Conv2dShape.symmetric(2, 5, 9, 48, 48, 5, 1, 2, 1, 48),
                Conv2dShape.symmetric(1, 14, 14, 16, 16, 5, 1, 2, 1, 16),
                // wider than eight, in blocks of sixteen: exactly one block, a block and twelve (28² at B0's
                // 240-channel layer) with a channel tail, two blocks and one more
                Conv2dShape.symmetric(1, 6, 16, 32, 32, 5, 1, 2, 1, 32),
                Conv2dShape.symmetric(1, 5, 28, 24, 24, 5, 1, 2, 1, 24),
                Conv2dShape.symmetric(2, 4, 33, 16, 16, 5, 1, 2, 1, 16),
                // a block whose twenty input columns are all inside the row (its column tests all pass), also
                // with kernel rows two apart
                Conv2dShape.symmetric(1, 6, 40, 16, 16, 5, 1, 2, 1, 16),
                new Conv2dShape(1, 10, 40, 16, 16, 5, 5, 1, 1, 4, 4, 2, 2, 2, 1, 16),
                // five wide with more padding on the left than the window spans: the first columns read only
                // padding, so no column of the weight gradient's sweep is known to be inside the row
                new Conv2dShape(1, 6, 7, 16, 16, 5, 5, 1, 1, 2, 2, 5, 6, 1, 1, 16),
                // at most eight wide, two channel vectors a block: three vectors (a pair, then one alone) in rows of
                // four (B0's 4² layers at 128²)
                Conv2dShape.symmetric(2, 4, 4, 48, 48, 5, 1, 2, 1, 48),
                // stride 2 with enough channels for the backward gather's blocks of four vectors, and a tail
                Conv2dShape.symmetric(1, 9, 10, 80, 80, 5, 2, 2, 1, 80),
                Conv2dShape.symmetric(2, 8, 7, 71, 71, 3, 2, 1, 1, 71),
                // weight gradients too wide for sixteen partials: B0's 7² × 1152 5×5 layer (four), and a channel
                // tail whose twelve-partial bound rounds down to eight
                Conv2dShape.symmetric(2, 7, 7, 1152, 1152, 5, 1, 2, 1, 1152),
                Conv2dShape.symmetric(3, 9, 6, 408, 408, 5, 1, 2, 1, 408),
                // at least 64 channels, where the input rows are read ahead: vertical dilation with asymmetric
                // padding, TF-"same" at stride 2 with a 5×5 kernel, a map shorter than the kernel
                new Conv2dShape(2, 10, 9, 64, 64, 3, 3, 1, 1, 2, 1, 1, 2, 2, 2, 64),
                new Conv2dShape(2, 12, 11, 96, 96, 5, 5, 2, 2, 1, 2, 1, 2, 1, 1, 96),
                Conv2dShape.symmetric(1, 2, 5, 64, 64, 5, 1, 2, 1, 64));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void forwardMatchesReference(Conv2dShape s) {
        for (boolean accumulate : new boolean[] {false, true}) {
            Random random = new Random(s.hashCode() + (accumulate ? 1 : 0));
            float[] x = ConvReference.random(random, s.inputSize() + 5);
            float[] w = ConvReference.random(random, s.weightSize() + 2);
            float[] bias = ConvReference.random(random, s.outChannels() + 1);
            float[] y = ConvReference.output(random, s.outputSize(), accumulate);
            float[] before = y.clone();
            boolean withBias = !accumulate;
            DepthwiseConv2d.forward(s, x, 5, w, 2, withBias ? bias : null, 1, y, 0, accumulate);
            ConvReference.Result expected = ConvReference.forward(s, Arrays.copyOfRange(x, 5, x.length),
                    Arrays.copyOfRange(w, 2, w.length), withBias ? Arrays.copyOfRange(bias, 1, bias.length) : null);
            ConvReference.assertMatches(expected, before, accumulate, y, "forward " + s);
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void backwardDataMatchesReference(Conv2dShape s) {
        for (boolean accumulate : new boolean[] {false, true}) {
            Random random = new Random(31 * s.hashCode() + (accumulate ? 1 : 0));
            float[] dy = ConvReference.random(random, s.outputSize());
            float[] w = ConvReference.random(random, s.weightSize());
            float[] dx = ConvReference.output(random, s.inputSize() + 4, accumulate);
            float[] before = Arrays.copyOfRange(dx, 4, dx.length);
            DepthwiseConv2d.backwardData(s, dy, 0, w, 0, dx, 4, accumulate);
            ConvReference.assertMatches(ConvReference.backwardData(s, dy, w), before, accumulate,
                    Arrays.copyOfRange(dx, 4, dx.length), "backward-data " + s);
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void backwardWeightMatchesReference(Conv2dShape s) {
        for (boolean accumulate : new boolean[] {false, true}) {
            Random random = new Random(17 * s.hashCode() + (accumulate ? 1 : 0));
            float[] x = ConvReference.random(random, s.inputSize());
            float[] dy = ConvReference.random(random, s.outputSize() + 3);
            float[] dw = ConvReference.output(random, s.weightSize(), accumulate);
            float[] before = dw.clone();
            DepthwiseConv2d.backwardWeight(s, x, 0, dy, 3, dw, 0, accumulate);
            ConvReference.assertMatches(ConvReference.backwardWeight(s, x, Arrays.copyOfRange(dy, 3, dy.length)),
                    before, accumulate, dw, "backward-weight " + s);
        }
    }

    @Test
    void largeImageSplitIntoManyChunksMatchesReference() {
        // Big enough for several parallel row chunks and weight partials.
        Conv2dShape s = Conv2dShape.symmetric(2, 56, 56, 48, 48, 3, 1, 1, 1, 48);
        Random random = new Random(5);
        float[] x = ConvReference.random(random, s.inputSize());
        float[] w = ConvReference.random(random, s.weightSize());
        float[] y = new float[(int) s.outputSize()];
        DepthwiseConv2d.forward(s, x, 0, w, 0, null, 0, y, 0, false);
        ConvReference.assertMatches(ConvReference.forward(s, x, w, null), y, false, y, "forward large");
        float[] dw = new float[(int) s.weightSize()];
        DepthwiseConv2d.backwardWeight(s, x, 0, y, 0, dw, 0, false);
        ConvReference.assertMatches(ConvReference.backwardWeight(s, x, y), dw, false, dw, "backward-weight large");
    }

    @Test
    void weightPartialsFollowTheShapeWithinTheirMemory() {
        // one a row up to sixteen, as before the memory bound
        assertEquals(16, DepthwiseConv2d.weightPartials(Conv2dShape.symmetric(8, 112, 112, 32, 32, 3, 1, 1, 1, 32),
                8 * 112));
        assertEquals(7, DepthwiseConv2d.weightPartials(Conv2dShape.symmetric(1, 7, 7, 64, 64, 5, 1, 2, 1, 64), 7));
        // 5×5 × 1152 is 28 800 floats: four fit in 128 K floats; 5×5 × 408 fits twelve, rounded down to eight
        assertEquals(4, DepthwiseConv2d.weightPartials(
                Conv2dShape.symmetric(8, 7, 7, 1152, 1152, 5, 1, 2, 1, 1152), 8 * 7));
        assertEquals(8, DepthwiseConv2d.weightPartials(Conv2dShape.symmetric(3, 9, 6, 408, 408, 5, 1, 2, 1, 408),
                3 * 9));
        // fewer rows than fit stay one a row, and a gradient larger than the bound still gets one
        assertEquals(3, DepthwiseConv2d.weightPartials(Conv2dShape.symmetric(1, 3, 5, 408, 408, 5, 1, 2, 1, 408), 3));
        assertEquals(1, DepthwiseConv2d.weightPartials(
                Conv2dShape.symmetric(1, 9, 9, 8192, 8192, 5, 1, 2, 1, 8192), 9));
    }

    @Test
    void rejectsNonDepthwiseShapes() {
        Conv2dShape grouped = Conv2dShape.symmetric(1, 4, 4, 4, 8, 3, 1, 1, 1, 4);
        assertThrows(IllegalArgumentException.class, () -> DepthwiseConv2d.forward(grouped,
                new float[64], 0, new float[72], 0, null, 0, new float[128], 0, false));
    }
}
