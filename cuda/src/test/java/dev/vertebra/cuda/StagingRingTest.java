package dev.vertebra.cuda;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The staging ring's bookkeeping without a GPU: markers are numbers in recording order (as events on one stream
 * complete), waits are logged.
 */
class StagingRingTest {
    private static final long CAPACITY = 4096;

    private int next;
    private final List<Integer> waited = new ArrayList<>();
    private final List<Integer> released = new ArrayList<>();
    private final StagingRing<Integer> ring = new StagingRing<>(CAPACITY, () -> next++, waited::add, released::add);

    private long copy(long bytes) {
        long at = ring.reserve(bytes);
        ring.queued(at, bytes);
        return at;
    }

    @Test
    void regionsFollowEachOtherAlignedWithoutWaiting() {
        assertEquals(0, copy(100));
        assertEquals(256, copy(300));
        assertEquals(768, copy(256));
        assertEquals(List.of(), waited, "space was left: no copy waited");
        assertEquals(3, ring.inFlight());
    }

    @Test
    void aWrappedRegionWaitsForTheLastCopyItOverlapsAndRetiresTheOlderOnes() {
        for (int i = 0; i < 5; i++) {
            copy(600);   // [0, 600), [768, 1368), [1536, 2136), [2304, 2904), [3072, 3672): markers 0 to 4
        }
        assertEquals(List.of(), waited);
        // 600 more bytes do not fit after 3840: the region wraps to 0 and overlaps marker 0's copy only.
        assertEquals(0, copy(600));
        assertEquals(List.of(0), waited);
        assertEquals(List.of(0), released);
        // 1000 bytes from 768 reach into markers 1 and 2: one wait, on 2, retires both.
        assertEquals(768, copy(1000));
        assertEquals(List.of(0, 2), waited);
        assertEquals(List.of(0, 1, 2), released);
        assertEquals(4, ring.inFlight(), "markers 3 to 6 are still in flight");
    }

    @Test
    void drainingWaitsForTheNewestCopyAndStartsOver() {
        copy(500);
        copy(500);
        ring.drain();
        assertEquals(List.of(1), waited, "the newest marker covers the older one");
        assertEquals(List.of(0, 1), released);
        assertEquals(0, ring.inFlight());
        assertEquals(0, copy(10), "the ring starts over");
        ring.drained();
        assertEquals(List.of(1), waited, "drained: the caller already waited for the stream");
        assertEquals(0, ring.inFlight());
    }

    @Test
    void onlyCopiesUpToAQuarterOfTheBufferUseTheRing() {
        assertTrue(ring.fits(CAPACITY / 4));
        assertFalse(ring.fits(CAPACITY / 4 + 1));
        assertFalse(ring.fits(0));
        assertThrows(IllegalArgumentException.class, () -> ring.reserve(CAPACITY));
    }
}
