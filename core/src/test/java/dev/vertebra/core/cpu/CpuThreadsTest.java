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

    /** Loops started by several threads at once: one shares the workers, the others run alone; all complete. */
    @Test
    void concurrentCallersEachVisitTheirWholeRange() throws Exception {
        int callers = 4;
        int size = 20_000;
        AtomicIntegerArray visits = new AtomicIntegerArray(callers * size);
        Thread[] threads = new Thread[callers];
        Throwable[] failures = new Throwable[callers];
        for (int c = 0; c < callers; c++) {
            int caller = c;
            threads[c] = new Thread(() -> {
                try {
                    for (int round = 0; round < 50; round++) {
                        CpuThreads.parallelFor(0, size, 97, (from, to) -> {
                            for (int i = from; i < to; i++) {
                                visits.incrementAndGet(caller * size + i);
                            }
                        });
                    }
                } catch (Throwable t) {
                    failures[caller] = t;
                }
            });
            threads[c].start();
        }
        for (Thread thread : threads) {
            thread.join(60_000);
            assertFalse(thread.isAlive(), "a caller is still waiting for its loop");
        }
        for (int c = 0; c < callers; c++) {
            assertEquals(null, failures[c], "caller " + c);
        }
        for (int i = 0; i < visits.length(); i++) {
            assertEquals(50, visits.get(i), "index " + i);
        }
    }

    /** An interrupt does not cut a loop short (its chunks write the caller's arrays); the flag survives it. */
    @Test
    void anInterruptedCallerFinishesTheLoopAndKeepsTheFlag() {
        AtomicIntegerArray visits = new AtomicIntegerArray(64);
        Thread.currentThread().interrupt();
        try {
            CpuThreads.parallelFor(0, 64, 1, (from, to) -> {
                for (int i = from; i < to; i++) {
                    visits.incrementAndGet(i);
                }
            });
            assertTrue(Thread.currentThread().isInterrupted(), "interrupt flag lost");
        } finally {
            Thread.interrupted();
        }
        for (int i = 0; i < 64; i++) {
            assertEquals(1, visits.get(i), "index " + i);
        }
    }

    @Test
    void emptyRangeDoesNothingAndBadGrainIsRejected() {
        CpuThreads.parallelFor(5, 5, 1, (from, to) -> {
            throw new AssertionError("called on an empty range");
        });
        assertThrows(IllegalArgumentException.class, () -> CpuThreads.parallelFor(0, 10, 0, (from, to) -> { }));
    }
}
