package dev.vertebra.cuda;

import java.lang.foreign.MemorySegment;

/**
 * Host ↔ device copies through one page-locked staging buffer: the DMA engine reads and writes pinned memory
 * directly, where a pageable Java array would be staged by the driver anyway. Transfers larger than the buffer
 * go in chunks. Copies are ordered with kernels because they use the backend's stream.
 */
final class HostTransfers {
    private static final long STAGING_BYTES = 8L << 20;

    private final Driver driver;
    private final CudaContext context;
    private MemorySegment staging;

    HostTransfers(Driver driver, CudaContext context) {
        this.driver = driver;
        this.context = context;
    }

    private MemorySegment staging() {
        if (staging == null) {
            staging = driver.memAllocHost(STAGING_BYTES);
        }
        return staging;
    }

    /** Copies {@code bytes} of {@code source} (a heap or native segment) to device address {@code dst}. */
    synchronized void upload(MemorySegment source, long dst, long bytes) {
        context.makeCurrent();
        MemorySegment s = staging();
        for (long done = 0; done < bytes; done += STAGING_BYTES) {
            long chunk = Math.min(STAGING_BYTES, bytes - done);
            // The previous chunk's DMA must finish before the staging buffer is overwritten.
            MemorySegment.copy(source, done, s, 0, chunk);
            driver.copyHostToDevice(dst + done, s, chunk, context.stream());
            driver.synchronize(context.stream());
        }
    }

    /** Copies {@code bytes} from device address {@code src} into {@code target}, waiting for queued work first. */
    synchronized void download(long src, MemorySegment target, long bytes) {
        context.makeCurrent();
        MemorySegment s = staging();
        for (long done = 0; done < bytes; done += STAGING_BYTES) {
            long chunk = Math.min(STAGING_BYTES, bytes - done);
            driver.copyDeviceToHost(s, src + done, chunk, context.stream());
            driver.synchronize(context.stream());
            MemorySegment.copy(s, 0, target, done, chunk);
        }
    }
}
