package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static jdk.incubator.vector.VectorOperators.FMA;

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
 * exponent bits (in two halves, so n = 128 stays finite). Results below the smallest normal float flush to 0;
 * above the largest, +∞; NaN stays NaN. Accurate to about 1 ulp.
 *
 * <p>Size matters here: a vector kernel is only fast when C2 inlines this method into its loop (a call it declines
 * boxes every vector argument and result on the heap), and C2 inlines a hot callee only up to 325 bytes of
 * bytecode. Scalar-operand forms ({@code lanewise(FMA, v, c)}) keep it well under that; clamping by blends
 * instead of min/max also saves the NaN-aware min/max sequences.
 */
final class VectorExp {
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
        VectorMask<Float> under = v.lt(MIN_ARG);
        VectorMask<Float> over = v.compare(VectorOperators.GT, MAX_ARG);
        FloatVector x = v.blend(MIN_ARG, under).blend(MAX_ARG, over);   // NaN passes through and stays NaN
        FloatVector t = x.lanewise(FMA, LOG2E, SHIFTER);
        FloatVector n = t.sub(SHIFTER);
        FloatVector r = n.lanewise(FMA, -LN2_HI, x);
        r = n.lanewise(FMA, -LN2_LO, r);
        FloatVector p = r.lanewise(FMA, 1f / 5040, 1f / 720);
        p = p.lanewise(FMA, r, 1f / 120);
        p = p.lanewise(FMA, r, 1f / 24);
        p = p.lanewise(FMA, r, 1f / 6);
        p = p.lanewise(FMA, r, 0.5f);
        p = p.lanewise(FMA, r, 1f);
        p = p.lanewise(FMA, r, 1f);
        // 2^n as 2^a · 2^b with a = n >> 1, b = n - a, so that n = 128 (e^88.7) needs no infinite exponent;
        // n is read back from the rounded sum's low bits; 2^k is (k + 127) << 23.
        IntVector nInt = t.reinterpretAsInts().sub(SHIFTER_BITS);
        IntVector a = nInt.lanewise(VectorOperators.ASHR, 1);
        IntVector b = nInt.sub(a);
        FloatVector y = p.mul(a.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(b.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
        return y.blend(0f, under).blend(Float.POSITIVE_INFINITY, over);
    }
}
