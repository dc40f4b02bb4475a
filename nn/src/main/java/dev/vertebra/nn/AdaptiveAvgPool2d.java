package dev.vertebra.nn;

import dev.vertebra.core.Functional;
import dev.vertebra.core.Tensor;

/**
 * Global average pooling of NHWC input to 1×1: {@code [N, H, W, C] → [N, 1, 1, C]} (PyTorch's {@code AdaptiveAvgPool2d(1)}).
 *
 * <pre>{@code
 * Tensor y = new AdaptiveAvgPool2d().forward(x);
 * }</pre>
 */
public final class AdaptiveAvgPool2d extends Module {

    /** A layer without parameters or buffers. */
    public AdaptiveAvgPool2d() {
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.globalAvgPool(x);
    }

    @Override
    public String toString() {
        return "AdaptiveAvgPool2d()";
    }
}
