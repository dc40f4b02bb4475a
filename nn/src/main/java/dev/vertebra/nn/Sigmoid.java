package dev.vertebra.nn;

import dev.vertebra.core.Tensor;

/**
 * The logistic sigmoid {@code 1 / (1 + e^(−x))}, elementwise.
 *
 * <pre>{@code
 * Tensor y = new Sigmoid().forward(x);
 * }</pre>
 */
public final class Sigmoid extends Module {

    /** A layer without parameters or buffers. */
    public Sigmoid() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.sigmoid();
    }

    @Override
    public String toString() {
        return "Sigmoid()";
    }
}
