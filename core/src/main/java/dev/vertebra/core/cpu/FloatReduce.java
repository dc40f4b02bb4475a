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
    static final int FLOAT_RUN = 256;
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
        reduce(op, x, xOff, null, 0, outer, reduced, inner, out, null, 0, null);
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
        reduce(ReduceOp.SUM, x, xOff, y, yOff, outer, reduced, inner, out, null, 0, null);
    }

    /**
     * {@link #productSum} that also writes {@code scaled[o, r, i] = x[o, r, i]·scale[o, i]} on the same pass over
     * x: both gradients of a broadcast product a·b for an upstream gradient x = g (g·b for a, Σ g·a for b), with
     * one read of g instead of two. Each output is bit for bit what the separate multiplication and
     * {@link #productSum} give.
     *
     * @param x, y   inputs: [O, R, I] contiguous from xOff, yOff, with I &gt; 1
     * @param out    output: [O, I] contiguous from 0
     * @param scale  [O, I] contiguous from scaleOff
     * @param scaled output: [O, R, I] contiguous from 0
     */
    static void productSumAndScale(float[] x, int xOff, float[] y, int yOff, int outer, int reduced, int inner,
                                   float[] out, float[] scale, int scaleOff, float[] scaled) {
        if (inner < 2) {
            throw new IllegalArgumentException("productSumAndScale needs at least 2 columns, got " + inner);
        }
        reduce(ReduceOp.SUM, x, xOff, y, yOff, outer, reduced, inner, out, scale, scaleOff, scaled);
    }

    /**
     * {@link #reduce} of x, or of x·y elementwise when y is not null (op SUM only), and x·scale into scaled when
     * scaled is not null (with y, I &gt; 1).
     */
    private static void reduce(ReduceOp op, float[] x, int xOff, float[] y, int yOff, int outer, int reduced,
                               int inner, float[] out, float[] scale, int scaleOff, float[] scaled) {
        int rowsPerChunk = rowsPerChunk(reduced, inner);
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
                } else if (scaled != null) {
                    productColumnsAndScale(x, xOff + base, y, yOff + base, r0, r1, inner, partial, t * inner,
                            scale, scaleOff + o * inner, scaled, base);
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

    /**
     * Rows of the reduced dimension one task takes: the sums of a column are float runs of {@link #FLOAT_RUN} rows
     * from each chunk's start, added in double within the chunk, and the chunks' totals added in double in order.
     * {@link StreamingColumnSums} follows the same order.
     */
    static int rowsPerChunk(int reduced, int inner) {
        return Math.max(1, Math.min(reduced, CHUNK_ELEMENTS / Math.max(inner, 1)));
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
        int bound = S.loopBound(inner);
        int l = S.length();
        for (int start = r0; start < r1; start += FLOAT_RUN) {
            int end = Math.min(r1, start + FLOAT_RUN);
            // Four column vectors at a time summed down the rows in registers (a sum through memory waited on
            // its own store every row); each column still takes its rows in order, so the sums are the same.
            int i = 0;
            for (; i + 4 * l <= bound; i += 4 * l) {
                FloatVector v0 = FloatVector.broadcast(S, (float) op.identity());
                FloatVector v1 = v0;
                FloatVector v2 = v0;
                FloatVector v3 = v0;
                for (int r = start, row = base + start * inner + i; r < end; r++, row += inner) {
                    v0 = combine(op, v0, FloatVector.fromArray(S, x, row));
                    v1 = combine(op, v1, FloatVector.fromArray(S, x, row + l));
                    v2 = combine(op, v2, FloatVector.fromArray(S, x, row + 2 * l));
                    v3 = combine(op, v3, FloatVector.fromArray(S, x, row + 3 * l));
                }
                v0.intoArray(run, i);
                v1.intoArray(run, i + l);
                v2.intoArray(run, i + 2 * l);
                v3.intoArray(run, i + 3 * l);
            }
            for (; i < bound; i += l) {
                FloatVector v = FloatVector.broadcast(S, (float) op.identity());
                for (int r = start, row = base + start * inner + i; r < end; r++, row += inner) {
                    v = combine(op, v, FloatVector.fromArray(S, x, row));
                }
                v.intoArray(run, i);
            }
            for (; i < inner; i++) {
                float acc = (float) op.identity();
                for (int r = start; r < end; r++) {
                    acc = (float) op.combine(acc, x[base + r * inner + i]);
                }
                run[i] = acc;
            }
            for (i = 0; i < inner; i++) {
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
        int bound = S.loopBound(inner);
        int l = S.length();
        for (int start = r0; start < r1; start += FLOAT_RUN) {
            int end = Math.min(r1, start + FLOAT_RUN);
            // As reduceColumns: column vectors summed down the rows in registers, products rounded before the add.
            int i = 0;
            for (; i + 2 * l <= bound; i += 2 * l) {
                FloatVector v0 = FloatVector.zero(S);
                FloatVector v1 = v0;
                int xRow = xBase + start * inner + i;
                int yRow = yBase + start * inner + i;
                for (int r = start; r < end; r++, xRow += inner, yRow += inner) {
                    v0 = FloatVector.fromArray(S, x, xRow).mul(FloatVector.fromArray(S, y, yRow)).add(v0);
                    v1 = FloatVector.fromArray(S, x, xRow + l).mul(FloatVector.fromArray(S, y, yRow + l)).add(v1);
                }
                v0.intoArray(run, i);
                v1.intoArray(run, i + l);
            }
            for (; i < bound; i += l) {
                FloatVector v = FloatVector.zero(S);
                int xRow = xBase + start * inner + i;
                int yRow = yBase + start * inner + i;
                for (int r = start; r < end; r++, xRow += inner, yRow += inner) {
                    v = FloatVector.fromArray(S, x, xRow).mul(FloatVector.fromArray(S, y, yRow)).add(v);
                }
                v.intoArray(run, i);
            }
            for (; i < inner; i++) {
                float acc = 0f;
                for (int r = start; r < end; r++) {
                    acc += x[xBase + r * inner + i] * y[yBase + r * inner + i];
                }
                run[i] = acc;
            }
            for (i = 0; i < inner; i++) {
                total[at + i] += run[i];
            }
        }
    }

    /**
     * {@link #productColumns}, and scaled[sBase + r·I + i] = x[xBase + r·I + i]·scale[scaleBase + i] for the same
     * rows from the same loads. A method of its own rather than a flag in productColumns: with the flag, C2 compiled
     * each loop for the mode it had seen, and every switch of mode threw the code away (31 compilations of the
     * method in a training run's first 20 steps instead of 9).
     */
    private static void productColumnsAndScale(float[] x, int xBase, float[] y, int yBase, int r0, int r1,
                                               int inner, double[] total, int at, float[] scale, int scaleBase,
                                               float[] scaled, int sBase) {
        java.util.Arrays.fill(total, at, at + inner, 0.0);
        float[] run = RUN.floats(inner);
        int bound = S.loopBound(inner);
        int l = S.length();
        for (int start = r0; start < r1; start += FLOAT_RUN) {
            int end = Math.min(r1, start + FLOAT_RUN);
            int i = 0;
            for (; i + 2 * l <= bound; i += 2 * l) {
                FloatVector v0 = FloatVector.zero(S);
                FloatVector v1 = v0;
                FloatVector s0 = FloatVector.fromArray(S, scale, scaleBase + i);
                FloatVector s1 = FloatVector.fromArray(S, scale, scaleBase + i + l);
                int xRow = xBase + start * inner + i;
                int yRow = yBase + start * inner + i;
                int sRow = sBase + start * inner + i;
                for (int r = start; r < end; r++, xRow += inner, yRow += inner, sRow += inner) {
                    FloatVector x0 = FloatVector.fromArray(S, x, xRow);
                    FloatVector x1 = FloatVector.fromArray(S, x, xRow + l);
                    v0 = x0.mul(FloatVector.fromArray(S, y, yRow)).add(v0);
                    v1 = x1.mul(FloatVector.fromArray(S, y, yRow + l)).add(v1);
                    x0.mul(s0).intoArray(scaled, sRow);
                    x1.mul(s1).intoArray(scaled, sRow + l);
                }
                v0.intoArray(run, i);
                v1.intoArray(run, i + l);
            }
            for (; i < bound; i += l) {
                FloatVector v = FloatVector.zero(S);
                FloatVector sv = FloatVector.fromArray(S, scale, scaleBase + i);
                int xRow = xBase + start * inner + i;
                int yRow = yBase + start * inner + i;
                int sRow = sBase + start * inner + i;
                for (int r = start; r < end; r++, xRow += inner, yRow += inner, sRow += inner) {
                    FloatVector xv = FloatVector.fromArray(S, x, xRow);
                    v = xv.mul(FloatVector.fromArray(S, y, yRow)).add(v);
                    xv.mul(sv).intoArray(scaled, sRow);
                }
                v.intoArray(run, i);
            }
            for (; i < inner; i++) {
                float acc = 0f;
                for (int r = start; r < end; r++) {
                    float xe = x[xBase + r * inner + i];
                    acc += xe * y[yBase + r * inner + i];
                    scaled[sBase + r * inner + i] = xe * scale[scaleBase + i];
                }
                run[i] = acc;
            }
            for (i = 0; i < inner; i++) {
                total[at + i] += run[i];
            }
        }
    }

    /** {@code op} on two vectors, small enough for C2 to inline at every call site (see FloatElementwise.combine). */
    private static FloatVector combine(ReduceOp op, FloatVector acc, FloatVector v) {
        return op == ReduceOp.SUM ? acc.add(v) : extreme(op, acc, v);
    }

    private static FloatVector extreme(ReduceOp op, FloatVector acc, FloatVector v) {
        return op == ReduceOp.MAX ? acc.max(v) : acc.min(v);
    }
}
