package dev.vertebra.cuda;

/**
 * Counters of a backend's caching device allocator.
 *
 * @param inUseBytes  bytes in blocks held by live buffers
 * @param cachedBytes bytes in freed blocks kept for reuse
 * @param peakBytes   the largest {@code inUseBytes + cachedBytes} seen (what the device had to provide)
 * @param hits        allocations served from the cache
 * @param misses      allocations that went to {@code cuMemAlloc}
 */
public record AllocatorStats(long inUseBytes, long cachedBytes, long peakBytes, long hits, long misses) {
}
