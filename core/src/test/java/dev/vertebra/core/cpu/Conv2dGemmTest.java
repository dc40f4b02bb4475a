package dev.vertebra.core.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class Conv2dGemmTest {

    static Stream<Conv2dShape> shapes() {
        return Stream.of(
                // 1×1 stride 1: the direct GEMM path, plain and grouped
                Conv2dShape.symmetric(2, 5, 7, 13, 17, 1, 1, 0, 1, 1),
                Conv2dShape.symmetric(3, 4, 3, 6, 10, 1, 1, 0, 1, 2),
                // the EfficientNet stem: 3×3 stride 2 pad 1, 3 → 8
                Conv2dShape.symmetric(2, 17, 15, 3, 8, 3, 2, 1, 1, 1),
                // TF-"same" style asymmetric padding, groups 2
                new Conv2dShape(2, 9, 8, 6, 10, 3, 3, 2, 2, 0, 1, 0, 1, 1, 1, 2),
                // 5×5 dilated, padding wider than needed on one side
                new Conv2dShape(1, 11, 9, 4, 5, 5, 5, 1, 1, 3, 4, 2, 3, 2, 2, 1),
                // 1×1 with stride 2: not pointwise, goes through im2col
                Conv2dShape.symmetric(2, 7, 6, 5, 3, 1, 2, 0, 1, 1),
                // rectangular kernel, mixed strides and dilations, groups 3
                new Conv2dShape(3, 8, 10, 6, 9, 2, 3, 2, 1, 1, 0, 2, 1, 1, 2, 3),
                // groups = C through the GEMM path
                Conv2dShape.symmetric(2, 6, 6, 4, 4, 3, 1, 1, 1, 4),
                // enough pixels for several parallel blocks
                Conv2dShape.symmetric(2, 40, 36, 16, 24, 3, 1, 1, 1, 1),
                // 1×1 pointwise at a size that runs the GEMM on both threads
                Conv2dShape.symmetric(2, 28, 28, 40, 64, 1, 1, 0, 1, 1),
                // enough pixels for the weight gradient to be summed in several partials
                Conv2dShape.symmetric(2, 48, 48, 12, 8, 1, 1, 0, 1, 1),
                // a 1×1 projection, Cin > Cout ≥ two column panels, two depth blocks: the weight gradient as it stands
                Conv2dShape.symmetric(2, 14, 14, 160, 64, 1, 1, 0, 1, 1),
                Conv2dShape.symmetric(1, 72, 64, 4, 6, 3, 1, 1, 1, 2));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void forwardMatchesReference(Conv2dShape s) {
        for (boolean accumulate : new boolean[] {false, true}) {
            Random random = new Random(s.hashCode() + (accumulate ? 1 : 0));
            float[] x = ConvReference.random(random, s.inputSize() + 3);
            float[] w = ConvReference.random(random, s.weightSize() + 1);
            float[] bias = ConvReference.random(random, s.outChannels() + 2);
            float[] y = ConvReference.output(random, s.outputSize(), accumulate);
            float[] before = y.clone();
            boolean withBias = accumulate;
            // Offsets exercise views into larger buffers.
            float[] xView = Arrays.copyOfRange(x, 3, x.length);
            float[] wView = Arrays.copyOfRange(w, 1, w.length);
            float[] biasView = Arrays.copyOfRange(bias, 2, bias.length);
            Conv2dGemm.forward(s, x, 3, w, 1, withBias ? bias : null, 2, y, 0, accumulate);
            ConvReference.assertMatches(ConvReference.forward(s, xView, wView, withBias ? biasView : null),
                    before, accumulate, y, "forward " + s);
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void backwardDataMatchesReference(Conv2dShape s) {
        for (boolean accumulate : new boolean[] {false, true}) {
            Random random = new Random(31 * s.hashCode() + (accumulate ? 1 : 0));
            float[] dy = ConvReference.random(random, s.outputSize());
            float[] w = ConvReference.random(random, s.weightSize());
            float[] dx = ConvReference.output(random, s.inputSize(), accumulate);
            float[] before = dx.clone();
            Conv2dGemm.backwardData(s, dy, 0, w, 0, dx, 0, accumulate);
            ConvReference.assertMatches(ConvReference.backwardData(s, dy, w), before, accumulate, dx,
                    "backward-data " + s);
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void backwardWeightMatchesReference(Conv2dShape s) {
        for (boolean accumulate : new boolean[] {false, true}) {
            Random random = new Random(17 * s.hashCode() + (accumulate ? 1 : 0));
            float[] x = ConvReference.random(random, s.inputSize());
            float[] dy = ConvReference.random(random, s.outputSize());
            float[] dw = ConvReference.output(random, s.weightSize(), accumulate);
            float[] before = dw.clone();
            Conv2dGemm.backwardWeight(s, x, 0, dy, 0, dw, 0, accumulate);
            ConvReference.assertMatches(ConvReference.backwardWeight(s, x, dy), before, accumulate, dw,
                    "backward-weight " + s);
        }
    }

    @Test
    void outputSizeFollowsTheFormula() {
        Conv2dShape sameStride2 = new Conv2dShape(1, 224, 224, 3, 32, 3, 3, 2, 2, 0, 1, 0, 1, 1, 1, 1);
        assertEquals(112, sameStride2.outHeight());
        assertEquals(112, sameStride2.outWidth());
        Conv2dShape dilated = Conv2dShape.symmetric(1, 10, 10, 1, 1, 3, 1, 0, 2, 1);
        assertEquals(6, dilated.outHeight());
    }

    @Test
    void rejectsInconsistentShapesAndShortArrays() {
        assertThrows(IllegalArgumentException.class, () -> Conv2dShape.symmetric(1, 4, 4, 3, 4, 3, 1, 1, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> Conv2dShape.symmetric(1, 2, 2, 1, 1, 5, 1, 0, 1, 1));
        Conv2dShape s = Conv2dShape.symmetric(1, 4, 4, 2, 2, 3, 1, 1, 1, 1);
        assertThrows(IllegalArgumentException.class, () -> Conv2dGemm.forward(s, new float[31], 0,
                new float[36], 0, null, 0, new float[32], 0, false));
    }
}
