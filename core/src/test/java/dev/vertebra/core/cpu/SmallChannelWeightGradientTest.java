package dev.vertebra.core.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An image stem's weight gradient without unfolding ({@link SmallChannelWeightGradient}) against the unfolded
 * product it replaces ({@link Conv2dGemm#unfoldedWeightGradientRows}), bit for bit: B0's stem (3 → 32, 3×3, stride 2,
 * padding 1) and variations — odd sizes, TensorFlow's asymmetric padding, stride 1, 16 and 48 outputs, a single
 * channel nine taps wide — over row ranges that start and end inside images and depth blocks, in several unfolded
 * blocks, overwriting and accumulating.
 */
class SmallChannelWeightGradientTest {

    private static Conv2dShape shape(int n, int h, int w, int cin, int cout, int kh, int kw, int stride,
                                     int top, int bottom, int left, int right) {
        return new Conv2dShape(n, h, w, cin, cout, kh, kw, stride, stride, top, bottom, left, right, 1, 1, 1);
    }

    @Test
    void matchesTheUnfoldedProductBitForBit() {
        assertMatches(shape(2, 40, 36, 3, 32, 3, 3, 2, 1, 1, 1, 1), 1);          // B0's stem, smaller
        assertMatches(shape(2, 33, 29, 3, 32, 3, 3, 2, 1, 1, 1, 1), 2);          // odd sides: a right border
        assertMatches(shape(3, 31, 30, 3, 16, 3, 3, 2, 0, 1, 0, 1), 3);          // "SAME": padding after only
        assertMatches(shape(1, 21, 25, 3, 48, 3, 3, 1, 1, 1, 1, 1), 4);          // stride 1, three vectors out
        assertMatches(shape(2, 12, 17, 1, 16, 2, 9, 1, 0, 1, 4, 4), 5);          // one channel, nine taps wide
    }

    @Test
    void takesOnlyNineValuesAKernelRowAndWholeVectors() {
        assertTrue(SmallChannelWeightGradient.handles(shape(8, 224, 224, 3, 32, 3, 3, 2, 1, 1, 1, 1)));
        assertFalse(SmallChannelWeightGradient.handles(shape(8, 224, 224, 3, 24, 3, 3, 2, 1, 1, 1, 1)));
        assertFalse(SmallChannelWeightGradient.handles(shape(8, 32, 32, 4, 32, 3, 3, 1, 1, 1, 1, 1)));
        assertFalse(SmallChannelWeightGradient.handles(shape(8, 32, 32, 3, 32, 5, 5, 1, 2, 2, 2, 2)));
    }

    private static void assertMatches(Conv2dShape s, long seed) {
        Random random = new Random(seed);
        float[] x = randoms(random, (int) s.inputSize() + 3);
        float[] dy = randoms(random, (int) s.outputSize() + 5);
        int pixels = s.batch() * s.outHeight() * s.outWidth();
        int size = (int) s.weightSize();
        float[] start = randoms(random, size + 2);
        // (row0, row1, blockRows): the whole, ranges cut mid-image and mid-depth-block, blocks not a multiple of 256.
        int[][] ranges = {{0, pixels, pixels}, {37, pixels - 11, 300}, {300, pixels, 97}, {5, 6, 1}};
        for (int[] r : ranges) {
            for (boolean accumulate : new boolean[]{false, true}) {
                float[] expected = start.clone();
                float[] actual = start.clone();
                Conv2dGemm.unfoldedWeightGradientRows(s, x, 3, dy, 5, r[0], r[1], r[2], expected, 2, accumulate);
                SmallChannelWeightGradient.rows(s, x, 3, dy, 5, r[0], r[1], r[2], actual, 2, accumulate);
                assertArrayEquals(expected, actual, 0f, s + " rows " + r[0] + "–" + r[1] + " in blocks of " + r[2]
                        + (accumulate ? ", accumulating" : ""));
            }
        }
    }

    private static float[] randoms(Random random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }
}
