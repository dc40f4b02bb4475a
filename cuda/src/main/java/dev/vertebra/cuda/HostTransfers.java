package dev.vertebra.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

/**
 * Host ↔ device copies through one page-locked staging buffer: the DMA engine reads and writes pinned memory
 * directly, where a pageable Java array would be staged by the driver anyway. Copies use the backend's stream, so
 * they are ordered with kernels.
 *
 * <p>Small uploads (a quarter of the buffer at most: dropout and stochastic-depth masks, a batch of labels) go
 * through a {@link StagingRing}: the host copies into a region no copy in flight still reads and queues the DMA
 * without waiting. Each upload used to wait for the whole stream (the staging buffer was reused at once), so the
 * masks a training step draws on the host drained the GPU's queue ten times a step. Larger uploads go in chunks,
 * each waited for; downloads wait for the stream, as their caller needs the data.
 */
final class HostTransfers {
    private static final long STAGING_BYTES = 8L << 20;

    private final Driver driver;
    private final CudaContext context;
    private MemorySegment staging;
    private final StagingRing<MemorySegment> ring;
    private final ArrayDeque<MemorySegment> spareEvents = new ArrayDeque<>();

    HostTransfers(Driver driver, CudaContext context) {
        this.driver = driver;
        this.context = context;
        this.ring = new StagingRing<>(STAGING_BYTES, this::recordEvent, driver::synchronizeEvent, spareEvents::push);
    }

    private MemorySegment staging() {
        if (staging == null) {
            staging = driver.memAllocHost(STAGING_BYTES);
        }
        return staging;
    }

    private MemorySegment recordEvent() {
        MemorySegment event = spareEvents.isEmpty() ? driver.createEvent() : spareEvents.pop();
        driver.record(event, context.stream());
        return event;
    }

    /** Copies {@code bytes} of {@code source} (a heap or native segment) to device address {@code dst}. */
    synchronized void upload(MemorySegment source, long dst, long bytes) {
        context.makeCurrent();
        MemorySegment s = staging();
        if (ring.fits(bytes)) {
            long at = ring.reserve(bytes);
            MemorySegment region = s.asSlice(at, bytes);
            MemorySegment.copy(source, 0, region, 0, bytes);
            driver.copyHostToDevice(dst, region, bytes, context.stream());
            ring.queued(at, bytes);
            return;
        }
        // The chunks below overwrite the buffer from its start: no ring copy may still read it.
        ring.drain();
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
            // Queued after every ring upload on the same stream: it overwrites their regions only once they are read.
            driver.copyDeviceToHost(s, src + done, chunk, context.stream());
            driver.synchronize(context.stream());
            ring.drained();
            MemorySegment.copy(s, 0, target, done, chunk);
        }
    }
}
