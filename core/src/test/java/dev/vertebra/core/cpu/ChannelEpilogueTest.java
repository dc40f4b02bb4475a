package dev.vertebra.core.cpu;

import dev.vertebra.core.Activation;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The epilogue's affine maps (alone, with ReLU, with an addend) over tiles of several rows: every element of every
 * row gets the scalar formula's bits (the vector FMA is {@link Math#fma}), with row strides wider than the tile,
 * a first channel past zero, whole vectors and masked tails, in place and from a separate source; what lies between
 * the tile's rows is left as it was.
 */
class ChannelEpilogueTest {
    private static final int ROWS = 7;
    private static final int CHANNEL0 = 3;

    @ParameterizedTest
    @ValueSource(ints = {5, 16, 24, 40, 112})
    void affineMatchesTheScalarFormula(int cols) {
        assertMatches(cols, Activation.NONE, false);
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 16, 24, 40, 112})
    void affineReluMatchesTheScalarFormula(int cols) {
        assertMatches(cols, Activation.RELU, false);
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 16, 24, 40, 112})
    void affineAddMatchesTheScalarFormula(int cols) {
        assertMatches(cols, Activation.NONE, true);
    }

    private static void assertMatches(int cols, Activation activation, boolean withAddend) {
        Random random = new Random(cols * 31L + activation.ordinal() + (withAddend ? 7 : 0));
        int ld = cols + 9;
        int off = 4;
        int size = off + ROWS * ld;
        float[] scale = values(random, CHANNEL0 + cols);
        float[] shift = values(random, CHANNEL0 + cols);
        float[] addend = values(random, size + 5);
        int addendShift = 5;
        float[] src = values(random, size);
        ChannelEpilogue epilogue = new ChannelEpilogue(scale, 0, shift, 0, activation);
        if (withAddend) {
            epilogue = epilogue.withAddend(addend, addendShift);
        }
        float[] expected = src.clone();
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < cols; j++) {
                int k = off + r * ld + j;
                float v = Math.fma(src[k], scale[CHANNEL0 + j], shift[CHANNEL0 + j]);
                if (activation == Activation.RELU) {
                    v = Math.max(v, 0f);
                }
                expected[k] = withAddend ? v + addend[k + addendShift] : v;
            }
        }
        float[] inPlace = src.clone();
        epilogue.apply(inPlace, off, ROWS, cols, ld, CHANNEL0);
        assertSameBits(expected, inPlace, "in place, " + cols + " channels, " + activation + ", addend " + withAddend);
        // From src into a separate array: the gaps between rows keep dst's own values.
        float[] dst = values(random, size);
        float[] expectedDst = dst.clone();
        for (int r = 0; r < ROWS; r++) {
            System.arraycopy(expected, off + r * ld, expectedDst, off + r * ld, cols);
        }
        epilogue.apply(src, off, dst, off, ROWS, cols, ld, CHANNEL0);
        assertSameBits(expectedDst, dst, "into dst, " + cols + " channels, " + activation + ", addend " + withAddend);
    }

    private static float[] values(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextFloat() * 4 - 2;
        }
        return v;
    }

    private static void assertSameBits(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]);
        }
    }
}
