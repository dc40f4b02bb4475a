package dev.vertebra.cuda;

import java.lang.foreign.MemorySegment;

/**
 * One device's primary context and the stream all of a backend's work goes to. CUDA contexts are current per
 * thread, so every entry point calls {@link #makeCurrent()} before touching the driver: a Vertebra tensor may be
 * used from any Java thread.
 */
final class CudaContext {
    private final Driver driver;
    private final int ordinal;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);

    CudaContext(Driver driver, int ordinal) {
        this.driver = driver;
        this.ordinal = ordinal;
        int device = driver.device(ordinal);
        this.context = driver.primaryContext(device);
        driver.setCurrent(context);
        current.set(true);
        this.stream = driver.createStream();
    }

    int ordinal() {
        return ordinal;
    }

    MemorySegment stream() {
        return stream;
    }

    /** Binds the context to the calling thread (once per thread: nothing else in Vertebra changes it). */
    void makeCurrent() {
        if (!current.get()) {
            driver.setCurrent(context);
            current.set(true);
        }
    }

    /** Waits for everything queued on the stream; kernel faults surface here as {@link CudaException}s. */
    void synchronize() {
        makeCurrent();
        driver.synchronize(stream);
    }
}
