package dev.vertebra.examples.trainer;

import java.util.Arrays;

/**
 * How a study's probability for Ck comes from the fracture probabilities q of the slices that show Ck (decoded by
 * {@link SpineLevels}), so that slices of other vertebrae do not vote.
 *
 * <ul>
 *   <li>MAX: the largest q. One spurious slice decides; over ~100 slices per study it over-calls fractures.</li>
 *   <li>TOPK_MEAN (default): the mean of the k largest. A real cleft crosses several adjacent slices (it is a few
 *       mm across while slices are ~1 mm apart), noise rarely does; averaging a few top slices keeps the signal
 *       and damps single-slice false positives, and the result stays in the slices' own calibration.</li>
 *   <li>NOISY_OR: 1 − Π(1 − q). Right if slices were independent witnesses, which they are not: with tens of
 *       slices per vertebra, small false-positive rates compound into near-certain calls.</li>
 * </ul>
 */
public enum Pooling {
    MAX, TOPK_MEAN, NOISY_OR;

    /** Pools the slice scores q (each in [0, 1]). */
    public double pool(double[] q, int k) {
        if (q.length == 0) {
            return 0;
        }
        return switch (this) {
            case MAX -> Arrays.stream(q).max().orElse(0);
            case TOPK_MEAN -> {
                double[] sorted = q.clone();
                Arrays.sort(sorted);
                int n = Math.min(k, sorted.length);
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    sum += sorted[sorted.length - 1 - i];
                }
                yield sum / n;
            }
            case NOISY_OR -> {
                double none = 1;
                for (double v : q) {
                    none *= 1 - v;
                }
                yield 1 - none;
            }
        };
    }

    /** patient_overall from C1..C7: 1 − Π(1 − p_Ck). */
    public static double overall(double[] vertebrae) {
        double none = 1;
        for (int k = 0; k < 7; k++) {
            none *= 1 - vertebrae[k];
        }
        return 1 - none;
    }
}
