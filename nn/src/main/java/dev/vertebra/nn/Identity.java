package dev.vertebra.nn;

import dev.vertebra.core.Tensor;

/**
 * Returns its input unchanged (a placeholder where a layer is optional).
 *
 * <pre>{@code
 * Tensor y = new Identity().forward(x);
 * }</pre>
 */
public final class Identity extends Module {

    /** A layer without parameters or buffers. */
    public Identity() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return x;
    }

    @Override
    public String toString() {
        return "Identity()";
    }
}
