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

    private FloatReduce() {
    }

    /**
     * @param x   input: [O, R, I] contiguous from xOff
     * @param out output: [O, I] contiguous from 0
     */
    static void reduce(ReduceOp op, float[] x, int xOff, int outer, int reduced, int inner, float[] out) {
        int rowsPerChunk = Math.max(1, Math.min(reduced, CHUNK_ELEMENTS / Math.max(inner, 1)));
        int chunks = (reduced + rowsPerChunk - 1) / rowsPerChunk;
        double[][] partial = new double[outer * chunks][];
        CpuThreads.parallelFor(0, outer * chunks, 1, (from, to) -> {
            for (int t = from; t < to; t++) {
                int o = t / chunks;
                int r0 = (t % chunks) * rowsPerChunk;
                int r1 = Math.min(reduced, r0 + rowsPerChunk);
                int base = xOff + (o * reduced) * inner;
                partial[t] = inner == 1 ? new double[]{reduceRun(op, x, base + r0, r1 - r0)}
                        : reduceColumns(op, x, base, r0, r1, inner);
            }
        });
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double acc = op.identity();
                for (int c = 0; c < chunks; c++) {
                    acc = op.combine(acc, partial[o * chunks + c][i]);
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

    /** Reduces rows r0..r1 of an [R, I] block starting at base: one value per column. */
    private static double[] reduceColumns(ReduceOp op, float[] x, int base, int r0, int r1, int inner) {
        double[] total = new double[inner];
        java.util.Arrays.fill(total, op.identity());
        float[] run = new float[inner];
        for (int start = r0; start < r1; start += FLOAT_RUN) {
            int end = Math.min(r1, start + FLOAT_RUN);
            java.util.Arrays.fill(run, (float) op.identity());
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
                total[i] = op.combine(total[i], run[i]);
            }
        }
        return total;
    }

    private static FloatVector combine(ReduceOp op, FloatVector acc, FloatVector v) {
        return switch (op) {
            case SUM -> acc.add(v);
            case MAX -> acc.max(v);
            case MIN -> acc.min(v);
        };
    }
}
