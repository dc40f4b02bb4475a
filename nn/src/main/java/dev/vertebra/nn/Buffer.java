package dev.vertebra.nn;

import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Tensor;

/**
 * A non-trainable tensor a {@link Module} keeps and saves in its state dict (batch norm's running statistics and
 * {@code num_batches_tracked}). Buffers are updated in place.
 */
public final class Buffer implements StateEntry {
    private Tensor data;

    /** A buffer holding {@code data} (detached). */
    public Buffer(Tensor data) {
        this.data = MemoryScope.keep(data.detach());
    }

    /** The current value. */
    @Override
    public Tensor data() {
        return data;
    }

    /** Copies {@code value} (same shape, cast to this dtype) into the buffer in place. */
    public void copyFrom(Tensor value) {
        if (!value.shape().equals(data.shape())) {
            throw new IllegalArgumentException("cannot copy " + value.describe() + " into a buffer of shape "
                    + data.shape());
        }
        try (NoGrad _ = NoGrad.enter()) {
            data.assign(value.to(data.device()).to(data.dtype()));
        }
    }

    /** Replaces the tensor (for moving to another device). */
    public void replace(Tensor value) {
        if (!value.shape().equals(data.shape())) {
            throw new IllegalArgumentException("cannot replace a buffer of shape " + data.shape() + " by "
                    + value.describe());
        }
        data = MemoryScope.keep(value.detach());
    }

    @Override
    public String toString() {
        return "Buffer(" + data.describe() + ")";
    }
}
