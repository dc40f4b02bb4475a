package dev.vertebra.core.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class CpuThreadsTest {

    @Test
    void visitsEveryIndexExactlyOnce() {
        int start = 7;
        int end = 10_007;
        AtomicIntegerArray visits = new AtomicIntegerArray(end);
        CpuThreads.parallelFor(start, end, 13, (from, to) -> {
            assertTrue(from >= start && to <= end && from < to, "chunk [" + from + ", " + to + ")");
            for (int i = from; i < to; i++) {
                visits.incrementAndGet(i);
            }
        });
        for (int i = 0; i < end; i++) {
            assertEquals(i < start ? 0 : 1, visits.get(i), "index " + i);
        }
    }

    @Test
    void nestedLoopsRunSeriallyOnTheCurrentThread() {
        AtomicIntegerArray innerThreadMismatch = new AtomicIntegerArray(1);
        CpuThreads.parallelFor(0, 64, 1, (from, to) -> {
            Thread outer = Thread.currentThread();
            assertTrue(CpuThreads.parallelism() == 1 || CpuThreads.insideParallelRegion());
            CpuThreads.parallelFor(0, 100, 1, (a, b) -> {
                if (Thread.currentThread() != outer) {
                    innerThreadMismatch.incrementAndGet(0);
                }
            });
        });
        assertEquals(0, innerThreadMismatch.get(0));
        assertFalse(CpuThreads.insideParallelRegion(), "flag must be cleared after the loop");
    }

    @Test
    void rethrowsTheBodysException() {
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> CpuThreads.parallelFor(0, 1000, 1, (from, to) -> {
                    if (from == 500) {
                        throw boom;
                    }
                }));
        assertSame(boom, thrown);
    }

    @Test
    void emptyRangeDoesNothingAndBadGrainIsRejected() {
        CpuThreads.parallelFor(5, 5, 1, (from, to) -> {
            throw new AssertionError("called on an empty range");
        });
        assertThrows(IllegalArgumentException.class, () -> CpuThreads.parallelFor(0, 10, 0, (from, to) -> { }));
    }
}
