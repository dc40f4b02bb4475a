package dev.vertebra.core.cpu;

import dev.vertebra.core.Activation;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The convolution epilogue's SiLU and sigmoid give the bits of the elementwise kernels (FloatExpKernels) applied to
 * the epilogue's own affine output, for inputs across the whole float range: every 1021st bit pattern (each sign,
 * exponent and a spread of mantissas), NaNs with payloads, infinities, signed zeros, subnormals and the exponential's
 * clamp edges. The two activations share one loop, the sigmoid taking SiLU's e^−z; these are the inputs where the
 * two exponentials differ or where a NaN could turn into a number.
 */
class EpilogueActivationBitsTest {
    private static final int CHANNELS = 40;   // two whole vectors and a masked tail with 16 lanes (one with 8 lanes)

    @Test
    void sigmoidMatchesTheElementwiseKernelBitForBit() {
        assertEpilogueMatches(Activation.SIGMOID);
    }

    @Test
    void siluMatchesTheElementwiseKernelBitForBit() {
        assertEpilogueMatches(Activation.SILU);
    }

    private static void assertEpilogueMatches(Activation activation) {
        float[] x = inputs();
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
        float[] expected = new float[z.length];
        for (int r = 0; r < rows; r++) {
            if (activation == Activation.SIGMOID) {
                FloatExpKernels.sigmoid(z, r * CHANNELS, expected, r * CHANNELS, CHANNELS);
            } else {
                FloatExpKernels.silu(z, r * CHANNELS, expected, r * CHANNELS, CHANNELS);
            }
        }
        float[] y = x.clone();
        new ChannelEpilogue(scale, 0, shift, 0, activation).apply(y, 0, rows, CHANNELS, CHANNELS, 0);
        for (int i = 0; i < y.length; i++) {
            int want = Float.floatToRawIntBits(expected[i]);
            int got = Float.floatToRawIntBits(y[i]);
            if (want != got) {
                assertEquals(Integer.toHexString(want), Integer.toHexString(got), activation + " of z = " + z[i]
                        + " (bits " + Integer.toHexString(Float.floatToRawIntBits(z[i])) + ", row " + i / CHANNELS
                        + ", channel " + i % CHANNELS + ")");
            }
        }
    }

    /** Sampled bit patterns and edge values, padded to whole rows. */
    private static float[] inputs() {
        float[] edges = {Float.NaN, -Float.NaN, Float.intBitsToFloat(0x7fc0_01ff), Float.intBitsToFloat(0xffc0_0003),
                Float.intBitsToFloat(0x7f80_0001), Float.intBitsToFloat(0xff81_2345), Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL,
                -Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, 87.33654f, -87.33654f, 87.33655f, -87.33655f,
                88.72283f, -88.72283f, 88.72284f, -88.72284f, 103.97f, -103.97f, 1f, -1f, 1e-8f, -1e-8f, 16f, -16f};
        int sampled = (int) ((1L << 32) / 1021) + 1;
        int n = edges.length + sampled;
        float[] x = Arrays.copyOf(edges, (n + CHANNELS - 1) / CHANNELS * CHANNELS);
        long bits = 0;
        for (int i = edges.length; i < n; i++, bits += 1021) {
            x[i] = Float.intBitsToFloat((int) bits);
        }
        return x;
    }
}
