package dev.vertebra.core.cpu;

import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.UnaryOp;
import org.junit.jupiter.api.Test;

import java.util.function.DoubleUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exp-family loops against the reference formulas, at lengths around the vector width and at offsets, with the
 * edge values; and every element computed the same whether it sits in a full vector or in the padded tail.
 */
class FloatExpKernelsTest {
    private static final int[] LENGTHS = {0, 1, 3, 15, 16, 17, 31, 33, 64, 100, 4099};
    private static final float[] EDGES = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
            100f, -100f, 88.7f, -87.3f, 90f, -90f, 1e-8f, -1e-8f, 20f, -20f, 0.5f, 1e30f, -1e30f, Float.MAX_VALUE,
            -Float.MAX_VALUE};

    /** One of the four kernels as (x, g, y) → y, g ignored for the unary ones. */
    private interface Kernel {
        void run(float[] x, int xo, float[] g, int go, float[] y, int yo, int n);
    }

    private record Op(String name, Kernel kernel, DoubleUnaryOperator reference, boolean hasGrad) {
    }

    private static final Op[] OPS = {
            new Op("exp", (x, xo, g, go, y, yo, n) -> FloatExpKernels.exp(x, xo, y, yo, n), UnaryOp.EXP::apply, false),
            new Op("sigmoid", (x, xo, g, go, y, yo, n) -> FloatExpKernels.sigmoid(x, xo, y, yo, n),
                    UnaryOp.SIGMOID::apply, false),
            new Op("silu", (x, xo, g, go, y, yo, n) -> FloatExpKernels.silu(x, xo, y, yo, n), UnaryOp.SILU::apply, false),
            new Op("silu_grad", FloatExpKernels::siluGrad, null, true)};

    @Test
    void matchTheReferenceAtEveryLengthAndOffset() {
        for (Op op : OPS) {
            for (int n : LENGTHS) {
                for (int offset : new int[]{0, 5}) {
                    float[] x = new float[offset + n];
                    float[] g = new float[offset + n];
                    for (int i = 0; i < n; i++) {
                        x[offset + i] = i < EDGES.length ? EDGES[i] : (float) (-30 + 60.0 * i / n);
                        g[offset + i] = (float) Math.cos(i * 0.37) * 3;
                    }
                    float[] y = new float[offset + n + 3];
                    java.util.Arrays.fill(y, 42f);
                    op.kernel().run(x, offset, g, offset, y, offset + 1, n);
                    assertEquals(42f, y[offset], op.name() + ": wrote before its range");
                    assertEquals(42f, y[offset + n + 1], op.name() + ": wrote past its range");
                    for (int i = 0; i < n; i++) {
                        float xi = x[offset + i];
                        double want = op.hasGrad() ? BinaryOp.SILU_GRAD.apply(xi, g[offset + i])
                                : op.reference().applyAsDouble(xi);
                        float got = y[offset + 1 + i];
                        String what = op.name() + "(" + xi + "), n = " + n + ", offset " + offset;
                        if (Double.isNaN(want)) {
                            assertTrue(Float.isNaN(got), what + ": " + got);
                        } else if (Double.isInfinite(want)) {
                            assertEquals((float) want, got, what);
                        } else {
                            // 2 ulp; results below 1e-30 may flush to 0 (e^x does below the smallest normal float,
                            // and x·σ(x) for x < −88 where e^−x overflows).
                            double bound = Math.max(2 * Math.ulp((float) want), 1e-30) + 2e-6 * Math.abs(want);
                            if (op.hasGrad()) {
                                // 1 + x·σ(−x) cancels near silu's minimum (x ≈ −1.28): an error of a few ulp of 1, times g.
                                bound += 2e-6 * Math.abs(g[offset + i]);
                            }
                            assertEquals(want, got, bound, what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void anElementGivesTheSameBitsInAFullVectorAndInTheTail() {
        int n = 61;   // whole vectors then a tail, for 8- and 16-lane species alike
        float[] x = new float[n];
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (-12 + 0.41 * i);
            g[i] = 1.5f - 0.05f * i;
        }
        for (Op op : OPS) {
            float[] all = new float[n];
            op.kernel().run(x, 0, g, 0, all, 0, n);
            for (int i = 0; i < n; i++) {
                float[] one = new float[1];
                op.kernel().run(x, i, g, i, one, 0, 1);   // alone: always the padded tail
                assertEquals(Float.floatToIntBits(all[i]), Float.floatToIntBits(one[0]),
                        op.name() + " element " + i + ": " + all[i] + " in the run, " + one[0] + " alone");
            }
        }
    }
}
