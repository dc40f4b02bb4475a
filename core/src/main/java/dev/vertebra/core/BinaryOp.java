package dev.vertebra.core;

/**
 * Elementwise binary operations with NumPy broadcasting. Comparisons return 1 or 0 in the operands' dtype (so a
 * mask multiplies directly). Each constant carries its reference formula and its GPU kernel name.
 */
public enum BinaryOp {
    ADD("add") {
        @Override
        public double apply(double a, double b) {
            return a + b;
        }
    },
    SUB("sub") {
        @Override
        public double apply(double a, double b) {
            return a - b;
        }
    },
    MUL("mul") {
        @Override
        public double apply(double a, double b) {
            return a * b;
        }
    },
    DIV("div") {
        @Override
        public double apply(double a, double b) {
            return a / b;
        }
    },
    POW("pow") {
        @Override
        public double apply(double a, double b) {
            return Math.pow(a, b);
        }
    },
    MAX("maximum") {
        @Override
        public double apply(double a, double b) {
            return Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
        }
    },
    MIN("minimum") {
        @Override
        public double apply(double a, double b) {
            return Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.min(a, b);
        }
    },
    GT("gt") {
        @Override
        public double apply(double a, double b) {
            return a > b ? 1 : 0;
        }
    },
    GE("ge") {
        @Override
        public double apply(double a, double b) {
            return a >= b ? 1 : 0;
        }
    },
    LT("lt") {
        @Override
        public double apply(double a, double b) {
            return a < b ? 1 : 0;
        }
    },
    LE("le") {
        @Override
        public double apply(double a, double b) {
            return a <= b ? 1 : 0;
        }
    },
    EQ("eq") {
        @Override
        public double apply(double a, double b) {
            return a == b ? 1 : 0;
        }
    },
    /**
     * SiLU's backward, {@code b·silu'(a)} for SiLU's input {@code a} and the gradient {@code b} of its output, with
     * {@code silu'(x) = σ(x)·(1 + x·σ(−x))}: one pass where the composite takes seven (autograd uses it).
     */
    SILU_GRAD("silu_grad") {
        @Override
        public double apply(double a, double b) {
            return b * (UnaryOp.SIGMOID.apply(a) * (1 + a * UnaryOp.SIGMOID.apply(-a)));
        }
    };

    private final String kernel;

    BinaryOp(String kernel) {
        this.kernel = kernel;
    }

    /** The reference formula. */
    public abstract double apply(double a, double b);

    /** Name of the GPU kernel implementing this op. */
    public String kernel() {
        return kernel;
    }
}
