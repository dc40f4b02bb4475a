package dev.vertebra.core;

import java.util.Optional;

/**
 * A mixed-precision scope, the counterpart of {@code torch.autocast}: inside it, compute-bound ops (convolution,
 * matmul, linear) cast their floating inputs to a 16-bit type and return 16-bit results, numerically sensitive
 * ops (sums, means, softmax, exp/log, losses) compute in float32, and batch norm keeps float32 statistics and
 * parameters. {@link AutocastOp} lists every op and its rule. Casts are ordinary differentiable ops, so gradients
 * reach float32 parameters as float32: parameters never change dtype.
 *
 * <p>Scopes are per thread and nest; closing one restores the state it found. {@link #disable()} opens a scope
 * with autocast off (e.g. for a part of the model that must stay float32). Backward passes run with autocast off,
 * whatever scope is open: each op's backward uses the dtypes its forward recorded.
 *
 * <pre>{@code
 * try (Autocast _ = Autocast.enter(DType.BFLOAT16)) {
 *     Tensor logits = model.forward(x);              // convolutions and linear layers in bfloat16
 *     loss = Losses.crossEntropy(logits, labels, 0, Reduction.MEAN);   // float32
 * }
 * loss.backward();                                   // float32 gradients on the float32 parameters
 * }</pre>
 */
public final class Autocast implements AutoCloseable {
    /** One open scope: its low type (null when it switches autocast off) and the scope it was opened in. */
    private record Frame(DType lowType, Frame previous) {
    }

    private static final ThreadLocal<Frame> TOP = new ThreadLocal<>();

    private final Frame frame;
    private boolean closed;

    private Autocast(Frame frame) {
        this.frame = frame;
        TOP.set(frame);
    }

    /**
     * Opens a scope that runs the {@link AutocastOp.Rule#LOWER LOWER} ops in {@code lowType}: {@link DType#BFLOAT16}
     * (float32's range, no loss scaling needed) or {@link DType#FLOAT16} (use a loss scaler: small gradients
     * underflow).
     */
    public static Autocast enter(DType lowType) {
        if (lowType != DType.BFLOAT16 && lowType != DType.FLOAT16) {
            throw new IllegalArgumentException("autocast runs in bfloat16 or float16, not " + lowType);
        }
        return new Autocast(new Frame(lowType, TOP.get()));
    }

    /** Opens a scope with autocast off: every op runs in the dtypes it is given. */
    public static Autocast disable() {
        return new Autocast(new Frame(null, TOP.get()));
    }

    /** True when an autocast scope is in force on this thread. */
    public static boolean isEnabled() {
        Frame f = TOP.get();
        return f != null && f.lowType() != null;
    }

    /** The low type of the scope in force, or empty when autocast is off on this thread. */
    public static Optional<DType> lowType() {
        Frame f = TOP.get();
        return Optional.ofNullable(f == null ? null : f.lowType());
    }

    /**
     * Leaves the scope, restoring the state it was opened in.
     *
     * @throws IllegalStateException when an inner scope is still open (scopes must close in reverse order)
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (TOP.get() != frame) {
            throw new IllegalStateException("autocast scopes must be closed in the reverse order of opening: an inner "
                    + "scope is still open");
        }
        closed = true;
        TOP.set(frame.previous());
    }
}
