package dev.vertebra.examples.trainer;

/**
 * Which slices show which vertebra in a study without a segmentation. A 2.5D crop of a few slices tells well
 * whether a vertebra is in it, but hardly which of C3..C7 it is; so the decoder takes from the network only "some
 * vertebra shows here" ({@code 1 − Π(1 − σ(visible_k))}), finds where the spine begins and ends, and lays the
 * {@link SpineAtlas} over that stretch. Each vertebra's slices are then widened by {@value #MARGIN} on either side,
 * because neighbours share the slices at their boundary.
 */
public final class SpineLevels {
    /** Slices added on either side of each vertebra's run. */
    static final int MARGIN = 1;
    /** Slices in a row that confirm an end of the spine. */
    static final int CONFIRM = 3;

    private SpineLevels() {
    }

    /**
     * {@code [slices][7]} flags "slice s shows C(k+1)" from per-slice logits whose first seven columns are the
     * visibility logits (slices inferior first).
     */
    public static boolean[][] decode(float[][] logits, SpineAtlas atlas) {
        return logits.length == 0 ? new boolean[0][7] : layOver(spineRun(logits), logits.length, atlas);
    }

    /** The atlas over slices {@code run[0]..run[1]} of {@code n}, each vertebra widened by the margin. */
    static boolean[][] layOver(int[] run, int n, SpineAtlas atlas) {
        boolean[][] out = new boolean[n][7];
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

    /**
     * {first, last} slice of the spine: the first and the last slice that begin or end {@value #CONFIRM} slices in
     * a row with P(some vertebra) > 1/2. The discs between vertebrae show no bone, so the spine is not one run of
     * positive slices, only its ends are; asking for a few in a row keeps a stray slice from moving an end. Falls back
     * to the single most likely slice when no such row exists.
     */
    static int[] spineRun(float[][] logits) {
        int n = logits.length;
        boolean[] any = new boolean[n];
        int best = 0;
        double bestLogit = Double.NEGATIVE_INFINITY;
        for (int s = 0; s < n; s++) {
            double none = 0;
            for (int k = 0; k < 7; k++) {
                none += logSigmoid(-logits[s][k]);
            }
            // P(some vertebra) = 1 − Π(1 − σ(visible_k)) > 1/2. Not the largest σ(visible_k): on a slice that shows
            // C5 a 2.5D crop spreads its belief over C3..C7, each below 1/2.
            any[s] = none < Math.log(0.5);
            if (-none > bestLogit) {
                bestLogit = -none;
                best = s;
            }
        }
        int need = Math.min(CONFIRM, n);
        int first = -1;
        for (int s = 0; s + need <= n && first < 0; s++) {
            first = allTrue(any, s, need) ? s : -1;
        }
        int last = -1;
        for (int s = n - need; s >= 0 && last < 0; s--) {
            last = allTrue(any, s, need) ? s + need - 1 : -1;
        }
        return first < 0 ? new int[] {best, best} : new int[] {first, last};
    }

    private static boolean allTrue(boolean[] v, int from, int count) {
        for (int i = from; i < from + count; i++) {
            if (!v[i]) {
                return false;
            }
        }
        return true;
    }

    /** log σ(x), stable for large |x|. */
    private static double logSigmoid(double x) {
        return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
    }
}
