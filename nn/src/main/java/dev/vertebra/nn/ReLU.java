package dev.vertebra.nn;

import dev.vertebra.core.Tensor;

/**
 * The rectifier {@code max(x, 0)}, elementwise.
 *
 * <pre>{@code
 * Tensor y = new ReLU().forward(x);
 * }</pre>
 */
public final class ReLU extends Module {

    /** A layer without parameters or buffers. */
    public ReLU() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.relu();
    }

    @Override
    public String toString() {
        return "ReLU()";
    }
}
