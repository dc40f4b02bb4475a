package dev.vertebra.core.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

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

    @Test
    void loopStatisticsCountThePoolsLoopsAndTheirChunks() {
        assumeTrue(CpuThreads.parallelism() > 1, "one processor: every loop runs inline, none is counted");
        CpuThreads.startLoopStatistics();
        for (int loop = 0; loop < 3; loop++) {
            CpuThreads.parallelFor(0, 8, 1, (from, to) -> {
                busy(200_000);
                // nested: runs inside this chunk, not counted as a loop
                CpuThreads.parallelFor(0, 4, 1, (a, b) -> { });
            });
        }
        CpuThreads.parallelFor(0, 5, 10, (from, to) -> busy(100_000)); // one chunk: inline, not counted
        LoopStatistics stats = CpuThreads.stopLoopStatistics();
        CpuThreads.parallelFor(0, 8, 1, (from, to) -> { }); // after stop: not counted

        assertEquals(3, stats.loops());
        assertEquals(24, stats.chunks());
        long chunkNanos = stats.callerChunkNanos() + stats.workerChunkNanos();
        assertTrue(chunkNanos >= 24 * 200_000L, "chunk time " + chunkNanos);
        // Each thread's chunks run inside the loops' wall time.
        assertTrue(stats.busyShare(CpuThreads.parallelism()) <= 1.0, "busy share " + stats);
        // The caller's chunks and its wait for the workers' last ones are disjoint stretches of its loops.
        assertTrue(stats.callerChunkNanos() + stats.callerWaitNanos() <= stats.loopNanos(), stats.toString());
        assertTrue(stats.workerChunkNanos() <= stats.loopNanos(), stats.toString());
        assertTrue(stats.loopsJoined() <= stats.loops(), stats.toString());
        assertTrue(stats.joinDelayNanos() >= 0, stats.toString());

        CpuThreads.startLoopStatistics();
        assertEquals(new LoopStatistics(0, 0, 0, 0, 0, 0, 0, 0), CpuThreads.stopLoopStatistics(),
                "a new start counts from zero");
    }

    @Test
    void loopStatisticsDeriveTheBusyShareAndTheJoinDelay() {
        LoopStatistics stats = new LoopStatistics(2, 10, 1_000_000, 700_000, 500_000, 50_000, 2, 30_000);
        assertEquals(0.6, stats.busyShare(2), 1e-12);
        assertEquals(15.0, stats.meanJoinDelayMicros(), 1e-12);
        LoopStatistics none = new LoopStatistics(0, 0, 0, 0, 0, 0, 0, 0);
        assertEquals(0.0, none.busyShare(2));
        assertEquals(0.0, none.meanJoinDelayMicros());
    }

    private static void busy(long nanos) {
        long until = System.nanoTime() + nanos;
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }
}
