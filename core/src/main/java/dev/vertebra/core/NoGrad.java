package dev.vertebra.core;

/**
 * A scope in which operations record no autograd graph (evaluation, optimiser updates). Scopes nest and are
 * per thread.
 *
 * <pre>{@code
 * try (NoGrad _ = NoGrad.enter()) {
 *     Tensor logits = model.forward(x);   // no graph kept
 * }
 * }</pre>
 */
public final class NoGrad implements AutoCloseable {
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private boolean closed;

    private NoGrad() {
    }

    /** Enters a no-grad scope; close it to leave. */
    public static NoGrad enter() {
        DEPTH.get()[0]++;
        return new NoGrad();
    }

    /** True when operations on this thread currently record gradients. */
    public static boolean isGradEnabled() {
        return DEPTH.get()[0] == 0;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            DEPTH.get()[0]--;
        }
    }
}
