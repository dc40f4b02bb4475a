package dev.vertebra.core;

/**
 * The autocast policy: every Vertebra op and what an {@link Autocast} scope does to its floating inputs. The
 * lists follow {@code torch.autocast}'s CUDA op lists (named in {@link #torchOps()}), for every device, so a
 * run's numerics do not depend on where it runs. Only float32 and 16-bit inputs are cast; float64 is left alone,
 * as in PyTorch.
 *
 * <table>
 *   <caption>Policy</caption>
 *   <tr><th>rule</th><th>ops</th></tr>
 *   <tr><td>{@link Rule#LOWER}</td><td>conv2d, matmul, linear</td></tr>
 *   <tr><td>{@link Rule#FP32}</td><td>exp, log, softplus, pow, sum, mean, var, softmax, log_softmax,
 *       BCE-with-logits, cross-entropy, MSE</td></tr>
 *   <tr><td>{@link Rule#FP32_STATISTICS}</td><td>batch norm</td></tr>
 *   <tr><td>{@link Rule#PROMOTE}</td><td>add, sub, mul, div, maximum, minimum, comparisons, concat, stack</td></tr>
 *   <tr><td>{@link Rule#KEEP}</td><td>neg, abs, sign, sqrt, relu, sigmoid, tanh, SiLU, max/min reductions,
 *       pooling, dropout, drop path, gather, views, tensor-scalar arithmetic</td></tr>
 * </table>
 */
public enum AutocastOp {
    // ---- LOWER: compute-bound; 16-bit operands halve memory traffic and use tensor cores / bf16 GEMMs.
    CONV2D(Rule.LOWER, "conv2d"),
    MATMUL(Rule.LOWER, "matmul, mm, bmm"),
    LINEAR(Rule.LOWER, "linear"),

    // ---- FP32: range or accumulation matters; 16-bit inputs are widened, results are float32.
    EXP(Rule.FP32, "exp"),
    LOG(Rule.FP32, "log"),
    SOFTPLUS(Rule.FP32, "softplus"),
    POW(Rule.FP32, "pow"),
    SUM(Rule.FP32, "sum"),
    /** torch accumulates in float32 but returns the input dtype; Vertebra returns float32. */
    MEAN(Rule.FP32, "mean (torch: float32 accumulation, input dtype out)"),
    VAR(Rule.FP32, "var"),
    SOFTMAX(Rule.FP32, "softmax"),
    LOG_SOFTMAX(Rule.FP32, "log_softmax"),
    BCE_WITH_LOGITS(Rule.FP32, "binary_cross_entropy_with_logits"),
    CROSS_ENTROPY(Rule.FP32, "cross_entropy"),
    MSE_LOSS(Rule.FP32, "mse_loss"),

    // ---- FP32_STATISTICS: low input, float32 statistics and parameters, output in the input dtype.
    BATCH_NORM(Rule.FP32_STATISTICS, "batch_norm (cuDNN's mixed-type batch norm)"),

    // ---- PROMOTE: mixed float inputs meet at the widest type (always, not only inside a scope).
    ADD(Rule.PROMOTE, "add"),
    SUB(Rule.PROMOTE, "sub"),
    MUL(Rule.PROMOTE, "mul"),
    DIV(Rule.PROMOTE, "div"),
    MAXIMUM(Rule.PROMOTE, "maximum"),
    MINIMUM(Rule.PROMOTE, "minimum"),
    COMPARE(Rule.PROMOTE, "gt, ge, lt, le, eq"),
    CONCAT(Rule.PROMOTE, "cat"),
    STACK(Rule.PROMOTE, "stack"),

    // ---- KEEP: cheap or exact in any precision; run in the dtype they are given.
    NEG(Rule.KEEP, "neg"),
    ABS(Rule.KEEP, "abs"),
    SIGN(Rule.KEEP, "sign"),
    SQRT(Rule.KEEP, "sqrt"),
    RELU(Rule.KEEP, "relu"),
    SIGMOID(Rule.KEEP, "sigmoid"),
    TANH(Rule.KEEP, "tanh"),
    SILU(Rule.KEEP, "silu"),
    MAX(Rule.KEEP, "amax, max"),
    MIN(Rule.KEEP, "amin, min"),
    POOL2D(Rule.KEEP, "max_pool2d, avg_pool2d"),
    DROPOUT(Rule.KEEP, "dropout, drop_path"),
    GATHER(Rule.KEEP, "gather"),
    SCALAR_ARITHMETIC(Rule.KEEP, "tensor-scalar add, mul, clamp (a Python scalar does not promote)");

    /** What happens to an op's floating inputs. */
    public enum Rule {
        /** Inside a scope, float32 and 16-bit inputs are cast to the scope's low type; the result is low. */
        LOWER,
        /** Inside a scope, 16-bit inputs are cast to float32; the result is float32. */
        FP32,
        /**
         * The input may be 16-bit with float32 parameters, in or out of a scope: statistics, running buffers and
         * parameters stay float32 and the result has the input's dtype.
         */
        FP32_STATISTICS,
        /** Floating inputs of different types are cast to the widest (bfloat16 with float16 gives float32). */
        PROMOTE,
        /** Inputs are used as given. */
        KEEP
    }

    private final Rule rule;
    private final String torchOps;

    AutocastOp(Rule rule, String torchOps) {
        this.rule = rule;
        this.torchOps = torchOps;
    }

    public Rule rule() {
        return rule;
    }

    /** The torch op names this entry corresponds to, for comparison with torch.autocast's lists. */
    public String torchOps() {
        return torchOps;
    }

    /**
     * {@code t} as this op takes it in the current scope: cast for {@link Rule#LOWER} and {@link Rule#FP32} inside a
     * scope, unchanged otherwise (and for null, integer and float64 tensors).
     */
    public Tensor input(Tensor t) {
        if (t == null || !Autocast.isEnabled()) {
            return t;
        }
        return switch (rule) {
            case LOWER -> isCastable(t.dtype()) ? t.to(Autocast.lowType().orElseThrow()) : t;
            case FP32 -> isLow(t.dtype()) ? t.to(DType.FLOAT32) : t;
            case FP32_STATISTICS, PROMOTE, KEEP -> t;
        };
    }

    /** The entry for an elementwise unary op. */
    public static AutocastOp of(UnaryOp op) {
        return switch (op) {
            case NEG -> NEG;
            case EXP -> EXP;
            case LOG -> LOG;
            case SQRT -> SQRT;
            case ABS -> ABS;
            case SIGN -> SIGN;
            case RELU -> RELU;
            case SIGMOID -> SIGMOID;
            case TANH -> TANH;
            case SILU -> SILU;
            case SOFTPLUS -> SOFTPLUS;
        };
    }

    /** The entry for a reduction. */
    public static AutocastOp of(ReduceOp op) {
        return switch (op) {
            case SUM -> SUM;
            case MAX -> MAX;
            case MIN -> MIN;
        };
    }

    /** True for float16 and bfloat16. */
    static boolean isLow(DType t) {
        return t == DType.FLOAT16 || t == DType.BFLOAT16;
    }

    private static boolean isCastable(DType t) {
        return t == DType.FLOAT32 || isLow(t);
    }

    /**
     * The type two floating operands meet at under {@link Rule#PROMOTE}, or null when they may not be mixed: a
     * 16-bit type meets a wider one at the wider, the two 16-bit types meet at float32 (neither holds the other),
     * and float32 with float64 stays an error (explicit casts keep accidental doubles visible).
     */
    static DType promote(DType a, DType b) {
        if (a == b) {
            return a;
        }
        if (!a.isFloating() || !b.isFloating() || !(isLow(a) || isLow(b))) {
            return null;
        }
        if (isLow(a) && isLow(b)) {
            return DType.FLOAT32;
        }
        return isLow(a) ? b : a;
    }
}
