package dev.vertebra.nn;

import dev.vertebra.core.Tensor;

/**
 * The SiLU (swish) activation {@code x·σ(x)}, elementwise.
 *
 * <pre>{@code
 * Tensor y = new SiLU().forward(x);
 * }</pre>
 */
public final class SiLU extends Module {

    /** A layer without parameters or buffers. */
    public SiLU() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.silu();
    }

    @Override
    public String toString() {
        return "SiLU()";
    }
}
