package dev.vertebra.examples.trainer;

/**
 * Which slices show which vertebra in a study without a segmentation. A 2.5D crop of a few slices tells well
 * whether a vertebra is in it, but hardly which of C3..C7 it is; so the decoder takes from the network only "some
 * vertebra shows here" ({@code 1 − Π(1 − σ(visible_k))}), finds the one run of slices that best explains it (the
 * maximum-sum run of its logits), and lays the {@link SpineAtlas} over that run. Each vertebra's slices are then
 * widened by {@value #MARGIN} on either side, because neighbours share the slices at their boundary.
 */
public final class SpineLevels {
    /** Slices added on either side of each vertebra's run. */
    static final int MARGIN = 1;

    private SpineLevels() {
    }

    /**
     * {@code [slices][7]} flags "slice s shows C(k+1)" from per-slice logits whose first seven columns are the
     * visibility logits (slices inferior first).
     */
    public static boolean[][] decode(float[][] logits, SpineAtlas atlas) {
        int n = logits.length;
        boolean[][] out = new boolean[n][7];
        if (n == 0) {
            return out;
        }
        int[] run = spineRun(logits);
        int length = run[1] - run[0] + 1;
        double[] start = atlas.start();
        double[] end = atlas.end();
        for (int k = 0; k < 7; k++) {
            int from = run[0] + (int) Math.round(start[k] * length);
            int to = Math.max(from, run[0] + (int) Math.round(end[k] * length) - 1);
            for (int s = Math.max(0, from - MARGIN); s <= Math.min(n - 1, to + MARGIN); s++) {
                out[s][k] = true;
            }
        }
        return out;
    }

    /** {first, last} slice of the run that maximises the sum of logit(P(some vertebra shows)). */
    static int[] spineRun(float[][] logits) {
        int bestFrom = 0;
        int bestTo = 0;
        double best = Double.NEGATIVE_INFINITY;
        double sum = 0;
        int from = 0;
        for (int s = 0; s < logits.length; s++) {
            double none = 0;
            for (int k = 0; k < 7; k++) {
                none += logSigmoid(-logits[s][k]);
            }
            // logit(1 − e^none) = log(1 − e^none) − none
            double any = Math.log(-Math.expm1(Math.min(none, -1e-12))) - none;
            if (sum <= 0) {
                sum = 0;
                from = s;
            }
            sum += any;
            if (sum > best) {
                best = sum;
                bestFrom = from;
                bestTo = s;
            }
        }
        return new int[] {bestFrom, bestTo};
    }

    /** log σ(x), stable for large |x|. */
    private static double logSigmoid(double x) {
        return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
    }
}
