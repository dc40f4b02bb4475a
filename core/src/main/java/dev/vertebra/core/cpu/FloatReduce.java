package dev.vertebra.core.cpu;

import dev.vertebra.core.ReduceOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reductions of a contiguous float32 array viewed as {@code [O, R, I]} over the middle dimension:
 * {@code out[o, i] = reduce over r of x[o, r, i]}. Sums accumulate in float over short runs and in double
 * across runs, so long reductions (batch-norm statistics over N·H·W) keep ~1e-6 relative accuracy. Work is split
 * into fixed chunks merged in a fixed order: the result does not depend on thread timing.
 */
final class FloatReduce {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Elements one task reduces: enough work to amortise scheduling, few enough for float accumulation. */
    private static final int CHUNK_ELEMENTS = 1 << 14;
    /** Rows summed in float before the partial sums move to double. */
    private static final int FLOAT_RUN = 256;
    /** The calling thread's [tasks, inner] partial results of one reduction; each task's float run. */
    private static final ThreadScratch PARTIALS = new ThreadScratch();
    private static final ThreadScratch RUN = new ThreadScratch();

    private FloatReduce() {
    }

    /**
     * @param x   input: [O, R, I] contiguous from xOff
     * @param out output: [O, I] contiguous from 0
     */
    static void reduce(ReduceOp op, float[] x, int xOff, int outer, int reduced, int inner, float[] out) {
        reduce(op, x, xOff, null, 0, outer, reduced, inner, out);
    }

    /**
     * {@code out[o, i] = Σ_r x[o, r, i]·y[o, r, i]}: the sum of a product without the product tensor (the
     * gradient of a broadcast multiplication, e.g. a squeeze-excitation gate's), each product rounded to float as
     * a separate multiplication would be, summed in float runs and double across runs in a fixed order.
     *
     * @param x, y inputs: [O, R, I] contiguous from xOff, yOff
     * @param out  output: [O, I] contiguous from 0
     */
    static void productSum(float[] x, int xOff, float[] y, int yOff, int outer, int reduced, int inner, float[] out) {
        reduce(ReduceOp.SUM, x, xOff, y, yOff, outer, reduced, inner, out);
    }

    /** {@link #reduce} of x, or of x·y elementwise when y is not null (op SUM only). */
    private static void reduce(ReduceOp op, float[] x, int xOff, float[] y, int yOff, int outer, int reduced,
                               int inner, float[] out) {
        int rowsPerChunk = Math.max(1, Math.min(reduced, CHUNK_ELEMENTS / Math.max(inner, 1)));
        int chunks = (reduced + rowsPerChunk - 1) / rowsPerChunk;
        double[] partial = PARTIALS.doubles(outer * chunks * inner); // [outer · chunks, inner], this thread's
        CpuThreads.parallelFor(0, outer * chunks, 1, (from, to) -> {
            for (int t = from; t < to; t++) {
                int o = t / chunks;
                int r0 = (t % chunks) * rowsPerChunk;
                int r1 = Math.min(reduced, r0 + rowsPerChunk);
                int base = (o * reduced) * inner;
                if (inner == 1) {
                    partial[t] = y != null ? productRun(x, xOff + base + r0, y, yOff + base + r0, r1 - r0)
                            : reduceRun(op, x, xOff + base + r0, r1 - r0);
                } else if (y != null) {
                    productColumns(x, xOff + base, y, yOff + base, r0, r1, inner, partial, t * inner);
                } else {
                    reduceColumns(op, x, xOff + base, r0, r1, inner, partial, t * inner);
                }
            }
        });
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double acc = op.identity();
                for (int c = 0; c < chunks; c++) {
                    acc = op.combine(acc, partial[(o * chunks + c) * inner + i]);
                }
                out[o * inner + i] = (float) acc;
            }
        }
    }

    /** Reduces x[from .. from+n) to one value. */
    private static double reduceRun(ReduceOp op, float[] x, int from, int n) {
        FloatVector acc = FloatVector.broadcast(S, (float) op.identity());
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, from + i);
            acc = combine(op, acc, v);
        }
        // Lanes combined in a fixed order: reduceLanes(ADD) leaves the order open, and the JIT's tree differs
        // from the interpreter's loop, which would make sums depend on the execution mode.
        float[] lanes = acc.toArray();
        double result = op.identity();
        for (float lane : lanes) {
            result = op.combine(result, lane);
        }
        for (; i < n; i++) {
            result = op.combine(result, x[from + i]);
        }
        return result;
    }

    /** Reduces rows r0..r1 of an [R, I] block starting at base: one value per column, into total from at. */
    private static void reduceColumns(ReduceOp op, float[] x, int base, int r0, int r1, int inner, double[] total,
                                      int at) {
        java.util.Arrays.fill(total, at, at + inner, op.identity());
        float[] run = RUN.floats(inner);
        for (int start = r0; start < r1; start += FLOAT_RUN) {
            int end = Math.min(r1, start + FLOAT_RUN);
            java.util.Arrays.fill(run, 0, inner, (float) op.identity());
            for (int r = start; r < end; r++) {
                int row = base + r * inner;
                int i = 0;
                for (int bound = S.loopBound(inner); i < bound; i += S.length()) {
                    combine(op, FloatVector.fromArray(S, run, i), FloatVector.fromArray(S, x, row + i)).intoArray(run, i);
                }
                for (; i < inner; i++) {
                    run[i] = (float) op.combine(run[i], x[row + i]);
                }
            }
            for (int i = 0; i < inner; i++) {
                total[at + i] = op.combine(total[at + i], run[i]);
            }
        }
    }

    /** Σ x[xFrom + i]·y[yFrom + i] for i &lt; n, each product rounded, lanes combined in a fixed order. */
    private static double productRun(float[] x, int xFrom, float[] y, int yFrom, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            acc = FloatVector.fromArray(S, x, xFrom + i).mul(FloatVector.fromArray(S, y, yFrom + i)).add(acc);
        }
        double result = 0;
        for (float lane : acc.toArray()) {
            result += lane;
        }
        for (; i < n; i++) {
            result += x[xFrom + i] * y[yFrom + i];
        }
        return result;
    }

    /** Σ over rows r0..r1 of x·y for [R, I] blocks from xBase and yBase: one sum per column, into total from at. */
    private static void productColumns(float[] x, int xBase, float[] y, int yBase, int r0, int r1, int inner,
                                       double[] total, int at) {
        java.util.Arrays.fill(total, at, at + inner, 0.0);
        float[] run = RUN.floats(inner);
        for (int start = r0; start < r1; start += FLOAT_RUN) {
            int end = Math.min(r1, start + FLOAT_RUN);
            java.util.Arrays.fill(run, 0, inner, 0f);
            for (int r = start; r < end; r++) {
                int xRow = xBase + r * inner;
                int yRow = yBase + r * inner;
                int i = 0;
                for (int bound = S.loopBound(inner); i < bound; i += S.length()) {
                    FloatVector.fromArray(S, x, xRow + i).mul(FloatVector.fromArray(S, y, yRow + i))
                            .add(FloatVector.fromArray(S, run, i)).intoArray(run, i);
                }
                for (; i < inner; i++) {
                    run[i] += x[xRow + i] * y[yRow + i];
                }
            }
            for (int i = 0; i < inner; i++) {
                total[at + i] += run[i];
            }
        }
    }

    private static FloatVector combine(ReduceOp op, FloatVector acc, FloatVector v) {
        return switch (op) {
            case SUM -> acc.add(v);
            case MAX -> acc.max(v);
            case MIN -> acc.min(v);
        };
    }
}
