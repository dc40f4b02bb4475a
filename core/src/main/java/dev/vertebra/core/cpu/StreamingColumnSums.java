package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The column sums of an {@code [R, I]} matrix taken a few rows at a time, in the order {@link FloatReduce} sums
 * columns ({@code reduce(SUM, …)} with I &gt; 1), so the result is the same float bit for bit: float runs of
 * {@link FloatReduce#FLOAT_RUN} rows from each chunk's start, added in double within the chunk, the chunks' totals
 * added in double in order.
 *
 * <p>Why: a kernel that writes an activation row by row (the fused expansion → depthwise convolution) can sum it
 * for a squeeze-excitation's pooling while each row is still in L1, instead of a later pass over the whole
 * activation from memory. The arrays are the calling thread's scratch: one instance per thread at a time.
 *
 * <pre>{@code
 * StreamingColumnSums sums = new StreamingColumnSums(h * w, c);   // one image [H, W, C]
 * for (int row = 0; row < h; row++) {
 *     ... write y[row] ...
 *     sums.add(y, row * w * c, w);
 * }
 * sums.finish(out, n * c);                                        // out[n, :] = Σ over H, W of y
 * }</pre>
 */
final class StreamingColumnSums {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ThreadScratch RUN = new ThreadScratch();
    private static final ThreadScratch TOTALS = new ThreadScratch();

    private final int rows;
    private final int columns;
    private final int rowsPerChunk;
    private final float[] run;      // [I]: the current float run's sums
    private final double[] totals;  // [2, I]: this chunk's runs so far, then the finished chunks so far
    private int taken;              // rows added so far

    /**
     * @param rows    R, the rows to be summed (all must be added before {@link #finish})
     * @param columns I, at least 2: {@link FloatReduce} sums a single column in another order
     */
    StreamingColumnSums(int rows, int columns) {
        if (rows < 1 || columns < 2) {
            throw new IllegalArgumentException("column sums need rows ≥ 1 and columns ≥ 2, got [" + rows + ", "
                    + columns + "]");
        }
        this.rows = rows;
        this.columns = columns;
        this.rowsPerChunk = FloatReduce.rowsPerChunk(rows, columns);
        this.run = RUN.zeroedFloats(columns);
        this.totals = TOTALS.doubles(2 * columns);
        java.util.Arrays.fill(totals, 0, 2 * columns, 0.0);
    }

    /** Adds the next {@code count} rows: {@code [count, I]} contiguous from {@code x[off]}. */
    void add(float[] x, int off, int count) {
        if (count < 0 || taken + count > rows) {
            throw new IllegalStateException(count + " rows after " + taken + " of " + rows);
        }
        while (count > 0) {
            int chunkStart = taken / rowsPerChunk * rowsPerChunk;
            int chunkEnd = Math.min(rows, chunkStart + rowsPerChunk);
            int runEnd = Math.min(chunkEnd, chunkStart + ((taken - chunkStart) / FloatReduce.FLOAT_RUN + 1)
                    * FloatReduce.FLOAT_RUN);
            int take = Math.min(count, runEnd - taken);
            addToRun(x, off, take);
            off += take * columns;
            count -= take;
            taken += take;
            if (taken == runEnd) {
                for (int i = 0; i < columns; i++) {
                    totals[i] += run[i];
                    run[i] = 0f;
                }
                if (taken == chunkEnd) {
                    for (int i = 0; i < columns; i++) {
                        totals[columns + i] += totals[i];
                        totals[i] = 0.0;
                    }
                }
            }
        }
    }

    /** Writes the I column sums to {@code out[outOff …]}; every row must have been added. */
    void finish(float[] out, int outOff) {
        if (taken != rows) {
            throw new IllegalStateException("column sums finished after " + taken + " of " + rows + " rows");
        }
        for (int i = 0; i < columns; i++) {
            out[outOff + i] = (float) totals[columns + i];
        }
    }

    /** run[i] += x[r, i] for the next {@code count} rows, each column's rows in order (as FloatReduce's vectors). */
    private void addToRun(float[] x, int off, int count) {
        int l = S.length();
        int bound = S.loopBound(columns);
        int i = 0;
        for (; i + 4 * l <= bound; i += 4 * l) {
            FloatVector v0 = FloatVector.fromArray(S, run, i);
            FloatVector v1 = FloatVector.fromArray(S, run, i + l);
            FloatVector v2 = FloatVector.fromArray(S, run, i + 2 * l);
            FloatVector v3 = FloatVector.fromArray(S, run, i + 3 * l);
            for (int r = 0, at = off + i; r < count; r++, at += columns) {
                v0 = v0.add(FloatVector.fromArray(S, x, at));
                v1 = v1.add(FloatVector.fromArray(S, x, at + l));
                v2 = v2.add(FloatVector.fromArray(S, x, at + 2 * l));
                v3 = v3.add(FloatVector.fromArray(S, x, at + 3 * l));
            }
            v0.intoArray(run, i);
            v1.intoArray(run, i + l);
            v2.intoArray(run, i + 2 * l);
            v3.intoArray(run, i + 3 * l);
        }
        for (; i < bound; i += l) {
            FloatVector v = FloatVector.fromArray(S, run, i);
            for (int r = 0, at = off + i; r < count; r++, at += columns) {
                v = v.add(FloatVector.fromArray(S, x, at));
            }
            v.intoArray(run, i);
        }
        for (; i < columns; i++) {
            float acc = run[i];
            for (int r = 0, at = off + i; r < count; r++, at += columns) {
                acc += x[at];
            }
            run[i] = acc;
        }
    }
}
