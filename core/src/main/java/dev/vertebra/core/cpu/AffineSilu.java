package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * SiLU or the sigmoid of a per-channel affine map, {@code y = act(x·a + b)}, over a run of channels: one loop for
 * every SiLU and sigmoid that B0 computes a step but for the batch norm backward's. The convolution epilogue
 * ({@link ChannelEpilogue}), batch norm + SiLU's forward rows ({@link FloatBatchNormSilu}) and the elementwise SiLU
 * and sigmoid ({@link FloatExpKernels}, with a = 1 and b = −0, so z = x exactly) all run it.
 *
 * <p>Why one loop: until C2 compiles a vector loop it runs as C1 code, which boxes every vector. The expansions'
 * SiLU makes this loop hot within the first step, in inference (the epilogue) and in training (the batch norm rows).
 * The squeeze-and-excitations' SiLU and sigmoid are a few thousand vectors a step; in loops of their own they ran as
 * C1 code for the first five or more steps (SiLU for all of a training run's first fourteen), and C2 then compiled
 * them, with the exponential and the Vector API's mask methods on their own beside them, in the steps that B0's
 * side-by-side measures: 50–60 ms of the one C2 thread in inference (bench/NOTES.md, thirty-first round). Here they
 * run C2 code from the first steps, and nothing is left to compile.
 *
 * <p>SiLU is {@code z / (1 + e^−z)}, σ is {@code 1 / (1 + e^−z)}, both from {@link VectorExp#expOfNegatedForSilu}
 * (called once in the loop, so C2 inlines it as a frequent call). That gives σ {@link VectorExp#sigmoid}'s bits:
 * e^−z has expOfNumbers(−z)'s bits wherever −z ≥ MIN_ARG, and where −z is below it 1 + e^−z rounds to 1 either way; a
 * NaN lane takes −z, as {@link VectorExp#exp} gives it, so the same NaN comes out. A run's last partial vector goes
 * through the same instructions under a mask.
 */
final class AffineSilu {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final FloatVector ONES = FloatVector.broadcast(S, 1f);

    private AffineSilu() {
    }

    /**
     * y[to + j] = silu(z), or σ(z) with {@code sigmoid}, for z = x[from + j]·a[ao + j] + b[bo + j] (one rounding),
     * j &lt; n.
     */
    static void apply(float[] x, int from, float[] y, int to, int n, float[] a, int ao, float[] b, int bo,
                      boolean sigmoid) {
        int end = S.loopBound(n);
        for (int j = 0; j < end; j += L) {
            FloatVector z = FloatVector.fromArray(S, x, from + j)
                    .fma(FloatVector.fromArray(S, a, ao + j), FloatVector.fromArray(S, b, bo + j));
            FloatVector e = VectorExp.expOfNegatedForSilu(z);
            if (sigmoid) {
                ONES.div(e.blend(z.neg(), z.test(VectorOperators.IS_NAN)).add(1f)).intoArray(y, to + j);
            } else {
                z.div(e.add(1f)).intoArray(y, to + j);
            }
        }
        if (end < n) {
            if (sigmoid) {
                sigmoidTail(x, from + end, y, to + end, n - end, a, ao + end, b, bo + end);
            } else {
                siluTail(x, from + end, y, to + end, n - end, a, ao + end, b, bo + end);
            }
        }
    }

    /** The sigmoid of {@link #apply} on the last {@code n < L} elements, under a mask (a method of its own too). */
    private static void sigmoidTail(float[] x, int from, float[] y, int to, int n, float[] a, int ao, float[] b,
                                    int bo) {
        VectorMask<Float> m = S.indexInRange(0, n);
        FloatVector z = FloatVector.fromArray(S, x, from, m)
                .fma(FloatVector.fromArray(S, a, ao, m), FloatVector.fromArray(S, b, bo, m));
        VectorExp.sigmoid(z).intoArray(y, to, m);
    }

    /**
     * The SiLU of {@link #apply} on the last {@code n < L} elements, under a mask. A method of its own so each method
     * inlines {@link VectorExp#expOfNegatedForSilu} once: with both calls in one method C2 inlined only the first,
     * and the second ran the Vector API's boxing fallback (15 % of a 144 → 24 convolution's samples, JFR).
     */
    private static void siluTail(float[] x, int from, float[] y, int to, int n, float[] a, int ao, float[] b,
                                 int bo) {
        VectorMask<Float> m = S.indexInRange(0, n);
        FloatVector z = FloatVector.fromArray(S, x, from, m)
                .fma(FloatVector.fromArray(S, a, ao, m), FloatVector.fromArray(S, b, bo, m));
        z.div(VectorExp.expOfNegatedForSilu(z).add(1f)).intoArray(y, to, m);
    }
}
