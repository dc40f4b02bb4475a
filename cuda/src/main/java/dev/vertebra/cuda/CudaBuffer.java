package dev.vertebra.cuda;

import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.DeviceStorage;

import java.lang.ref.Cleaner;

/**
 * A block of device memory holding {@code size} elements of one dtype.
 *
 * <p>Tensors are plain Java objects without a close, so a buffer registers a {@link Cleaner} action that returns
 * its block to the {@link CachingAllocator} once the buffer is unreachable: that is how GPU memory of
 * temporaries is reclaimed. {@link #close()} returns it at once (and makes later use throw
 * {@link IllegalStateException}); the block is returned exactly once either way.
 */
public final class CudaBuffer implements DeviceStorage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Device device;
    private final DType dtype;
    private final int size;
    private final long address;
    private final Cleaner.Cleanable cleanable;
    private volatile boolean closed;

    /** The cleaner's action: must not reference the buffer, or the buffer would never become unreachable. */
    private record Release(CachingAllocator allocator, long address, long blockBytes) implements Runnable {
        @Override
        public void run() {
            allocator.release(address, blockBytes);
        }
    }

    CudaBuffer(Device device, DType dtype, int size, CachingAllocator allocator) {
        this.device = device;
        this.dtype = dtype;
        this.size = size;
        if (size == 0) {
            this.address = 0;
            this.cleanable = null;
        } else {
            long[] block = allocator.allocate((long) size * dtype.byteSize());
            this.address = block[0];
            this.cleanable = CLEANER.register(this, new Release(allocator, block[0], block[1]));
        }
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int size() {
        return size;
    }

    /** Bytes of data (not of the block, which may be larger). */
    public long byteSize() {
        return (long) size * dtype.byteSize();
    }

    /** The device address of element 0; throws after {@link #close()}. */
    public long address() {
        if (closed) {
            throw new IllegalStateException("CUDA buffer of " + size + " " + dtype + " on " + device + " used after close");
        }
        return address;
    }

    /** The device address of element {@code index}. */
    long address(int index) {
        return address() + (long) index * dtype.byteSize();
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (cleanable != null) {
                cleanable.clean();
            }
        }
    }

    @Override
    public String toString() {
        return "CudaBuffer[" + device + ", " + dtype + " × " + size + (closed ? ", closed" : "") + "]";
    }
}
