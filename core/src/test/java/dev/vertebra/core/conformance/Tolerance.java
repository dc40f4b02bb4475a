package dev.vertebra.core.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * How far a backend's result may stray from the reference: element {@code i} passes when
 * {@code |got - want| ≤ rel·|want| + absOfMax·max|want|}. The second term covers cancellation: a sum of K terms
 * whose result is small still carries an error of order ulp × the terms' magnitude, which the tensor's largest
 * element stands in for.
 *
 * @param rel      error allowed relative to the element itself
 * @param absOfMax error allowed relative to the largest element of the expected tensor
 * @param why      the reason for the bound (fp32 rounding, accumulation length, …)
 */
public record Tolerance(double rel, double absOfMax, String why) {

    /** Bitwise-equal results: copies, views, masks, integer casts, comparisons. */
    public static final Tolerance EXACT = new Tolerance(0, 0, "pure data movement or exact arithmetic");

    /** One fp32 rounding of a correctly rounded formula, a few ulp for vectorised transcendental functions. */
    public static final Tolerance ELEMENTWISE = new Tolerance(1e-5, 1e-6,
            "one fp32 rounding (≤ a few ulp for vectorised exp/log/tanh); gradients like 1 - tanh² cancel, "
                    + "hence the small floor relative to the largest element");

    /** Reductions, GEMM, convolution: fp32 accumulation of K terms, error growing like sqrt(K)·ulp. */
    public static final Tolerance ACCUMULATING = new Tolerance(1e-5, 1e-5,
            "fp32 accumulation over up to a few hundred terms (error ~ sqrt(K)·ulp of the terms)");

    /** Composites with a reduction followed by cancellation (var, softmax backward, batch-norm backward). */
    public static final Tolerance CANCELLING = new Tolerance(1e-5, 5e-5,
            "a reduction feeding a subtraction of nearly equal fp32 values (centring, softmax/BN backward)");

    /** Asserts {@code got} matches {@code want} element by element; {@code what} names the compared tensor. */
    public void assertClose(String what, double[] want, double[] got) {
        assertEquals(want.length, got.length, what + ": element count");
        double maxAbs = 0;
        for (double w : want) {
            if (Double.isFinite(w)) {
                maxAbs = Math.max(maxAbs, Math.abs(w));
            }
        }
        for (int i = 0; i < want.length; i++) {
            double w = want[i];
            double g = got[i];
            if (Double.isNaN(w) || Double.isInfinite(w)) {
                if (Double.compare(w, g) != 0) {
                    fail(what + "[" + i + "]: expected " + w + ", got " + g);
                }
                continue;
            }
            double bound = rel * Math.abs(w) + absOfMax * maxAbs;
            if (!(Math.abs(g - w) <= bound)) {
                fail(what + "[" + i + "]: expected " + w + ", got " + g + " (|diff| " + Math.abs(g - w)
                        + " > bound " + bound + "; tolerance: " + why + ")");
            }
        }
    }
}
