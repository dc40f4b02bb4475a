package dev.vertebra.core.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sums of per-task partials that end a weight gradient or a batch norm's backward: where the partials are many
 * the threads share slices of them ({@link DepthwiseConv2d#sumPartials}, {@link FloatBatchNorm#sumInOrder}), and
 * each element's sum must stay the plain loop's, partial after partial in order, to the bit.
 */
class PartialSumsTest {

    @Test
    void depthwisePartialsSummedInSlicesAreThePlainLoopsSums() {
        // 299 partials of 3×3 × 96 (the 112² layer's), 16 of 5×5 × 1152 + 7 (vectors and a scalar tail), and one
        // below the threshold, summed on the calling thread.
        int[][] cases = {{299, 9 * 96}, {16, 25 * 1152 + 7}, {4, 100}};
        Random random = new Random(11);
        for (int[] shape : cases) {
            int partials = shape[0];
            int size = shape[1];
            float[] partial = gaussians(random, partials * size);
            for (boolean accumulate : new boolean[]{false, true}) {
                float[] start = gaussians(random, size);
                float[] expected = start.clone();
                for (int i = 0; i < size; i++) {
                    float total = accumulate ? start[i] : 0f;
                    for (int p = 0; p < partials; p++) {
                        total += partial[p * size + i];
                    }
                    expected[i] = total;
                }
                float[] dw = start.clone();
                DepthwiseConv2d.sumPartials(partial, partials, size, dw, 0, accumulate);
                assertArrayEquals(expected, dw, partials + " × " + size + ", accumulate " + accumulate);
            }
        }
        assertTrue(299L * 9 * 96 >= DepthwiseConv2d.PARALLEL_PARTIAL_FLOATS, "the first case takes the slices");
        assertTrue(4L * 100 < DepthwiseConv2d.PARALLEL_PARTIAL_FLOATS, "the last case does not");
    }

    @Test
    void rowSumsInOrderSummedInSlicesAreThePlainLoopsSums() {
        // The batch norm's per-row sums at 112² × 96 (896 image rows, Σdy | Σdy·x̂), and a small one.
        int[][] cases = {{896, 2 * 96}, {3, 10}};
        Random random = new Random(12);
        for (int[] shape : cases) {
            int parts = shape[0];
            int width = shape[1];
            float[] partial = gaussians(random, parts * width);
            double[] expected = new double[width];
            for (int t = 0; t < parts; t++) {
                for (int i = 0; i < width; i++) {
                    expected[i] += partial[t * width + i];
                }
            }
            assertArrayEquals(expected, FloatBatchNorm.sumInOrder(partial, parts, width), parts + " × " + width);
        }
    }

    private static float[] gaussians(Random random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }
}
