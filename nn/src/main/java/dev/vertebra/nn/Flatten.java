package dev.vertebra.nn;

import dev.vertebra.core.Tensor;

/**
 * Flattens every dimension after the batch: {@code [N, d1, d2, …] → [N, d1·d2·…]} (PyTorch's {@code Flatten()}).
 *
 * <pre>{@code
 * Tensor y = new Flatten().forward(x);
 * }</pre>
 */
public final class Flatten extends Module {

    /** A layer without parameters or buffers. */
    public Flatten() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.rank() <= 2 ? x : x.flatten(1, x.rank() - 1);
    }

    @Override
    public String toString() {
        return "Flatten()";
    }
}
