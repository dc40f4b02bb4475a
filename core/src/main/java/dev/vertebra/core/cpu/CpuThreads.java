package dev.vertebra.core.cpu;

import dev.vertebra.core.ProfilingBackend;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The one worker pool every CPU kernel shares, and a parallel-for over an index range.
 *
 * <p>The pool is fixed-size (one daemon thread per available processor but one: the calling thread is the last) and
 * created once, so a kernel call never creates threads. The calling thread works too: it takes chunks like any
 * worker and returns when all chunks are done. Idle workers spin briefly before parking, so the next loop finds them
 * awake. A range with a single chunk runs inline on the caller. A parallel-for started from inside another one runs
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

    private static final long DEFAULT_SPIN_MICROS = 200;

    /**
     * How long a worker keeps looking for the next loop after finishing one, and the caller for the workers' last
     * chunks, before parking: {@code vertebra.cpu.spinMicros}, {@value #DEFAULT_SPIN_MICROS} µs by default. A
     * model step is hundreds of parallel loops a few hundred microseconds apart, and waking a parked thread takes
     * tens of microseconds: with workers that parked at once, the calling thread ran most chunks of a B0 training
     * step before the worker arrived. OpenMP runtimes spin between parallel regions for the same reason.
     */
    private static final long SPIN_NANOS = Math.max(0, Long.getLong("vertebra.cpu.spinMicros", DEFAULT_SPIN_MICROS))
            * 1000;

    // True while the current thread executes chunks of a parallel loop: nested loops then run serially.
    private static final ThreadLocal<Boolean> IN_PARALLEL = ThreadLocal.withInitial(() -> Boolean.FALSE);

    /** The loop the workers help with, or null. One at a time: a second caller meanwhile runs its loop alone. */
    private static final AtomicReference<ParallelLoop> OPEN = new AtomicReference<>();

    private static final Worker[] WORKERS = new Worker[PARALLELISM - 1];

    static {
        for (int i = 0; i < WORKERS.length; i++) {
            WORKERS[i] = new Worker(i);
            WORKERS[i].start();
        }
    }

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

    /** Chunks of one loop, handed out by an atomic counter; the last chunk to finish wakes a parked caller. */
    private static final class ParallelLoop {
        private final int start;
        private final int end;
        private final int grain;
        private final int chunks;
        private final RangeBody body;
        private final Thread caller = Thread.currentThread();
        private final AtomicInteger nextChunk = new AtomicInteger();
        private final AtomicInteger remaining;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private volatile boolean callerParked;
        // Loop statistics: whether this loop counts, when it started, whether a worker has joined it.
        private final boolean counted = LoopStatistics.Counters.enabled();
        private final long started = counted ? System.nanoTime() : 0;
        private volatile boolean workerJoined;

        ParallelLoop(int start, int end, int grain, int chunks, RangeBody body) {
            this.start = start;
            this.end = end;
            this.grain = grain;
            this.chunks = chunks;
            this.body = body;
            this.remaining = new AtomicInteger(chunks);
        }

        void run() {
            boolean shared = OPEN.compareAndSet(null, this);
            if (shared) {
                for (Worker worker : WORKERS) {
                    worker.wake();
                }
            }
            work();
            long callerDone = counted ? System.nanoTime() : 0;
            if (shared) {
                OPEN.compareAndSet(this, null);
            }
            awaitChunks();
            if (counted) {
                long now = System.nanoTime();
                LoopStatistics.Counters.loop(now - started, now - callerDone);
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

        boolean hasChunks() {
            return nextChunk.get() < chunks;
        }

        /**
         * Waits for chunks still running on workers: spinning first, then parked until the last one wakes us. An
         * interrupt does not cut the wait short (the chunks still write the caller's arrays); it is kept for later.
         */
        private void awaitChunks() {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            boolean interrupted = false;
            while (remaining.get() > 0) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                    continue;
                }
                callerParked = true;
                if (remaining.get() > 0) {
                    LockSupport.park(this);
                    interrupted |= Thread.interrupted();
                }
                callerParked = false;
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        /** One chunk, timed for the loop statistics (and a worker's join delay, on its first chunk). */
        private void countedChunk(int from, int to) {
            boolean isCaller = Thread.currentThread() == caller;
            long begin = System.nanoTime();
            if (!isCaller && !workerJoined) {
                workerJoined = true;
                LoopStatistics.Counters.workerJoined(begin - started);
            }
            body.run(from, to);
            LoopStatistics.Counters.chunk(isCaller, System.nanoTime() - begin);
        }

        void work() {
            boolean outer = IN_PARALLEL.get();
            IN_PARALLEL.set(Boolean.TRUE);
            try {
                for (int chunk; (chunk = nextChunk.getAndIncrement()) < chunks; ) {
                    try {
                        if (failure.get() == null) {
                            long from = start + (long) chunk * grain;
                            if (counted) {
                                countedChunk((int) from, (int) Math.min(end, from + grain));
                            } else {
                                body.run((int) from, (int) Math.min(end, from + grain));
                            }
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    } finally {
                        if (remaining.decrementAndGet() == 0 && callerParked) {
                            LockSupport.unpark(caller);
                        }
                    }
                }
            } finally {
                IN_PARALLEL.set(outer);
            }
        }
    }

    /** Starts counting what parallel loops do, from zero ({@link LoopStatistics}); for profiles, not production. */
    public static void startLoopStatistics() {
        LoopStatistics.Counters.start();
    }

    /**
     * The counted loops' running totals for a per-op profile ({@link ProfilingBackend#countParallelTime}): their wall
     * time and their threads' chunk time so far, summed from {@link #startLoopStatistics()} on as each loop or chunk
     * ends, from whatever thread ran it. They do not move while statistics are off.
     */
    public static ProfilingBackend.ParallelClock statisticsClock() {
        return new ProfilingBackend.ParallelClock() {
            @Override
            public long loopNanos() {
                return LoopStatistics.Counters.loopNanosSoFar();
            }

            @Override
            public long busyNanos() {
                return LoopStatistics.Counters.busyNanosSoFar();
            }

            @Override
            public int threads() {
                return parallelism();
            }
        };
    }

    /** Stops counting and returns what the loops started since {@link #startLoopStatistics()} did. */
    public static LoopStatistics stopLoopStatistics() {
        return LoopStatistics.Counters.stop();
    }

    /** A pool thread: helps with the open loop, spins a while when there is none, then parks until woken. */
    private static final class Worker extends Thread {
        private volatile boolean parked;

        Worker(int index) {
            super("vertebra-cpu-worker-" + index);
            setDaemon(true);
        }

        void wake() {
            if (parked) {
                LockSupport.unpark(this);
            }
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            while (true) {
                ParallelLoop loop = OPEN.get();
                if (loop != null && loop.hasChunks()) {
                    loop.work();
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    parked = true;
                    loop = OPEN.get();
                    if (loop == null || !loop.hasChunks()) {
                        LockSupport.park(this);
                    }
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
