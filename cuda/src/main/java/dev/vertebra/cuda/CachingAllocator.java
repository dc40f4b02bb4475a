package dev.vertebra.cuda;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;

/**
 * Device memory with a cache of freed blocks, so a training step's many same-sized temporaries do not each pay
 * for {@code cuMemAlloc}/{@code cuMemFree} (which also synchronise the device).
 *
 * <p>Requests are rounded up to a bucket (512-byte multiples below 1 MiB, 1 MiB multiples above) and served from
 * the free list of the smallest cached bucket that is at most a quarter larger. Blocks come back through
 * {@link CudaBuffer#close()} or, for tensors nobody closes, through the buffer's {@link java.lang.ref.Cleaner}
 * once the JVM finds it unreachable. Reuse is safe without events because all work of a backend runs on its
 * one stream, in order: a block freed while a queued kernel still reads it is only rewritten by later work.
 *
 * <p>Because the Java heap may be large and quiet while the device fills, the allocator asks the JVM to collect
 * unreachable tensors itself once the blocks in use pass half of the device's memory (their cleaners refill the
 * cache) before it goes to the driver. When the device is out of memory all the same, it returns its cache to the
 * driver and retries; if that is not enough it collects again, empties the cache again and retries once more,
 * and only then throws {@link CudaOutOfMemoryException}.
 */
final class CachingAllocator {
    private static final long SMALL = 1L << 20;
    private static final long SMALL_QUANTUM = 512;
    private static final long LARGE_QUANTUM = 1L << 20;

    private final Driver driver;
    private final CudaContext context;
    private final TreeMap<Long, ArrayDeque<Long>> free = new TreeMap<>();
    private long inUseBytes;
    private long cachedBytes;
    private long peakBytes;
    private long hits;
    private long misses;
    private long released;
    /** In-use bytes above which a miss first collects unreachable tensors; set on the first miss. */
    private long collectAbove = -1;

    CachingAllocator(Driver driver, CudaContext context) {
        this.driver = driver;
        this.context = context;
    }

    static long bucket(long bytes) {
        long q = bytes < SMALL ? SMALL_QUANTUM : LARGE_QUANTUM;
        return Math.max(q, (bytes + q - 1) / q * q);
    }

    /** A device block of at least {@code bytes}; returns {address, block size}. */
    synchronized long[] allocate(long bytes) {
        long want = bucket(bytes);
        Map.Entry<Long, ArrayDeque<Long>> e = free.ceilingEntry(want);
        if (e != null && e.getKey() <= want + want / 4) {
            long size = e.getKey();
            long address = e.getValue().pop();
            if (e.getValue().isEmpty()) {
                free.remove(size);
            }
            cachedBytes -= size;
            inUseBytes += size;
            hits++;
            return new long[]{address, size};
        }
        if (collectAbove < 0) {
            context.makeCurrent();
            collectAbove = driver.memInfo()[1] / 2;
        }
        if (inUseBytes + want > collectAbove && collectUnreachable()) {
            Map.Entry<Long, ArrayDeque<Long>> again = free.ceilingEntry(want);
            if (again != null && again.getKey() <= want + want / 4) {
                return allocate(bytes);   // now a cache hit
            }
        }
        misses++;
        long address = allocateFromDriver(want);
        inUseBytes += want;
        peakBytes = Math.max(peakBytes, inUseBytes + cachedBytes);
        return new long[]{address, want};
    }

    private long allocateFromDriver(long bytes) {
        context.makeCurrent();
        int[] status = new int[1];
        long address = driver.memAlloc(bytes, status);
        if (status[0] == 0) {
            return address;
        }
        if (status[0] != Driver.ERROR_OUT_OF_MEMORY) {
            throw driver.failure(status[0], "cuMemAlloc_v2(" + bytes + " bytes)");
        }
        emptyCache();
        address = driver.memAlloc(bytes, status);
        if (status[0] == 0) {
            return address;
        }
        collectUnreachable();
        emptyCache();
        address = driver.memAlloc(bytes, status);
        if (status[0] == 0) {
            return address;
        }
        throw new CudaOutOfMemoryException(bytes, status[0], driver.errorName(status[0]), stats() + describeDevice());
    }

    private String describeDevice() {
        long[] info = driver.memInfo();
        return ", device free " + info[0] + " of " + info[1] + " bytes";
    }

    /**
     * Lets the JVM find unreachable tensors: their cleaners call {@link #release} on the cleaner thread (hence the
     * wait on this monitor, which the cleaners need too). Waits until the releases stop coming (two quiet 10 ms
     * waits in a row, at most 2 s). Returns whether anything was released.
     */
    private boolean collectUnreachable() {
        long before = released;
        System.gc();
        long seen = released;
        int quiet = 0;
        for (int i = 0; i < 200 && (quiet < 2 || released == before && i < 20); i++) {
            try {
                wait(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            quiet = released == seen ? quiet + 1 : 0;
            seen = released;
        }
        return released != before;
    }

    /** Returns a block to the cache (called by {@link CudaBuffer}'s close or cleaner, at most once per block). */
    synchronized void release(long address, long size) {
        free.computeIfAbsent(size, s -> new ArrayDeque<>()).push(address);
        inUseBytes -= size;
        cachedBytes += size;
        released++;
        notifyAll();
    }

    /** Gives every cached block back to the driver (after the stream drains: queued work may still use them). */
    synchronized void emptyCache() {
        if (free.isEmpty()) {
            return;
        }
        context.makeCurrent();
        context.synchronize();
        for (Map.Entry<Long, ArrayDeque<Long>> e : free.entrySet()) {
            for (long address : e.getValue()) {
                driver.memFree(address);
            }
        }
        free.clear();
        cachedBytes = 0;
    }

    synchronized AllocatorStats stats() {
        return new AllocatorStats(inUseBytes, cachedBytes, peakBytes, hits, misses);
    }
}
