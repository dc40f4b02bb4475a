package dev.vertebra.cuda;

import java.util.ArrayDeque;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Space in a staging buffer for copies still in flight on one stream: regions are handed out in ring order, each
 * tied to a marker recorded on the stream after its copy (an event), and a region is given out again only after the
 * marker of the last in-flight region it overlaps has been waited for. Markers on one stream complete in order, so
 * that one wait retires every older region as well. With a ring much larger than the copies, the wait almost
 * never blocks: an upload costs a host copy and a queued DMA, not a wait for everything queued before it.
 *
 * @param <E> the marker type (a CUDA event; tests use plain objects)
 */
final class StagingRing<E> {
    /** DMA-friendly alignment of every region's start. */
    static final long ALIGNMENT = 256;

    private record Region<E>(long start, long end, E marker) {
        boolean overlaps(long from, long to) {
            return start < to && from < end;
        }
    }

    private final long capacity;
    private final Supplier<E> record;
    private final Consumer<E> await;
    private final Consumer<E> release;
    private final ArrayDeque<Region<E>> inFlight = new ArrayDeque<>();
    private long head;

    /**
     * @param capacity the staging buffer's bytes
     * @param record   records a new marker on the stream (after the copy just queued) and returns it
     * @param await    waits until a marker has been reached
     * @param release  takes back a marker no region uses any more (for reuse)
     */
    StagingRing(long capacity, Supplier<E> record, Consumer<E> await, Consumer<E> release) {
        this.capacity = capacity;
        this.record = record;
        this.await = await;
        this.release = release;
    }

    /** Whether a copy of {@code bytes} fits a ring region (larger ones go another way). */
    boolean fits(long bytes) {
        return bytes > 0 && bytes <= capacity / 4;
    }

    /**
     * The offset of a region of {@code bytes} that no copy in flight still reads; waits for those that do. Call
     * {@link #queued} once the copy out of it is queued.
     */
    long reserve(long bytes) {
        if (!fits(bytes)) {
            throw new IllegalArgumentException(bytes + " bytes do not fit a staging region of " + capacity / 4);
        }
        long start = head + bytes <= capacity ? head : 0;
        long end = start + bytes;
        Region<E> lastOverlapping = null;
        for (Region<E> r : inFlight) {
            if (r.overlaps(start, end)) {
                lastOverlapping = r;
            }
        }
        if (lastOverlapping != null) {
            await.accept(lastOverlapping.marker());
            retireThrough(lastOverlapping);
        }
        head = Math.min(capacity, (end + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
        return start;
    }

    /** Records the marker of the copy just queued out of {@code [start, start + bytes)}. */
    void queued(long start, long bytes) {
        inFlight.addLast(new Region<>(start, start + bytes, record.get()));
    }

    /** Forgets every region: the caller has waited for the whole stream (its markers have all been reached). */
    void drained() {
        while (!inFlight.isEmpty()) {
            release.accept(inFlight.removeFirst().marker());
        }
        head = 0;
    }

    /** Waits for every copy in flight (before the staging buffer is used another way). */
    void drain() {
        if (!inFlight.isEmpty()) {
            await.accept(inFlight.peekLast().marker());
        }
        drained();
    }

    /** Regions still tracked (tests). */
    int inFlight() {
        return inFlight.size();
    }

    private void retireThrough(Region<E> last) {
        while (!inFlight.isEmpty()) {
            Region<E> r = inFlight.removeFirst();
            release.accept(r.marker());
            if (r == last) {
                return;
            }
        }
    }
}
