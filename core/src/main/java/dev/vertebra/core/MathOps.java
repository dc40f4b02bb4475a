package dev.vertebra.core;

import java.util.Arrays;

/** Elementwise ops, reductions and matmul with their backward rules. */
final class MathOps {

    private MathOps() {
    }

    static void requireFloating(String op, Tensor x) {
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException(op + " needs a floating-point tensor, got " + x.describe());
        }
    }

    static Tensor unary(UnaryOp op, Tensor input) {
        requireFloating(op.kernel(), input);
        Tensor x = AutocastOp.of(op).input(input);
        Tensor y = x.backend().unary(op, x);
        return Autograd.record(op.kernel(), y, g -> new Tensor[]{unaryGrad(op, x, y, g)}, x);
    }

    private static Tensor unaryGrad(UnaryOp op, Tensor x, Tensor y, Tensor g) {
        return switch (op) {
            case NEG -> g.neg();
            case EXP -> g.mul(y);
            case LOG -> g.div(x);
            case SQRT -> g.div(y).mul(0.5);
            case ABS -> g.mul(x.backend().unary(UnaryOp.SIGN, x));
            case SIGN -> g.mul(0);
            case RELU -> g.mul(x.gt(0));
            // σ'(x) = σ(x)·σ(-x): no cancellation where σ(x) rounds to 1 (1 - y would).
            case SIGMOID -> g.mul(y.mul(x.neg().sigmoid()));
            case TANH -> g.mul(y.mul(y).neg().add(1));
            case SILU -> siluGrad(x, g);
            case SOFTPLUS -> g.mul(x.sigmoid());
        };
    }

    /**
     * {@code g·silu'(x)} in one fused pass ({@link BinaryOp#SILU_GRAD}), itself differentiable: by {@code g} it is
     * {@code silu'(x)}, by {@code x} it is {@code g·silu''(x)} with {@code silu'' = σ(x)·σ(−x)·(2 + x·(σ(−x) − σ(x)))}.
     */
    private static Tensor siluGrad(Tensor x, Tensor g) {
        checkPair("silu_grad", x, g);
        Tensor y = x.backend().binary(BinaryOp.SILU_GRAD, x, g);
        return Autograd.record("silu_grad", y, gg -> {
            Tensor s = x.sigmoid();
            Tensor t = x.neg().sigmoid();
            Tensor second = s.mul(t).mul(x.mul(t.sub(s)).add(2));
            return new Tensor[]{Views.sumTo(gg.mul(g).mul(second), x.shape()), Views.sumTo(siluGrad(x, gg), g.shape())};
        }, x, g);
    }

    static Tensor binary(BinaryOp op, Tensor left, Tensor right) {
        requireFloating(op.kernel(), left);
        Tensor[] operands = promoted(op.kernel(), left, right);
        Tensor a = operands[0];
        Tensor b = operands[1];
        Shape.broadcast(a.shape(), b.shape());
        Tensor y = a.backend().binary(op, a, b);
        return Autograd.record(op.kernel(), y, g -> {
            // Only the gradients some input needs: a constant operand (a drop-path mask, a target) would otherwise
            // cost a full-size product and its reduction.
            boolean da = a.requiresGrad();
            boolean db = b.requiresGrad();
            Tensor[] grads = switch (op) {
                case ADD -> new Tensor[]{g, g};
                case SUB -> new Tensor[]{g, db ? g.neg() : null};
                case MUL -> {
                    Tensor[] both = da && db ? broadcastMulGradients(g, a, b) : null;
                    yield both != null ? both
                            : new Tensor[]{da ? mulSumTo(g, b, a.shape()) : null, db ? mulSumTo(g, a, b.shape()) : null};
                }
                case DIV -> new Tensor[]{da ? g.div(b) : null, db ? g.mul(a).div(b.mul(b)).neg() : null};
                case MAX, MIN -> {
                    BinaryOp wins = op == BinaryOp.MAX ? BinaryOp.GT : BinaryOp.LT;
                    Tensor tie = compare(BinaryOp.EQ, a, b).mul(0.5);
                    yield new Tensor[]{da ? g.mul(compare(wins, a, b).add(tie)) : null,
                            db ? g.mul(compare(wins, b, a).add(tie)) : null};
                }
                default -> throw new UnsupportedOperationException("no gradient for " + op);
            };
            return new Tensor[]{da ? Views.sumTo(grads[0], a.shape()) : null,
                    db ? Views.sumTo(grads[1], b.shape()) : null};
        }, a, b);
    }

    /**
     * Both gradients of a·b where g and a have one shape and b is a broadcast over some of its dimensions (a
     * squeeze-excitation's x·gate): {@link Backend#broadcastMulGradients}, which may read g once for both. Null
     * where that does not apply, or while a graph of the gradients is being recorded (the separate ops record
     * their own rules).
     */
    private static Tensor[] broadcastMulGradients(Tensor g, Tensor a, Tensor b) {
        if (NoGrad.isGradEnabled() || !g.shape().equals(a.shape()) || g.dtype() != a.dtype()
                || b.dtype() != a.dtype() || b.rank() != a.rank() || b.shape().equals(a.shape())) {
            return null;
        }
        // g has the product's shape, so a having it too leaves b's dimensions its own size or 1.
        return g.backend().broadcastMulGradients(g, a, b, broadcastDims(a.shape(), b.shape()));
    }

    /** The dimensions a same-rank {@code target} broadcasts over: size 1 there and not in {@code full}. */
    private static int[] broadcastDims(Shape full, Shape target) {
        int[] dims = new int[full.rank()];
        int n = 0;
        for (int i = 0; i < full.rank(); i++) {
            if (target.dim(i) == 1 && full.dim(i) != 1) {
                dims[n++] = i;
            }
        }
        return Arrays.copyOf(dims, n);
    }

    /**
     * {@code g·other}, summed down to {@code target} when that is a broadcast operand's shape: for g and other of
     * one shape and dtype, one backend op ({@link Backend#mulSum}) without the full-size product — the gradient of
     * x·gate with respect to a squeeze-excitation gate. Otherwise the plain product, which the caller sums. The
     * sum records its own backward rule, as the product and sum it replaces would.
     */
    private static Tensor mulSumTo(Tensor g, Tensor other, Shape target) {
        if (!g.shape().equals(other.shape()) || g.dtype() != other.dtype() || g.rank() != target.rank()
                || g.shape().equals(target)) {
            return g.mul(other);
        }
        int[] dims = broadcastDims(g.shape(), target);
        Tensor y = g.backend().mulSum(g, other, dims, true);
        return Autograd.record("mul_sum", y, dy -> new Tensor[]{dy.mul(other), dy.mul(g)}, g, other);
    }

    static Tensor binaryScalar(BinaryOp op, Tensor input, double s) {
        requireFloating(op.kernel(), input);
        Tensor a = (op == BinaryOp.POW ? AutocastOp.POW : AutocastOp.SCALAR_ARITHMETIC).input(input);
        Tensor y = a.backend().binaryScalar(op, a, s);
        return Autograd.record(op.kernel(), y, g -> new Tensor[]{switch (op) {
            case ADD -> g;
            case MUL -> g.mul(s);
            case POW -> s == 0 ? g.mul(0) : g.mul(a.pow(s - 1).mul(s));   // d(x⁰)/dx = 0, not 0·x⁻¹
            case MAX -> g.mul(compareScalar(BinaryOp.GE, a, s));
            case MIN -> g.mul(compareScalar(BinaryOp.LE, a, s));
            default -> throw new UnsupportedOperationException("no gradient for " + op + " with a scalar");
        }}, a);
    }

    static Tensor compare(BinaryOp op, Tensor left, Tensor right) {
        Tensor[] operands = promoted(op.kernel(), left, right);
        Shape.broadcast(left.shape(), right.shape());
        return operands[0].backend().binary(op, operands[0], operands[1]);
    }

    static Tensor compareScalar(BinaryOp op, Tensor a, double s) {
        return a.backend().binaryScalar(op, a, s);
    }

    static Tensor clamp(Tensor x, double min, double max) {
        if (min > max) {
            throw new IllegalArgumentException("clamp: min " + min + " > max " + max);
        }
        return binaryScalar(BinaryOp.MIN, binaryScalar(BinaryOp.MAX, x, min), max);
    }

    /**
     * {@code a} and {@code b} cast to the type they meet at ({@link AutocastOp.Rule#PROMOTE}): a 16-bit float with a
     * wider one promotes; other differing dtypes are an error.
     */
    static Tensor[] promoted(String op, Tensor a, Tensor b) {
        a.requireSameDevice(op, b);
        DType common = AutocastOp.promote(a.dtype(), b.dtype());
        if (common == null) {
            throw new IllegalArgumentException(op + ": dtypes differ: " + a.describe() + " and " + b.describe());
        }
        return new Tensor[]{a.to(common), b.to(common)};
    }

    private static void checkPair(String op, Tensor a, Tensor b) {
        a.requireSameDevice(op, b);
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(op + ": dtypes differ: " + a.describe() + " and " + b.describe());
        }
    }

    static int[] normaliseDims(Tensor x, int[] dims) {
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            out[i] = x.shape().axis(dims[i]);
        }
        Arrays.sort(out);
        for (int i = 1; i < out.length; i++) {
            if (out[i] == out[i - 1]) {
                throw new IllegalArgumentException("dimension " + out[i] + " repeated in " + Arrays.toString(dims));
            }
        }
        return out;
    }

    static Tensor reduce(ReduceOp op, Tensor input, int[] dims, boolean keepDim) {
        requireFloating(op.kernel(), input);
        Tensor x = AutocastOp.of(op).input(input);
        int[] d = normaliseDims(x, dims);
        Tensor y = x.backend().reduce(op, x, d, keepDim);
        Shape kept = keptShape(x.shape(), d);
        return Autograd.record(op.kernel(), y, g -> {
            Tensor gk = g.reshape(kept.dims());
            if (op == ReduceOp.SUM) {
                return new Tensor[]{gk.expand(x.shape())};
            }
            Tensor mask = compare(BinaryOp.EQ, x, y.reshape(kept.dims()));
            Tensor count = mask.sum(true, d);
            return new Tensor[]{mask.mul(gk.div(count))};
        }, x);
    }

    static Shape keptShape(Shape s, int[] dims) {
        int[] out = s.dims();
        for (int d : dims) {
            out[d] = 1;
        }
        return Shape.of(out);
    }

    static Tensor mean(Tensor input, int[] dims, boolean keepDim) {
        Tensor x = AutocastOp.MEAN.input(input);
        int[] d = normaliseDims(x, dims);
        long n = 1;
        for (int i : d) {
            n *= x.dim(i);
        }
        return reduce(ReduceOp.SUM, x, d, keepDim).mul(1.0 / n);
    }

    static Tensor var(Tensor input, int[] dims, int correction, boolean keepDim) {
        Tensor x = AutocastOp.VAR.input(input);
        int[] d = normaliseDims(x, dims);
        long n = 1;
        for (int i : d) {
            n *= x.dim(i);
        }
        Tensor centred = x.sub(mean(x, d, true));
        return reduce(ReduceOp.SUM, centred.mul(centred), d, keepDim).mul(1.0 / Math.max(n - correction, 0));
    }

    static Tensor matmul(Tensor left, Tensor right) {
        Tensor a = AutocastOp.MATMUL.input(left);
        Tensor b = AutocastOp.MATMUL.input(right);
        checkPair("matmul", a, b);
        requireFloating("matmul", a);
        if (a.rank() == 0 || b.rank() == 0) {
            throw new IllegalArgumentException("matmul needs at least 1-D operands: " + a.describe() + ", " + b.describe());
        }
        // Checked here, on the caller's operands: the 1-D cases below recurse on reshaped views, whose shapes
        // would make a confusing message.
        if (a.dim(-1) != b.dim(b.rank() == 1 ? 0 : -2)) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + a.describe() + " × " + b.describe());
        }
        if (a.rank() == 1) {
            // [K] is treated as [1, K] and the added row dropped again; for 1-D · 1-D the column b became is
            // already gone, so the row is the last dimension left and the result is 0-d (NumPy's dot product).
            Tensor y = matmul(a.unsqueeze(0), b);
            return b.rank() == 1 ? y.squeeze(-1) : y.squeeze(-2);
        }
        if (b.rank() == 1) {
            return matmul(a, b.unsqueeze(1)).squeeze(-1);
        }
        int m = a.dim(-2);
        int k = a.dim(-1);
        int n = b.dim(-1);
        if (b.rank() == 2) {
            // [..., M, K] × [K, N]: fold the batch into M, one GEMM, no copy of b.
            int[] batch = Arrays.copyOf(a.shape().dims(), a.rank() - 2);
            Tensor flat = matmul3(a.reshape(1, Shape.of(batch).numel() * m, k), b.unsqueeze(0));
            int[] out = Arrays.copyOf(batch, batch.length + 2);
            out[batch.length] = m;
            out[batch.length + 1] = n;
            return flat.reshape(out);
        }
        Shape batchA = Shape.of(Arrays.copyOf(a.shape().dims(), a.rank() - 2));
        Shape batchB = Shape.of(Arrays.copyOf(b.shape().dims(), b.rank() - 2));
        Shape batch;
        try {
            batch = Shape.broadcast(batchA, batchB);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("matmul: batch dimensions of " + a.describe() + " and " + b.describe()
                    + " cannot be broadcast together", e);
        }
        int[] ea = Arrays.copyOf(batch.dims(), batch.rank() + 2);
        ea[batch.rank()] = m;
        ea[batch.rank() + 1] = k;
        int[] eb = Arrays.copyOf(batch.dims(), batch.rank() + 2);
        eb[batch.rank()] = k;
        eb[batch.rank() + 1] = n;
        Tensor a3 = a.expand(Shape.of(ea)).reshape(batch.numel(), m, k);
        Tensor b3 = b.expand(Shape.of(eb)).reshape(batch.numel(), k, n);
        int[] out = Arrays.copyOf(batch.dims(), batch.rank() + 2);
        out[batch.rank()] = m;
        out[batch.rank() + 1] = n;
        return matmul3(a3, b3).reshape(out);
    }

    /** The backend primitive with its backward: a [B, M, K] × b [B', K, N], B' ∈ {B, 1 when B = 1}. */
    private static Tensor matmul3(Tensor a, Tensor b) {
        Tensor y = a.backend().matmul(a, b);
        return Autograd.record("matmul", y, g -> new Tensor[]{
                a.requiresGrad() ? matmul3(g, b.transpose(1, 2)) : null,
                b.requiresGrad() ? matmul3(a.transpose(1, 2), g) : null}, a, b);
    }
}
