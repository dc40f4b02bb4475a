package dev.vertebra.core.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one worker pool every CPU kernel shares, and a parallel-for over an index range.
 *
 * <p>The pool is fixed-size (one daemon thread per available processor) and created once, so a kernel call never
 * creates threads. The calling thread works too: it takes chunks like any worker and returns when all chunks are
 * done. A range with a single chunk runs inline on the caller. A parallel-for started from inside another one runs
 * serially on the current thread, so kernels can nest (a convolution's per-block GEMM) without oversubscribing
 * the cores or deadlocking the pool.
 *
 * <pre>{@code
 * CpuThreads.parallelFor(0, rows, 16, (from, to) -> {
 *     for (int r = from; r < to; r++) process(r);
 * });
 * }</pre>
 */
public final class CpuThreads {

    /** The body of a parallel loop: processes indices {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        /** Processes the half-open index range {@code [from, to)}. */
        void run(int from, int to);
    }

    private static final int PARALLELISM = Math.max(1, Runtime.getRuntime().availableProcessors());

    private static final ExecutorService POOL = Executors.newFixedThreadPool(PARALLELISM, runnable -> {
        Thread thread = new Thread(runnable, "vertebra-cpu-worker");
        thread.setDaemon(true);
        return thread;
    });

    // True while the current thread executes chunks of a parallel loop: nested loops then run serially.
    private static final ThreadLocal<Boolean> IN_PARALLEL = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private CpuThreads() {
    }

    /** Number of threads a parallel loop uses at most (the caller included). */
    public static int parallelism() {
        return PARALLELISM;
    }

    /** True when called from inside the body of a parallel loop that really runs on several threads. */
    public static boolean insideParallelRegion() {
        return IN_PARALLEL.get();
    }

    /**
     * Runs {@code body} over {@code [start, end)} split into chunks of {@code grain} indices (the last one may be
     * shorter), spread over the pool and the calling thread. Chunks are handed out dynamically, which keeps both
     * cores busy on a machine where another process steals one of them.
     *
     * @param start first index
     * @param end   one past the last index
     * @param grain indices per chunk, at least 1; choose it so a chunk is worth tens of microseconds of work
     * @param body  the loop body, called once per chunk; must be safe to run concurrently on disjoint ranges
     * @throws RuntimeException whatever the body threw first (an Error is rethrown as is)
     */
    public static void parallelFor(int start, int end, int grain, RangeBody body) {
        if (grain < 1) {
            throw new IllegalArgumentException("grain must be at least 1, got " + grain);
        }
        if (end <= start) {
            return;
        }
        int chunks = (int) (((long) end - start + grain - 1) / grain);
        if (chunks == 1 || PARALLELISM == 1 || IN_PARALLEL.get()) {
            body.run(start, end);
            return;
        }
        new ParallelLoop(start, end, grain, chunks, body).run();
    }

    /** Chunks of one loop: handed out by an atomic counter, completion counted by a latch. */
    private static final class ParallelLoop {
        private final int start;
        private final int end;
        private final int grain;
        private final int chunks;
        private final RangeBody body;
        private final AtomicInteger nextChunk = new AtomicInteger();
        private final CountDownLatch done;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        ParallelLoop(int start, int end, int grain, int chunks, RangeBody body) {
            this.start = start;
            this.end = end;
            this.grain = grain;
            this.chunks = chunks;
            this.body = body;
            this.done = new CountDownLatch(chunks);
        }

        void run() {
            int helpers = Math.min(PARALLELISM, chunks) - 1;
            for (int i = 0; i < helpers; i++) {
                POOL.execute(this::work);
            }
            work();
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a parallel loop", e);
            }
            Throwable thrown = failure.get();
            if (thrown instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (thrown instanceof Error error) {
                throw error;
            }
            if (thrown != null) {
                throw new IllegalStateException(thrown);
            }
        }

        private void work() {
            boolean outer = IN_PARALLEL.get();
            IN_PARALLEL.set(Boolean.TRUE);
            try {
                for (int chunk; (chunk = nextChunk.getAndIncrement()) < chunks; ) {
                    try {
                        if (failure.get() == null) {
                            long from = start + (long) chunk * grain;
                            body.run((int) from, (int) Math.min(end, from + grain));
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    } finally {
                        done.countDown();
                    }
                }
            } finally {
                IN_PARALLEL.set(outer);
            }
        }
    }
}
