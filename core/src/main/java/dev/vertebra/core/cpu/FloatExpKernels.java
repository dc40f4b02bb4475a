package dev.vertebra.core.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The elementwise ops built on e^x — exp, sigmoid, SiLU and SiLU's gradient — over contiguous float runs, one
 * loop per op; sigmoid and SiLU run {@link AffineSilu}'s, which other kernels make hot from the first step.
 *
 * <p>Why separate loops rather than a case of {@link FloatElementwise}'s op switch: C2 keeps a vector in registers
 * only along calls it inlines, and a switch that reaches {@link VectorExp} for some cases grows past its inlining
 * limits; the declined calls then box every 16-lane vector on the heap. That happened in the model: SiLU's
 * backward ran four times slower there than alone and fed the GC with boxes. Each loop here calls only
 * {@link VectorExp}'s small helpers and the Vector API.
 *
 * <p>Every element goes through the same vector instructions: a run's last partial vector is computed on a
 * zero-padded copy, not by a scalar formula, so a value never depends on where it sits in the tensor or in a
 * thread's chunk. All kernels are memory-bound on large runs (8 bytes moved per element for the unary ops, 12 for
 * the gradient, against ~25 vector operations per 16 elements).
 */
final class FloatExpKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /*
     * SiLU and the sigmoid run AffineSilu's loop with x·1 + (−0), which is x for every float (−0 and NaNs included),
     * this many elements a call: that loop is C2 code from the first step, while loops of their own here ran as C1
     * code, boxing every vector, for B0's first steps (its squeeze-and-excitations' [N, C]; at batch 32 for more than
     * twenty). Two more loads and an FMA a vector, from arrays that stay in cache.
     */
    private static final int IDENTITY_LENGTH = 16_384;
    private static final float[] ONES = filled(1f);
    private static final float[] NEGATIVE_ZEROS = filled(-0f);

    private FloatExpKernels() {
    }

    // Each kernel computes all n elements and returns n (so callers can treat it like a partial vector loop).

    /** y[yo + i] = e^x[xo + i] for i &lt; n. x: [n], y: [n]. */
    static int exp(float[] x, int xo, float[] y, int yo, int n) {
        int end = S.loopBound(n);
        for (int i = 0; i < end; i += L) {
            VectorExp.exp(FloatVector.fromArray(S, x, xo + i)).intoArray(y, yo + i);
        }
        if (end < n) {
            float[] tx = padded(x, xo + end, n - end);
            float[] ty = new float[L];
            exp(tx, 0, ty, 0, L);
            System.arraycopy(ty, 0, y, yo + end, n - end);
        }
        return n;
    }

    /** y[yo + i] = σ(x[xo + i]) for i &lt; n ({@link VectorExp#sigmoid}). x: [n], y: [n]. */
    static int sigmoid(float[] x, int xo, float[] y, int yo, int n) {
        int end = S.loopBound(n);
        onAffineSilu(x, xo, y, yo, end, true);
        if (end < n) {
            float[] tx = padded(x, xo + end, n - end);
            float[] ty = new float[L];
            sigmoid(tx, 0, ty, 0, L);
            System.arraycopy(ty, 0, y, yo + end, n - end);
        }
        return n;
    }

    /**
     * y[yo + i] = x·σ(x) = x / (1 + e^−x) for i &lt; n. x: [n], y: [n]. One division and no multiplication:
     * one rounding fewer than x·(1/(1 + e^−x)). At x = −∞ both forms give NaN, as the reference does.
     */
    static int silu(float[] x, int xo, float[] y, int yo, int n) {
        int end = S.loopBound(n);
        onAffineSilu(x, xo, y, yo, end, false);
        if (end < n) {
            float[] tx = padded(x, xo + end, n - end);
            float[] ty = new float[L];
            silu(tx, 0, ty, 0, L);
            System.arraycopy(ty, 0, y, yo + end, n - end);
        }
        return n;
    }

    /**
     * SiLU's backward: y[yo + i] = g·σ(x)·(1 + x·σ(−x)) for x = x[xo + i], g = g[go + i], i &lt; n; x, g, y: [n].
     * One exp, of the clamped u ({@link VectorExp#clampForSilu}: x within ±88, where e = e^−u is finite and not 0),
     * σ(x) = 1/(1 + e) (exactly 0 below the clamp, {@link VectorExp#sigmoidOfClamped}) and σ(−x) = e·σ(x) for every
     * x, with no branch on x's sign. g·σ(x)·(1 + x·σ(−x)) is formed as fma(g, σ(x)·fma(u, σ(−x), 1), x·0): the last
     * term is 0 but NaN at x = ±∞, where the reference is NaN (∞·0). Beyond the clamp the result is g (above) or ±0
     * (below), as the reference's.
     */
    static int siluGrad(float[] x, int xo, float[] g, int go, float[] y, int yo, int n) {
        int end = S.loopBound(n);
        for (int i = 0; i < end; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector u = VectorExp.clampForSilu(v);
            FloatVector e = VectorExp.expOfNegatedInRange(u);
            FloatVector s = VectorExp.sigmoidOfClamped(v, e);
            FloatVector q = s.mul(u.lanewise(VectorOperators.FMA, e.mul(s), 1f));
            FloatVector.fromArray(S, g, go + i).lanewise(VectorOperators.FMA, q, v.mul(0f)).intoArray(y, yo + i);
        }
        if (end < n) {
            float[] tx = padded(x, xo + end, n - end);
            float[] tg = padded(g, go + end, n - end);
            float[] ty = new float[L];
            siluGrad(tx, 0, tg, 0, ty, 0, L);
            System.arraycopy(ty, 0, y, yo + end, n - end);
        }
        return n;
    }

    /** silu or σ of x[xo, xo + n) into y, n a multiple of the vector length, by AffineSilu. */
    private static void onAffineSilu(float[] x, int xo, float[] y, int yo, int n, boolean sigmoid) {
        for (int i = 0; i < n; i += IDENTITY_LENGTH) {
            AffineSilu.apply(x, xo + i, y, yo + i, Math.min(IDENTITY_LENGTH, n - i), ONES, 0, NEGATIVE_ZEROS, 0,
                    sigmoid);
        }
    }

    private static float[] filled(float value) {
        float[] a = new float[IDENTITY_LENGTH];
        Arrays.fill(a, value);
        return a;
    }

    /** a[from, from + count) in a zero-filled array of one vector's length (count &lt; L). */
    private static float[] padded(float[] a, int from, int count) {
        float[] out = new float[L];
        System.arraycopy(a, from, out, 0, count);
        return out;
    }
}
