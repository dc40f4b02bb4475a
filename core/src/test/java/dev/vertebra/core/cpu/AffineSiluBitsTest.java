package dev.vertebra.core.cpu;

import dev.vertebra.core.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every SiLU and sigmoid that runs {@link AffineSilu}'s shared loop gives the bits of the plain per-vector formulas,
 * {@link VectorExp#sigmoid} and {@code v / (1 + expOfNegatedForSilu(v))}, for inputs across the whole float range:
 * every 1021st bit pattern (each sign, exponent and a spread of mantissas), NaNs with payloads, infinities, signed
 * zeros, subnormals and the exponential's clamp edges. The sigmoid takes SiLU's e^−z there; these are the inputs
 * where the two exponentials differ, or where a NaN could turn into a number. Callers: the convolution epilogue
 * (after its affine map), and FloatExpKernels' SiLU and sigmoid (x·1 + (−0)), on short runs and long ones.
 */
class AffineSiluBitsTest {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHANNELS = 40;   // whole vectors and a masked tail (with 16 or 8 lanes)

    @Test
    void epilogueSigmoidMatchesThePlainFormula() {
        assertEpilogueMatches(Activation.SIGMOID);
    }

    @Test
    void epilogueSiluMatchesThePlainFormula() {
        assertEpilogueMatches(Activation.SILU);
    }

    @Test
    void elementwiseSigmoidMatchesThePlainFormulaOnShortAndLongRuns() {
        assertElementwiseMatches(true);
    }

    @Test
    void elementwiseSiluMatchesThePlainFormulaOnShortAndLongRuns() {
        assertElementwiseMatches(false);
    }

    private static void assertEpilogueMatches(Activation activation) {
        float[] x = inputs(CHANNELS);
        int rows = x.length / CHANNELS;
        float[] scale = new float[CHANNELS];
        float[] shift = new float[CHANNELS];
        for (int c = 0; c < CHANNELS; c++) {
            scale[c] = c % 3 == 0 ? 1f : 0.75f + c / 64f;
            shift[c] = c % 3 == 0 ? -0f : c / 32f - 0.5f;   // −0: z = x exactly, −0 and NaN payloads included
        }
        // z as the epilogue computes it: its affine map alone.
        float[] z = x.clone();
        new ChannelEpilogue(scale, 0, shift, 0, Activation.NONE).apply(z, 0, rows, CHANNELS, CHANNELS, 0);
        boolean sigmoid = activation == Activation.SIGMOID;
        float[] expected = new float[z.length];
        for (int r = 0; r < rows; r++) {
            plain(z, r * CHANNELS, expected, r * CHANNELS, CHANNELS, sigmoid);
        }
        float[] y = x.clone();
        new ChannelEpilogue(scale, 0, shift, 0, activation).apply(y, 0, rows, CHANNELS, CHANNELS, 0);
        assertSameBits(expected, y, z, activation + " in the epilogue");
    }

    private static void assertElementwiseMatches(boolean sigmoid) {
        // Runs within one of the shared loop's calls, and across several.
        for (int run : new int[] {9_216, 40_000}) {
            float[] x = inputs(run);
            float[] expected = new float[x.length];
            float[] y = new float[x.length];
            for (int from = 0; from < x.length; from += run) {
                plain(x, from, expected, from, run, sigmoid);
                if (sigmoid) {
                    FloatExpKernels.sigmoid(x, from, y, from, run);
                } else {
                    FloatExpKernels.silu(x, from, y, from, run);
                }
            }
            assertSameBits(expected, y, x, (sigmoid ? "sigmoid" : "SiLU") + " on runs of " + run);
        }
        // A run with a tail (the padded last vector).
        float[] x = {Float.NaN, -0f, 88.72284f, -88.72284f, 87.33655f, Float.NEGATIVE_INFINITY, 3f};
        float[] expected = new float[x.length];
        float[] y = new float[x.length];
        plain(x, 0, expected, 0, x.length, sigmoid);
        if (sigmoid) {
            FloatExpKernels.sigmoid(x, 0, y, 0, x.length);
        } else {
            FloatExpKernels.silu(x, 0, y, 0, x.length);
        }
        assertSameBits(expected, y, x, (sigmoid ? "sigmoid" : "SiLU") + " on a partial vector");
    }

    /** The formulas vector by vector, a partial last vector on a zero-padded copy (also {@link AffineRunsTest}'s). */
    static void plain(float[] x, int from, float[] y, int to, int n, boolean sigmoid) {
        int lanes = S.length();
        float[] in = new float[lanes];
        float[] out = new float[lanes];
        for (int j = 0; j < n; j += lanes) {
            int count = Math.min(lanes, n - j);
            Arrays.fill(in, 0f);
            System.arraycopy(x, from + j, in, 0, count);
            FloatVector v = FloatVector.fromArray(S, in, 0);
            FloatVector r = sigmoid ? VectorExp.sigmoid(v) : v.div(VectorExp.expOfNegatedForSilu(v).add(1f));
            r.intoArray(out, 0);
            System.arraycopy(out, 0, y, to + j, count);
        }
    }

    private static void assertSameBits(float[] expected, float[] actual, float[] input, String what) {
        for (int i = 0; i < actual.length; i++) {
            int want = Float.floatToRawIntBits(expected[i]);
            int got = Float.floatToRawIntBits(actual[i]);
            if (want != got) {
                assertEquals(Integer.toHexString(want), Integer.toHexString(got), what + " of " + input[i]
                        + " (bits " + Integer.toHexString(Float.floatToRawIntBits(input[i])) + ", element " + i + ")");
            }
        }
    }

    /** Sampled bit patterns and edge values, padded with zeros to a multiple of {@code multiple}. */
    private static float[] inputs(int multiple) {
        float[] edges = {Float.NaN, -Float.NaN, Float.intBitsToFloat(0x7fc0_01ff), Float.intBitsToFloat(0xffc0_0003),
                Float.intBitsToFloat(0x7f80_0001), Float.intBitsToFloat(0xff81_2345), Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL,
                -Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, 87.33654f, -87.33654f, 87.33655f, -87.33655f,
                88.72283f, -88.72283f, 88.72284f, -88.72284f, 103.97f, -103.97f, 1f, -1f, 1e-8f, -1e-8f, 16f, -16f};
        int sampled = (int) ((1L << 32) / 1021) + 1;
        int n = edges.length + sampled;
        float[] x = Arrays.copyOf(edges, (n + multiple - 1) / multiple * multiple);
        long bits = 0;
        for (int i = edges.length; i < n; i++, bits += 1021) {
            x[i] = Float.intBitsToFloat((int) bits);
        }
        return x;
    }
}
