package dev.vertebra.core;

/**
 * A seeded, reproducible random number generator (xoshiro256** seeded through SplitMix64). Every random
 * operation in Vertebra takes one explicitly, so runs are reproducible without global state; the state can be
 * saved and restored (for checkpoints).
 *
 * <pre>{@code
 * Generator gen = new Generator(42);
 * Tensor w = Init.normal(gen, Shape.of(64, 32), 0, 0.02, Device.CPU);
 * }</pre>
 */
public final class Generator {
    private final long[] s = new long[4];

    public Generator(long seed) {
        long x = seed;
        for (int i = 0; i < 4; i++) {
            x += 0x9E3779B97F4A7C15L;
            long z = x;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            s[i] = z ^ (z >>> 31);
        }
    }

    /** The next 64 random bits. */
    public long nextLong() {
        long result = Long.rotateLeft(s[1] * 5, 7) * 9;
        long t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = Long.rotateLeft(s[3], 45);
        return result;
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform integer in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive: " + bound);
        }
        return (int) ((nextLong() >>> 33) % bound);
    }

    /** Standard normal (Box–Muller; one value per call so the stream does not depend on call pairing). */
    public double nextGaussian() {
        double u1 = nextDouble();
        double u2 = nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** A new generator seeded from this one (for handing to worker threads). */
    public Generator split() {
        return new Generator(nextLong());
    }

    /** The current state, for checkpoints. */
    public long[] state() {
        return s.clone();
    }

    /** Restores a state from {@link #state()}. */
    public void setState(long[] state) {
        if (state.length != 4) {
            throw new IllegalArgumentException("generator state has 4 longs, got " + state.length);
        }
        System.arraycopy(state, 0, s, 0, 4);
    }
}
