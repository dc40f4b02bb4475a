package dev.vertebra.core;

/** Reductions over chosen dimensions. Mean and variance are composites of {@link #SUM}. */
public enum ReduceOp {
    SUM("sum", 0),
    MAX("max", Double.NEGATIVE_INFINITY),
    MIN("min", Double.POSITIVE_INFINITY);

    private final String kernel;
    private final double identity;

    ReduceOp(String kernel, double identity) {
        this.kernel = kernel;
        this.identity = identity;
    }

    /** The value an empty reduction starts from. */
    public double identity() {
        return identity;
    }

    /** Combines an accumulator with one element (NaN propagates through max/min, as in PyTorch). */
    public double combine(double acc, double x) {
        return switch (this) {
            case SUM -> acc + x;
            case MAX -> Double.isNaN(acc) || Double.isNaN(x) ? Double.NaN : Math.max(acc, x);
            case MIN -> Double.isNaN(acc) || Double.isNaN(x) ? Double.NaN : Math.min(acc, x);
        };
    }

    /** Name of the GPU kernel implementing this reduction. */
    public String kernel() {
        return kernel;
    }
}
