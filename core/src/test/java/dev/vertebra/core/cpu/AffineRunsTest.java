package dev.vertebra.core.cpu;

import dev.vertebra.core.Activation;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * SiLU and the sigmoid over runs of several channels-last pixels ({@link AffineRuns}, and the epilogue that uses
 * them) give every element the plain per-vector formula's bits for {@code z = fma(x, scale[c], shift[c])}, c the
 * element's channel: pixel counts that end inside a run, pixels with a partial last vector (so runs' vectors
 * straddle pixels), scale and shift read from an offset, blocks whose rows are not contiguous (which must keep a
 * call a row and leave the gaps alone).
 */
class AffineRunsTest {
    private static final int PIXELS = 37;
    private static final int OFFSET = 3;

    @ParameterizedTest
    @ValueSource(ints = {16, 32, 40, 96, 200})
    void siluRunsMatchThePlainFormula(int channels) {
        assertRunsMatch(channels, false);
    }

    @ParameterizedTest
    @ValueSource(ints = {16, 32, 40, 96, 200})
    void sigmoidRunsMatchThePlainFormula(int channels) {
        assertRunsMatch(channels, true);
    }

    @ParameterizedTest
    @ValueSource(ints = {16, 40, 96})
    void epilogueWithRunsMatchesThePlainFormulaOnContiguousAndStridedBlocks(int channels) {
        Random random = new Random(channels);
        float[] scale = values(random, OFFSET + channels);
        float[] shift = values(random, OFFSET + channels);
        ChannelEpilogue epilogue = new ChannelEpilogue(scale, OFFSET, shift, OFFSET, Activation.SILU)
                .withRuns(channels);
        assertNotNull(epilogue.runs(), channels + " channels");
        for (int ld : new int[] {channels, channels + 8}) {
            float[] x = values(random, OFFSET + PIXELS * ld);
            float[] expected = x.clone();
            for (int p = 0; p < PIXELS; p++) {
                int at = OFFSET + p * ld;
                AffineSiluBitsTest.plain(affine(x, at, channels, scale, shift), 0, expected, at, channels, false);
            }
            float[] y = x.clone();
            epilogue.apply(y, OFFSET, PIXELS, channels, ld, 0);
            assertSameBits(expected, y, channels + " channels, row stride " + ld);
        }
    }

    @Test
    void runsAreMadeForShortPixelsOfSiluAndTheSigmoidOnly() {
        float[] scale = new float[700];
        float[] shift = new float[700];
        for (int c = 0; c < scale.length; c++) {
            scale[c] = c;
            shift[c] = -c;
        }
        ChannelEpilogue silu = new ChannelEpilogue(scale, 5, shift, 7, Activation.SILU);
        AffineRuns runs = silu.withRuns(32).runs();
        assertEquals(16, runs.repeats());
        assertEquals(32, runs.channels());
        float[] pattern = new float[32];
        for (int c = 0; c < 32; c++) {
            pattern[c] = 5 + c;
        }
        for (int r = 0; r < 16; r++) {
            assertArrayEquals(pattern, Arrays.copyOfRange(runs.scale(), r * 32, r * 32 + 32), 0f, "scale, repeat " + r);
        }
        assertEquals(-7f - 31, runs.shift()[15 * 32 + 31]);
        assertEquals(2, silu.withRuns(256).runs().repeats());
        assertNull(silu.withRuns(257).runs(), "257 channels: a pixel is over half a run");
        ChannelEpilogue none = new ChannelEpilogue(scale, 0, shift, 0, Activation.NONE);
        assertSame(none, none.withRuns(32));
        ChannelEpilogue added = none.withAddend(new float[64], 0);
        assertSame(added, added.withRuns(32));
        assertNotNull(new ChannelEpilogue(scale, 0, shift, 0, Activation.SIGMOID).withRuns(32).runs());
    }

    private static void assertRunsMatch(int channels, boolean sigmoid) {
        Random random = new Random(channels * 2L + (sigmoid ? 1 : 0));
        float[] scale = values(random, OFFSET + channels);
        float[] shift = values(random, OFFSET + channels);
        AffineRuns runs = AffineRuns.of(scale, OFFSET, shift, OFFSET, channels);
        assertNotNull(runs, channels + " channels");
        int n = PIXELS * channels;
        float[] x = values(random, OFFSET + n);
        float[] z = new float[n];
        for (int p = 0; p < PIXELS; p++) {
            System.arraycopy(affine(x, OFFSET + p * channels, channels, scale, shift), 0, z, p * channels, channels);
        }
        float[] expected = new float[OFFSET + n + 5];
        AffineSiluBitsTest.plain(z, 0, expected, OFFSET, n, sigmoid);
        float[] y = new float[OFFSET + n + 5];
        runs.apply(x, OFFSET, y, OFFSET, PIXELS, sigmoid);
        assertSameBits(expected, y, channels + " channels, " + (sigmoid ? "sigmoid" : "SiLU"));
    }

    /** One pixel's z = fma(x, scale[c], shift[c]), scale and shift from OFFSET. */
    private static float[] affine(float[] x, int at, int channels, float[] scale, float[] shift) {
        float[] z = new float[channels];
        for (int c = 0; c < channels; c++) {
            z[c] = Math.fma(x[at + c], scale[OFFSET + c], shift[OFFSET + c]);
        }
        return z;
    }

    /** Values over a wide range, so that both tails of the exponential are met. */
    private static float[] values(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (random.nextFloat() - 0.5f) * (i % 7 == 0 ? 300f : 8f);
        }
        return v;
    }

    private static void assertSameBits(float[] expected, float[] actual, String what) {
        for (int i = 0; i < actual.length; i++) {
            int want = Float.floatToRawIntBits(expected[i]);
            int got = Float.floatToRawIntBits(actual[i]);
            if (want != got) {
                assertEquals(Integer.toHexString(want), Integer.toHexString(got), what + ", element " + i);
            }
        }
    }
}
