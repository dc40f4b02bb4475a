package dev.vertebra.examples.metric;

/** A solution or submission that cannot be scored: the message names the row or line at fault. */
public final class MetricException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public MetricException(String message) {
        super(message);
    }
}
