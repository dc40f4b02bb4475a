package dev.vertebra.nn;

import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Tensor;

/**
 * A trainable tensor of a {@link Module}: a leaf that requires gradients while trainable, with the layout it
 * takes in state dicts. Frozen parameters ({@link #trainable(boolean) trainable(false)}) record no gradients
 * and optimisers skip them.
 *
 * <pre>{@code
 * Parameter w = new Parameter(Init.normal(gen, Shape.of(16, 8), 0, 0.02, Device.CPU));
 * Tensor y = x.matmul(w.data());
 * w.grad();                 // after backward
 * w.trainable(false);       // freeze
 * }</pre>
 */
public final class Parameter implements StateEntry {
    private Tensor data;
    private final FileLayout fileLayout;
    private boolean trainable = true;

    /** A trainable parameter stored as held. */
    public Parameter(Tensor data) {
        this(data, FileLayout.SAME);
    }

    /** A trainable parameter with the layout it takes in state dicts. */
    public Parameter(Tensor data, FileLayout fileLayout) {
        if (!data.dtype().isFloating()) {
            throw new IllegalArgumentException("a parameter must be floating-point, got " + data.describe());
        }
        this.data = MemoryScope.keep(data.isLeaf() ? data : data.detach());
        this.data.requiresGrad(true);
        this.fileLayout = fileLayout;
    }

    /** The current value: a leaf tensor, requiring gradients while trainable. */
    @Override
    public Tensor data() {
        return data;
    }

    /** The gradient accumulated by backward, or null. */
    public Tensor grad() {
        return data.grad();
    }

    /** Replaces (or clears, with null) the gradient. */
    public void setGrad(Tensor grad) {
        data.setGrad(grad);
    }

    /** How this parameter is laid out in state dicts and files. */
    public FileLayout fileLayout() {
        return fileLayout;
    }

    /** True when the parameter records gradients and optimisers update it. */
    public boolean trainable() {
        return trainable;
    }

    /** Freezes ({@code false}) or unfreezes the parameter; freezing drops its gradient. */
    public Parameter trainable(boolean value) {
        trainable = value;
        data.requiresGrad(value);
        if (!value) {
            data.setGrad(null);
        }
        return this;
    }

    /** Copies {@code value} (same shape, held layout, cast to this dtype) into the parameter in place. */
    public void copyFrom(Tensor value) {
        if (!value.shape().equals(data.shape())) {
            throw new IllegalArgumentException("cannot copy " + value.describe() + " into a parameter of shape "
                    + data.shape());
        }
        try (NoGrad _ = NoGrad.enter()) {
            data.assign(value.to(data.device()).to(data.dtype()));
        }
    }

    /**
     * Replaces the tensor (for moving to another device or dtype); the new one becomes a leaf with this
     * parameter's trainable flag.
     */
    public void replace(Tensor value) {
        if (!value.shape().equals(data.shape())) {
            throw new IllegalArgumentException("cannot replace a parameter of shape " + data.shape() + " by "
                    + value.describe());
        }
        data = MemoryScope.keep(value.detach());
        data.requiresGrad(trainable);
    }

    @Override
    public String toString() {
        return "Parameter(" + data.describe() + (trainable ? "" : ", frozen") + ")";
    }
}
