package dev.vertebra.core;

/** How a loss reduces its per-element values (PyTorch's {@code reduction} argument). */
public enum Reduction {
    /** Mean over all elements. */
    MEAN,
    /** Sum over all elements. */
    SUM,
    /** No reduction: one loss per element (or per sample, for cross-entropy). */
    NONE;

    Tensor apply(Tensor perElement) {
        return switch (this) {
            case MEAN -> perElement.mean();
            case SUM -> perElement.sum();
            case NONE -> perElement;
        };
    }
}
