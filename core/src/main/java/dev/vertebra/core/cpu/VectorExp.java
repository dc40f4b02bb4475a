package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
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
 * e^r by a polynomial of degree 6 (relative error below 4·10⁻⁹), times 2^n by an integer add to the exponent bits.
 * Results below the smallest normal float flush to 0; above the largest, +∞; NaN stays NaN. Accurate to about 1 ulp.
 *
 * <p>Size matters here: a vector kernel is only fast when C2 inlines this method into its loop (a call it declines
 * boxes every vector argument and result on the heap), and C2 inlines a hot callee only up to 325 bytes of
 * bytecode. Scalar-operand forms ({@code lanewise(FMA, v, c)}) keep it well under that.
 *
 * <p>In {@link #exp}, out-of-range lanes are not clamped on the way in, only replaced on the way out, and 2^n is a
 * shift and an integer add instead of seven integer operations and two multiplications by halves of it: 19 vector
 * operations instead of 26, 30 % less time, with the same result for every one of the 2^32 inputs (NaN payloads
 * aside). The degree-6 polynomial then took one FMA away (18). SiLU's forms of e^−v ({@link #expOfNegatedForSilu},
 * and {@link #clampForSilu} with {@link #expOfNegatedInRange} for its gradient) clamp on the way in instead, where
 * their callers' formulas give the reference's value from the clamped exponential.
 */
final class VectorExp {
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693145751953125f;          // 12 significant bits: n·LN2_HI is exact
    private static final float LN2_LO = 1.42860682030941723212e-6f;
    /** 1.5·2^23: adding it rounds to an integer that then sits in the low mantissa bits. */
    private static final float SHIFTER = 0x1.8p23f;
    /*
     * e^r ≈ 1 + r + C2·r² + … + C6·r⁶ on |r| ≤ ln2/2, fitted for the least maximum relative error (3.8·10⁻⁹, the
     * degree-7 Taylor polynomial's 7·10⁻⁹ with one FMA fewer): core/src/test/python/fit_exp_polynomial.py.
     */
    private static final float C2 = 0x1.fffffcp-2f;
    private static final float C3 = 0x1.555492p-3f;
    private static final float C4 = 0x1.5558f2p-5f;
    private static final float C5 = 0x1.1239d4p-7f;
    private static final float C6 = 0x1.6a244cp-10f;
    private static final float MAX_ARG = 88.72283f;   // e^x overflows above
    private static final float MIN_ARG = -87.33654f;  // e^x is subnormal below

    private VectorExp() {
    }

    /** e^v lane by lane. */
    static FloatVector exp(FloatVector v) {
        // The integer add in expOfNumbers would turn a NaN into a number: NaN lanes take the input back.
        return expOfNumbers(v).blend(v, v.test(VectorOperators.IS_NAN));
    }

    /**
     * e^v for the lanes that are not NaN; a NaN lane's result is unspecified. For SiLU's forward form
     * {@code v / (1 + e^−v)}, which is NaN where v is whatever the exponential gives there: one compare and one blend
     * fewer, a tenth of a SiLU's time (3.05 → 2.75 ns a vector in L1), and the same bits as with {@link #exp} for
     * every one of the 2^32 inputs, NaNs included (an exhaustive comparison of the two SiLUs). Likewise for SiLU's
     * gradient {@code g·σ(v)·(1 + v·σ(−v))}, NaN through {@code v·σ(−v)}: the same value for every one of the 2^32
     * inputs (two values of g), a NaN input's NaN with other payload bits (3 % of batch norm + SiLU's backward in L2).
     */
    static FloatVector expOfNumbers(FloatVector v) {
        VectorMask<Float> under = v.lt(MIN_ARG);
        VectorMask<Float> over = v.compare(VectorOperators.GT, MAX_ARG);
        // Lanes outside [MIN_ARG, MAX_ARG] compute garbage (or NaN) below and are replaced at the end.
        FloatVector t = v.lanewise(FMA, LOG2E, SHIFTER);
        FloatVector n = t.sub(SHIFTER);
        FloatVector r = n.lanewise(FMA, -LN2_HI, v);
        r = n.lanewise(FMA, -LN2_LO, r);
        FloatVector p = r.lanewise(FMA, C6, C5);
        p = p.lanewise(FMA, r, C4);
        p = p.lanewise(FMA, r, C3);
        p = p.lanewise(FMA, r, C2);
        p = p.lanewise(FMA, r, 1f);
        p = p.lanewise(FMA, r, 1f);
        // p · 2^n by adding n to p's exponent bits. n sits in t's low mantissa bits, and t's other bits shift out
        // of a 32-bit lane: n << 23 == t's bits << 23. Exact while the result is a normal float, which holds on
        // [MIN_ARG, MAX_ARG]: there p < 1 when n = 128 and p ≥ 1 when n = −126 (up to the last bit of r, which then
        // gives the same subnormal that p · 2^n rounds to).
        FloatVector y = p.reinterpretAsInts().add(t.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23))
                .reinterpretAsFloats();
        return y.blend(0f, under).blend(Float.POSITIVE_INFINITY, over);
    }

    /** σ(v) = 1 / (1 + e^−v) lane by lane; e^−v overflows to +∞ for very negative v, which still gives 0. */
    static FloatVector sigmoid(FloatVector v) {
        return FloatVector.broadcast(v.species(), 1f).div(exp(v.neg()).add(1f));
    }

    /**
     * e^−v for SiLU's forward form {@code v / (1 + e^−v)}: the bits of {@code expOfNumbers(v.neg())} wherever −v is
     * at least MIN_ARG (+∞ where it is above MAX_ARG, as there), and e^MIN_ARG, the smallest normal float, where −v
     * is below MIN_ARG, instead of 0: 1 + e^−v rounds to 1 either way, so the SiLU is the same bits for every input.
     * One operation fewer than negating and calling expOfNumbers: the negation goes into the constants.
     */
    static FloatVector expOfNegatedForSilu(FloatVector v) {
        VectorMask<Float> over = v.lt(-MAX_ARG);
        FloatVector inRange = v.blend(-MIN_ARG, v.compare(VectorOperators.GT, -MIN_ARG));
        return expOfNegatedInRange(inRange).blend(Float.POSITIVE_INFINITY, over);
    }

    /**
     * v clamped to [−MAX_ARG, −MIN_ARG], where {@link #expOfNegatedInRange} is exact: for SiLU's gradient
     * {@code g·σ(v)·(1 + v·σ(−v))}, whose σ(−v) = e^−v·σ(v) then needs no branch on v's sign (e^−v is finite, so no
     * ∞·0), and whose v·σ(−v) takes the clamped v (beyond the clamp, v·e^−v of the clamped v is as close to 0 as
     * the true one). NaN stays NaN.
     *
     * <p>Two compares and two blends. Not Java's float min and max (several instructions each in C2, for their
     * rules on NaN and signed zeros), nor an integer min on the bits (one instruction in C2, but as C1 code the
     * reinterpretations made B0's inference 10–20 % slower, and the first steps run partly as C1 code:
     * bench/NOTES.md, twenty-eighth round).
     */
    static FloatVector clampForSilu(FloatVector v) {
        FloatVector above = v.blend(-MAX_ARG, v.lt(-MAX_ARG));
        return above.blend(-MIN_ARG, above.compare(VectorOperators.GT, -MIN_ARG));
    }

    /**
     * σ(v) = 1 / (1 + e^−v) from e = {@code expOfNegatedInRange(clampForSilu(v))}, exactly 0 where v is below
     * −MAX_ARG (e^−v taken as ∞ there, as {@link #expOfNegatedForSilu} gives it): so σ(v)·(anything finite) is 0
     * there, as the reference's is, rather than the clamped e's 3·10⁻³⁹ times it.
     */
    static FloatVector sigmoidOfClamped(FloatVector v, FloatVector e) {
        return FloatVector.broadcast(e.species(), 1f).div(e.blend(Float.POSITIVE_INFINITY, v.lt(-MAX_ARG)).add(1f));
    }

    /**
     * e^−v for −v in [MIN_ARG, MAX_ARG] (anything for other lanes): {@link #expOfNumbers}'s steps for −v, with the
     * negation carried by the constants. n = round(−v·log2 e) as there; the reduced argument is −r, and the
     * polynomial in −r takes the odd coefficients negated. Rounding is symmetric in sign, so every step gives
     * expOfNumbers' value or its exact negation: the same result, bit for bit.
     */
    static FloatVector expOfNegatedInRange(FloatVector v) {
        FloatVector t = v.lanewise(FMA, -LOG2E, SHIFTER);
        FloatVector n = t.sub(SHIFTER);
        FloatVector r = n.lanewise(FMA, LN2_HI, v);                     // −r of expOfNumbers(−v)
        r = n.lanewise(FMA, LN2_LO, r);
        FloatVector p = r.lanewise(FMA, C6, -C5);
        p = p.lanewise(FMA, r, C4);
        p = p.lanewise(FMA, r, -C3);
        p = p.lanewise(FMA, r, C2);
        p = p.lanewise(FMA, r, -1f);
        p = p.lanewise(FMA, r, 1f);
        return p.reinterpretAsInts().add(t.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23))
                .reinterpretAsFloats();
    }
}
