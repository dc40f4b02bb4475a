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
 *
 * <p>C2 keeps a vector in registers only along calls it inlines; a call it declines boxes every vector argument
 * and result on the heap, which made these loops several times slower inside a model than alone. So each vector
 * loop has its op switch inside the body, every case storing its own result and calling only the Vector API, and
 * the ops built on e^x have loops of their own ({@link FloatExpKernels}).
 */
final class FloatElementwise {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private FloatElementwise() {
    }

    /**
     * y[yo + i] = op(x[xo + i·xs]) for i &lt; n, xs ∈ {0, 1}. Ops without a vector form of plain arithmetic
     * (log, tanh, softplus) run through the reference formula in double, which rounds the same in every JIT
     * state; the vector library's transcendental intrinsics do not (see {@link VectorExp}).
     */
    static void unary(UnaryOp op, float[] x, int xo, int xs, float[] y, int yo, int n) {
        int i = 0;
        if (xs == 1) {
            i = switch (op) {
                case EXP -> FloatExpKernels.exp(x, xo, y, yo, n);
                case SIGMOID -> FloatExpKernels.sigmoid(x, xo, y, yo, n);
                case SILU -> FloatExpKernels.silu(x, xo, y, yo, n);
                case NEG, SQRT, ABS, SIGN, RELU -> vectorUnary(op, x, xo, y, yo, n);
                case LOG, TANH, SOFTPLUS -> 0;
            };
        }
        for (; i < n; i++) {
            y[yo + i] = (float) op.apply(x[xo + i * xs]);
        }
    }

    /** The whole vectors of {@link #unary} for the plain-arithmetic ops; returns how many elements it did. */
    private static int vectorUnary(UnaryOp op, float[] x, int xo, float[] y, int yo, int n) {
        int end = S.loopBound(n);
        for (int i = 0; i < end; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            switch (op) {
                case NEG -> v.neg().intoArray(y, yo + i);
                case SQRT -> v.sqrt().intoArray(y, yo + i);
                case ABS -> v.abs().intoArray(y, yo + i);
                case SIGN -> {
                    VectorMask<Float> pos = v.compare(VectorOperators.GT, 0f);
                    VectorMask<Float> neg = v.compare(VectorOperators.LT, 0f);
                    FloatVector.zero(S).blend(1f, pos).blend(-1f, neg).blend(v, v.test(VectorOperators.IS_NAN))
                            .intoArray(y, yo + i);
                }
                case RELU -> v.max(0f).intoArray(y, yo + i);
                default -> throw new IllegalStateException(op + " has no vector form here");
            }
        }
        return end;
    }

    /**
     * y[yo + i] = a[ao + i] op s for i &lt; n, op one of the four arithmetic ops (else false: nothing done), as plain
     * float arithmetic: the same correctly rounded results as {@link #binary}'s vectors. For small tensors (a
     * squeeze-excitation's pooled sums scaled to means): these loops are cheap as C1 code and for C2 to compile,
     * where the Vector API's C1 code boxes every vector, and C2 would compile vectorBinary only once such rare calls
     * made it hot, during the first measured steps of inference (bench/NOTES.md, thirtieth round).
     */
    static boolean arithmeticScalar(BinaryOp op, float[] a, int ao, float s, float[] y, int yo, int n) {
        switch (op) {
            case ADD -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = a[ao + i] + s;
                }
            }
            case SUB -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = a[ao + i] - s;
                }
            }
            case MUL -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = a[ao + i] * s;
                }
            }
            case DIV -> {
                for (int i = 0; i < n; i++) {
                    y[yo + i] = a[ao + i] / s;
                }
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** y[yo + i] = op(a[ao + i·as], b[bo + i·bs]) for i &lt; n, strides ∈ {0, 1}. */
    static void binary(BinaryOp op, float[] a, int ao, int as, float[] b, int bo, int bs, float[] y, int yo, int n) {
        if (op == BinaryOp.SILU_GRAD && as == 1 && bs == 1) {
            FloatExpKernels.siluGrad(a, ao, b, bo, y, yo, n);
            return;
        }
        int i = 0;
        if ((as == 1 || as == 0) && (bs == 1 || bs == 0) && op != BinaryOp.POW && op != BinaryOp.SILU_GRAD) {
            i = vectorBinary(op, a, ao, as, b, bo, bs, y, yo, n);
        }
        for (; i < n; i++) {
            y[yo + i] = (float) op.apply(a[ao + i * as], b[bo + i * bs]);
        }
    }

    /**
     * The whole vectors of {@link #binary}; returns how many elements it did. One loop per broadcast case: a vector
     * that is either loaded or broadcast (a nullable merge) would keep C2 from keeping it in a register, and every
     * load would then allocate.
     */
    private static int vectorBinary(BinaryOp op, float[] a, int ao, int as, float[] b, int bo, int bs,
                                    float[] y, int yo, int n) {
        int end = S.loopBound(n);
        if (as == 0 && bs == 0) {
            FloatVector v = combine(op, FloatVector.broadcast(S, a[ao]), FloatVector.broadcast(S, b[bo]));
            for (int i = 0; i < end; i += L) {
                v.intoArray(y, yo + i);
            }
        } else if (as == 0) {
            FloatVector va = FloatVector.broadcast(S, a[ao]);
            for (int i = 0; i < end; i += L) {
                combine(op, va, FloatVector.fromArray(S, b, bo + i)).intoArray(y, yo + i);
            }
        } else if (bs == 0) {
            FloatVector vb = FloatVector.broadcast(S, b[bo]);
            for (int i = 0; i < end; i += L) {
                combine(op, FloatVector.fromArray(S, a, ao + i), vb).intoArray(y, yo + i);
            }
        } else {
            for (int i = 0; i < end; i += L) {
                combine(op, FloatVector.fromArray(S, a, ao + i), FloatVector.fromArray(S, b, bo + i))
                        .intoArray(y, yo + i);
            }
        }
        return end;
    }

    /**
     * {@code op(a, b)} lane by lane; comparisons give 1 or 0. Kept within C2's always-inline size (35 bytes of bytecode) for the common ops: a
     * vector handed to a call C2 does not inline is boxed, and a larger method is inlined only at call sites C2
     * finds hot, which depends on what else ran before (one unrelated change made every binary op here allocate
     * ~470 MB a B0 training step). The other ops go through {@link #combineOther}.
     */
    private static FloatVector combine(BinaryOp op, FloatVector a, FloatVector b) {
        if (op == BinaryOp.ADD) {
            return a.add(b);
        }
        if (op == BinaryOp.MUL) {
            return a.mul(b);
        }
        return combineOther(op, a, b);
    }

    private static FloatVector combineOther(BinaryOp op, FloatVector a, FloatVector b) {
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
            case MAX -> a.max(b);
            case MIN -> a.min(b);
            case GT -> indicator(a.compare(VectorOperators.GT, b));
            case GE -> indicator(a.compare(VectorOperators.GE, b));
            case LT -> indicator(a.compare(VectorOperators.LT, b));
            case LE -> indicator(a.compare(VectorOperators.LE, b));
            case EQ -> indicator(a.compare(VectorOperators.EQ, b));
            case POW, SILU_GRAD -> throw new IllegalStateException(op + " has no vector form here");
        };
    }

    private static FloatVector indicator(VectorMask<Float> m) {
        return FloatVector.zero(S).blend(1f, m);
    }
}
