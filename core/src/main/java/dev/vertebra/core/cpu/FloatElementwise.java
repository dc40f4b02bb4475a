package dev.vertebra.core.cpu;

import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised float32 elementwise loops over one inner run of elements. Operands are read at stride 1 or stride 0
 * (a broadcast value); anything else goes through the scalar fallback.
 */
final class FloatElementwise {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private FloatElementwise() {
    }

    /**
     * y[yo + i] = op(x[xo + i·xs]) for i &lt; n, xs ∈ {0, 1}. Ops without a vector form of plain arithmetic
     * (log, tanh, softplus) run through the reference formula in double, which rounds the same in every JIT
     * state; the vector library's transcendental intrinsics do not (see {@link VectorExp}).
     */
    static void unary(UnaryOp op, float[] x, int xo, int xs, float[] y, int yo, int n) {
        int i = 0;
        if (xs == 1 && vectorised(op)) {
            for (int end = S.loopBound(n); i < end; i += S.length()) {
                apply(op, FloatVector.fromArray(S, x, xo + i)).intoArray(y, yo + i);
            }
        }
        for (; i < n; i++) {
            y[yo + i] = (float) op.apply(x[xo + i * xs]);
        }
    }

    private static boolean vectorised(UnaryOp op) {
        return op != UnaryOp.LOG && op != UnaryOp.TANH && op != UnaryOp.SOFTPLUS;
    }

    private static FloatVector apply(UnaryOp op, FloatVector v) {
        return switch (op) {
            case NEG -> v.neg();
            case EXP -> VectorExp.exp(v);
            case SQRT -> v.sqrt();
            case ABS -> v.abs();
            case SIGN -> sign(v);
            case RELU -> v.max(0f);
            case SIGMOID -> sigmoid(v);
            case SILU -> v.mul(sigmoid(v));
            case LOG, TANH, SOFTPLUS -> throw new IllegalStateException(op + " has no vector form");
        };
    }

    private static FloatVector sign(FloatVector v) {
        FloatVector zero = FloatVector.zero(S);
        VectorMask<Float> pos = v.compare(VectorOperators.GT, 0f);
        VectorMask<Float> neg = v.compare(VectorOperators.LT, 0f);
        return zero.blend(1f, pos).blend(-1f, neg).blend(v, v.test(VectorOperators.IS_NAN));
    }

    /** σ(v) = 1 / (1 + e^-v); e^-v overflows to +inf for very negative v, which still gives the right 0. */
    static FloatVector sigmoid(FloatVector v) {
        return FloatVector.broadcast(S, 1f).div(VectorExp.exp(v.neg()).add(1f));
    }

    /**
     * g·σ(x)·(1 + x·σ(−x)) with one exp: e = e^−x, σ(x) = 1/(1 + e), σ(−x) = e·σ(x) for x ≥ 0 (e ≤ 1) and
     * 1 − σ(x) for x &lt; 0 (σ(x) small, so no cancellation; and e·σ(x) would be ∞·0 where e overflows).
     */
    private static FloatVector siluGrad(FloatVector x, FloatVector g) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector e = VectorExp.exp(x.neg());
        FloatVector s = one.div(e.add(1f));
        FloatVector t = e.mul(s).blend(one.sub(s), x.compare(VectorOperators.LT, 0f));
        return g.mul(s.mul(x.mul(t).add(1f)));
    }

    /** y[yo + i] = op(a[ao + i·as], b[bo + i·bs]) for i &lt; n, strides ∈ {0, 1}. */
    static void binary(BinaryOp op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] y, int yo, int n) {
        int i = 0;
        if ((as == 1 || as == 0) && (bs == 1 || bs == 0) && vectorised(op)) {
            FloatVector av = as == 0 ? FloatVector.broadcast(S, a[ao]) : null;
            FloatVector bv = bs == 0 ? FloatVector.broadcast(S, b[bo]) : null;
            for (int end = S.loopBound(n); i < end; i += S.length()) {
                FloatVector va = av != null ? av : FloatVector.fromArray(S, a, ao + i);
                FloatVector vb = bv != null ? bv : FloatVector.fromArray(S, b, bo + i);
                apply(op, va, vb).intoArray(y, yo + i);
            }
        }
        for (; i < n; i++) {
            y[yo + i] = (float) op.apply(a[ao + i * as], b[bo + i * bs]);
        }
    }

    private static boolean vectorised(BinaryOp op) {
        return op != BinaryOp.POW;
    }

    private static FloatVector apply(BinaryOp op, FloatVector a, FloatVector b) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector zero = FloatVector.zero(S);
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
            case GT -> zero.blend(one, a.compare(VectorOperators.GT, b));
            case GE -> zero.blend(one, a.compare(VectorOperators.GE, b));
            case LT -> zero.blend(one, a.compare(VectorOperators.LT, b));
            case LE -> zero.blend(one, a.compare(VectorOperators.LE, b));
            case EQ -> zero.blend(one, a.compare(VectorOperators.EQ, b));
            case SILU_GRAD -> siluGrad(a, b);
            case MAX -> a.max(b);
            case MIN -> a.min(b);
            case POW -> throw new IllegalStateException(op + " has no vector form");
        };
    }
}
