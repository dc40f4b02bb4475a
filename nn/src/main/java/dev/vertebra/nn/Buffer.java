package dev.vertebra.nn;

import dev.vertebra.core.DType;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Tensor;

/**
 * A non-trainable tensor a {@link Module} keeps and saves in its state dict (batch norm's running statistics and
 * {@code num_batches_tracked}). Buffers are updated in place; a counter is counted on the host ({@link #increment})
 * and added to the tensor when the tensor is next read.
 */
public final class Buffer implements StateEntry {
    private Tensor data;
    /** Added to data on the next read: a count kept off the device until someone looks. */
    private long pending;

    /** A buffer holding {@code data} (detached). */
    public Buffer(Tensor data) {
        this.data = MemoryScope.keep(data.detach());
    }

    /** The current value (increments counted since the last read included). */
    @Override
    public Tensor data() {
        if (pending != 0) {
            long n = pending;
            pending = 0;
            // Through float64 (int64 arithmetic is not every backend's), exact for counts below 2^53.
            try (NoGrad _ = NoGrad.enter()) {
                data.assign(data.to(DType.FLOAT64).add(n).to(data.dtype()));
            }
        }
        return data;
    }

    /**
     * Adds {@code n} to every element, counted on the host until the next {@link #data} read. Batch norm counts
     * its batches this way: the cast, add, cast back and copy it took a layer and step on the device were 294 of an
     * EfficientNet-B0 training step's 1046 primitives (launches, on a GPU), for a number a checkpoint reads.
     */
    public void increment(long n) {
        pending += n;
    }

    /** Copies {@code value} (same shape, cast to this dtype) into the buffer in place. */
    public void copyFrom(Tensor value) {
        if (!value.shape().equals(data.shape())) {
            throw new IllegalArgumentException("cannot copy " + value.describe() + " into a buffer of shape "
                    + data.shape());
        }
        pending = 0;
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
        pending = 0;
        data = MemoryScope.keep(value.detach());
    }

    @Override
    public String toString() {
        return "Buffer(" + data.describe() + (pending != 0 ? ", " + pending + " to add" : "") + ")";
    }
}
