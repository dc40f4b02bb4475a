package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One Adam step over float32 arrays in one pass: w, g, m and v are each read once and w, m, v written once, where
 * the same step as tensor ops makes about ten passes and five temporaries of w's size (an AdamW step over B0's
 * 5.3 M parameters: ~150 MB of traffic instead of ~600). Every operation is the float32 operation the elementwise
 * ops perform, in their order, with no fused multiply-add, so the results are theirs bit for bit.
 */
final class FloatAdam {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private FloatAdam() {
    }

    /**
     * Elements [from, to) of w (from wOff), g (from gOff), m and v (from mOff, vOff).
     *
     * @param decay        w's factor before the step (AdamW), 1 for none
     * @param gradDecay    λ added as λ·w to the gradient (Adam), 0 for none
     * @param b1, b2       β1, β2; ob1, ob2: 1 − β1, 1 − β2 (each rounded from double, as the scalar ops do)
     * @param invC2        1 / √(1 − β2ᵗ) (dividing a tensor by a scalar multiplies by its reciprocal); eps;
     *                     negStep: −lr / (1 − β1ᵗ)
     */
    static void step(float[] w, int wOff, float[] g, int gOff, float[] m, int mOff, float[] v, int vOff, int from,
                     int to, float decay, float gradDecay, float b1, float ob1, float b2, float ob2, float invC2,
                     float eps, float negStep) {
        int i = from;
        for (int end = from + S.loopBound(to - from); i < end; i += S.length()) {
            FloatVector wi = FloatVector.fromArray(S, w, wOff + i);
            FloatVector gi = FloatVector.fromArray(S, g, gOff + i);
            if (decay != 1f) {
                wi = wi.mul(decay);
            }
            if (gradDecay != 0f) {
                gi = gi.add(wi.mul(gradDecay));
            }
            FloatVector mi = FloatVector.fromArray(S, m, mOff + i).mul(b1).add(gi.mul(ob1));
            FloatVector vi = FloatVector.fromArray(S, v, vOff + i).mul(b2).add(gi.mul(gi).mul(ob2));
            FloatVector denom = vi.sqrt().mul(invC2).add(eps);
            wi.add(mi.div(denom).mul(negStep)).intoArray(w, wOff + i);
            mi.intoArray(m, mOff + i);
            vi.intoArray(v, vOff + i);
        }
        for (; i < to; i++) {
            float wi = w[wOff + i];
            float gi = g[gOff + i];
            if (decay != 1f) {
                wi = wi * decay;
            }
            if (gradDecay != 0f) {
                gi = gi + wi * gradDecay;
            }
            float mi = m[mOff + i] * b1 + gi * ob1;
            float vi = v[vOff + i] * b2 + gi * gi * ob2;
            float denom = (float) Math.sqrt(vi) * invC2 + eps;
            w[wOff + i] = wi + mi / denom * negStep;
            m[mOff + i] = mi;
            v[vOff + i] = vi;
        }
    }
}
