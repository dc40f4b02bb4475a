package dev.vertebra.core.cpu;

import java.util.concurrent.atomic.LongAdder;

/**
 * What the worker pool's parallel loops did between {@link CpuThreads#startLoopStatistics()} and
 * {@link CpuThreads#stopLoopStatistics()}: how long they were open, how much of that the threads spent running their
 * chunks, how long the calling thread waited for the workers' last chunks, and how late the workers joined. A per-op
 * profile says where a step's time goes; this says how much of the machine the step used while it went there (a
 * loop whose last chunk runs alone, a worker that joins late, and time outside any loop leave a core idle).
 * Loops of a single chunk, and loops nested in another, run on the calling thread alone and are not counted.
 *
 * @param loops            parallel loops run on the pool
 * @param chunks           chunks those loops ran
 * @param loopNanos        wall time from each loop's start to its end, summed
 * @param callerChunkNanos time the calling threads spent running chunks
 * @param workerChunkNanos time the pool's workers spent running chunks
 * @param callerWaitNanos  time the calling threads spent waiting for the workers' last chunks
 * @param loopsJoined      loops a worker ran at least one chunk of
 * @param joinDelayNanos   for those, the time from the loop's start to a worker's first chunk, summed
 */
public record LoopStatistics(long loops, long chunks, long loopNanos, long callerChunkNanos, long workerChunkNanos,
                             long callerWaitNanos, long loopsJoined, long joinDelayNanos) {

    /** Share of the loops' thread time (wall time × threads) spent running chunks; 0 without loops. */
    public double busyShare(int threads) {
        return loopNanos == 0 ? 0 : (callerChunkNanos + workerChunkNanos) / ((double) loopNanos * threads);
    }

    /** Mean delay from a loop's start to a worker's first chunk, in microseconds; 0 when no worker joined. */
    public double meanJoinDelayMicros() {
        return loopsJoined == 0 ? 0 : joinDelayNanos / 1e3 / loopsJoined;
    }

    /** The counters {@link CpuThreads} adds to while statistics are on. */
    static final class Counters {
        private static volatile boolean enabled;
        private static final LongAdder LOOPS = new LongAdder();
        private static final LongAdder CHUNKS = new LongAdder();
        private static final LongAdder LOOP_NANOS = new LongAdder();
        private static final LongAdder CALLER_CHUNK_NANOS = new LongAdder();
        private static final LongAdder WORKER_CHUNK_NANOS = new LongAdder();
        private static final LongAdder CALLER_WAIT_NANOS = new LongAdder();
        private static final LongAdder LOOPS_JOINED = new LongAdder();
        private static final LongAdder JOIN_DELAY_NANOS = new LongAdder();

        private Counters() {
        }

        static boolean enabled() {
            return enabled;
        }

        static void start() {
            for (LongAdder a : new LongAdder[]{LOOPS, CHUNKS, LOOP_NANOS, CALLER_CHUNK_NANOS, WORKER_CHUNK_NANOS,
                    CALLER_WAIT_NANOS, LOOPS_JOINED, JOIN_DELAY_NANOS}) {
                a.reset();
            }
            enabled = true;
        }

        static LoopStatistics stop() {
            enabled = false;
            return new LoopStatistics(LOOPS.sum(), CHUNKS.sum(), LOOP_NANOS.sum(), CALLER_CHUNK_NANOS.sum(),
                    WORKER_CHUNK_NANOS.sum(), CALLER_WAIT_NANOS.sum(), LOOPS_JOINED.sum(), JOIN_DELAY_NANOS.sum());
        }

        static long loopNanosSoFar() {
            return LOOP_NANOS.sum();
        }

        static long busyNanosSoFar() {
            return CALLER_CHUNK_NANOS.sum() + WORKER_CHUNK_NANOS.sum();
        }

        static void chunk(boolean caller, long nanos) {
            (caller ? CALLER_CHUNK_NANOS : WORKER_CHUNK_NANOS).add(nanos);
            CHUNKS.increment();
        }

        static void workerJoined(long delayNanos) {
            LOOPS_JOINED.increment();
            JOIN_DELAY_NANOS.add(delayNanos);
        }

        static void loop(long loopNanos, long callerWaitNanos) {
            LOOPS.increment();
            LOOP_NANOS.add(loopNanos);
            CALLER_WAIT_NANOS.add(callerWaitNanos);
        }
    }
}
