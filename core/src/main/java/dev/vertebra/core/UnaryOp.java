package dev.vertebra.core;

/**
 * Elementwise unary operations. Each constant carries its scalar formula (what the reference backend computes,
 * in double) and the name of its GPU kernel, so a new op is added in one place.
 */
public enum UnaryOp {
    NEG("neg") {
        @Override
        public double apply(double x) {
            return -x;
        }
    },
    EXP("exp") {
        @Override
        public double apply(double x) {
            return Math.exp(x);
        }
    },
    LOG("log") {
        @Override
        public double apply(double x) {
            return Math.log(x);
        }
    },
    SQRT("sqrt") {
        @Override
        public double apply(double x) {
            return Math.sqrt(x);
        }
    },
    ABS("abs") {
        @Override
        public double apply(double x) {
            return Math.abs(x);
        }
    },
    SIGN("sign") {
        @Override
        public double apply(double x) {
            return Math.signum(x);
        }
    },
    RELU("relu") {
        @Override
        public double apply(double x) {
            return x > 0 || Double.isNaN(x) ? x : 0;
        }
    },
    SIGMOID("sigmoid") {
        @Override
        public double apply(double x) {
            // Two branches keep exp() from overflowing for large |x|.
            if (x >= 0) {
                return 1 / (1 + Math.exp(-x));
            }
            double e = Math.exp(x);
            return e / (1 + e);
        }
    },
    TANH("tanh") {
        @Override
        public double apply(double x) {
            return Math.tanh(x);
        }
    },
    SILU("silu") {
        @Override
        public double apply(double x) {
            return x * SIGMOID.apply(x);
        }
    },
    /** log(1 + e^x), computed stably as max(x, 0) + log1p(e^-|x|). */
    SOFTPLUS("softplus") {
        @Override
        public double apply(double x) {
            return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
        }
    };

    private final String kernel;

    UnaryOp(String kernel) {
        this.kernel = kernel;
    }

    /** The reference formula. */
    public abstract double apply(double x);

    /** Name of the GPU kernel implementing this op. */
    public String kernel() {
        return kernel;
    }
}
