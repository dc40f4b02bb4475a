package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * e^x on float vectors from additions, multiplications and FMAs only.
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: that one is a native math-library intrinsic in C2-compiled
 * code but a different scalar fallback in the interpreter, so the same computation gives results a few ulp
 * apart depending on what the JIT has compiled so far — and training is then not repeatable. Plain arithmetic
 * rounds identically in every execution mode.
 *
 * <p>Method: x = n·ln2 + r with n = round(x / ln2) and |r| ≤ ln2/2 (ln2 split in two for an exact product),
 * e^r by its Taylor polynomial to degree 7 (truncation error below 1e-8 relative), times 2^n built in the
 * exponent bits (in two halves, so n = 128 stays finite). Results below the smallest normal float flush to 0; above the largest, +∞; NaN stays NaN.
 * Accurate to about 1 ulp.
 */
final class VectorExp {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693145751953125f;          // 12 significant bits: n·LN2_HI is exact
    private static final float LN2_LO = 1.42860682030941723212e-6f;
    /** 1.5·2^23: adding it rounds to an integer that then sits in the low mantissa bits. */
    private static final float SHIFTER = 0x1.8p23f;
    private static final int SHIFTER_BITS = 0x4B400000;
    private static final float MAX_ARG = 88.72283f;   // e^x overflows above
    private static final float MIN_ARG = -87.33654f;  // e^x is subnormal below

    private VectorExp() {
    }

    /** e^v lane by lane. */
    static FloatVector exp(FloatVector v) {
        FloatVector x = v.max(MIN_ARG).min(MAX_ARG);
        FloatVector t = x.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, SHIFTER));
        FloatVector n = t.sub(SHIFTER);
        FloatVector r = n.neg().fma(FloatVector.broadcast(S, LN2_HI), x);
        r = n.neg().fma(FloatVector.broadcast(S, LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, 1f / 5040);
        p = p.fma(r, FloatVector.broadcast(S, 1f / 720));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(S, 0.5f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        // 2^n as 2^a · 2^b with a = n >> 1, b = n - a, so that n = 128 (e^88.7) needs no infinite exponent;
        // n is read back from the rounded sum's low bits; 2^k is (k + 127) << 23.
        IntVector nInt = t.reinterpretAsInts().sub(SHIFTER_BITS);
        IntVector a = nInt.lanewise(VectorOperators.ASHR, 1);
        IntVector b = nInt.sub(a);
        FloatVector y = p.mul(a.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(b.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
        VectorMask<Float> under = v.compare(VectorOperators.LT, MIN_ARG);
        VectorMask<Float> over = v.compare(VectorOperators.GT, MAX_ARG);
        return y.blend(0f, under).blend(Float.POSITIVE_INFINITY, over).blend(v, v.test(VectorOperators.IS_NAN));
    }
}
