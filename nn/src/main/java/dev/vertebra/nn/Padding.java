package dev.vertebra.nn;

/**
 * Padding of a {@link Conv2d}: a fixed number of pixels on every side (PyTorch's {@code padding=k}) or
 * TensorFlow's "SAME", computed from the input size at forward time (output = ceil(input / stride), the odd
 * extra pixel at the bottom/right), which the original EfficientNet weights were trained with.
 *
 * <pre>{@code
 * Padding.of(1);        // symmetric, one pixel
 * Padding.same();       // TF-SAME
 * }</pre>
 */
public sealed interface Padding {

    /** {@code pixels} on every side. */
    record Fixed(int pixels) implements Padding {
        public Fixed {
            if (pixels < 0) {
                throw new IllegalArgumentException("padding must be ≥ 0, got " + pixels);
            }
        }
    }

    /** TensorFlow's "SAME" padding. */
    record Same() implements Padding {
    }

    /** {@code pixels} on every side. */
    static Padding of(int pixels) {
        return new Fixed(pixels);
    }

    /** TensorFlow's "SAME" padding. */
    static Padding same() {
        return new Same();
    }
}
