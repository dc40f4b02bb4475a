package dev.vertebra.bench;

/**
 * Evicts the caches between benchmark calls, as the previous layers of a model do: inside a network every kernel
 * reads what an earlier op wrote, mostly from memory, while a benchmark that repeats one call on the same arrays
 * finds them in L2/L3 and overstates in-model speed about twice (bench/NOTES.md, "cold caches").
 */
final class ColdCache {

    // Twice the largest L3 these machines share, written and read once per sweep.
    private static final int SWEEP_FLOATS = 16 << 20;
    private static final float[] SWEEP = new float[SWEEP_FLOATS];

    private ColdCache() {
    }

    /** Walks 64 MB, one float per cache line, so what a benchmark touched before is out of the caches. */
    static float sweep() {
        float sum = 0f;
        for (int i = 0; i < SWEEP_FLOATS; i += 16) {
            SWEEP[i] += 1f;
            sum += SWEEP[i];
        }
        return sum;
    }

    /** How many copies of {@code bytesPerCopy} cycle so consecutive calls never meet their inputs in cache. */
    static int copiesFor(long bytesPerCopy) {
        return (int) Math.max(2, Math.min(8, (128L << 20) / Math.max(1, bytesPerCopy) + 1));
    }
}
