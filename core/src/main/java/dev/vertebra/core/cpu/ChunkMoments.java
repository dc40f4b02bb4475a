package dev.vertebra.core.cpu;

import dev.vertebra.core.CpuStorage;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Per-channel mean and sum of squared deviations of a float matrix x: [rows, C], for batch norm's statistics, with
 * one read of x from memory: each chunk of {@value FloatBatchNorm#CHUNK_ROWS} rows gets its own column means and
 * squared deviations from them (two passes over a chunk that is still in cache), and the chunks merge in double in
 * a fixed order (Chan et al.: M2 = Σ M2ₜ + nₜ·(meanₜ − mean)²), so the result does not depend on the threads.
 *
 * <p>The chunks can be fed by whoever writes x ({@link #add}), a block of rows at a time while the block is in
 * cache: a 1×1 convolution's product hands over each finished tile, and batch norm then reads its input once
 * instead of twice. Whichever way a chunk comes in, its figures are the same bits.
 */
final class ChunkMoments {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHUNK_ROWS = FloatBatchNorm.CHUNK_ROWS;

    private final int rows;
    private final int c;
    private final int chunks;
    /** [chunks, C]: a chunk's column sums while its rows come in, its column means once the last one has. */
    private final float[] chunkMean;
    /** [chunks, C]: Σ (x − chunk mean)² per column, once the chunk is complete. */
    private final float[] chunkM2;

    /** Room for x: [rows, C]; its arrays come from the calling thread's memory scope, if one is open. */
    ChunkMoments(int rows, int c) {
        if (rows <= 0 || c <= 0) {
            throw new IllegalArgumentException("moments of a [" + rows + ", " + c + "] matrix");
        }
        this.rows = rows;
        this.c = c;
        this.chunks = (rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
        this.chunkMean = CpuStorage.allocateUninitialized(chunks * c).floats();
        this.chunkM2 = CpuStorage.allocateUninitialized(chunks * c).floats();
    }

    /**
     * The moments of all of x ([rows, C] from xOff), each chunk a task of the CPU pool, or a few tasks by channels
     * where the chunks are few ({@link FloatBatchNorm#forEachChunkBlock}).
     */
    static ChunkMoments of(float[] x, int xOff, int rows, int c) {
        ChunkMoments m = new ChunkMoments(rows, c);
        FloatBatchNorm.forEachChunkBlock(rows, c, (r0, r1, j0, j1) -> m.add(x, xOff, r0, r1, j0, j1));
        return m;
    }

    /**
     * Takes rows [r0, r1) of x (row r at xOff + r·C), columns [j0, j1). A chunk's rows must come in order and from
     * one thread, in the same column ranges each time, and j0 must be a multiple of the vector length (so that each
     * column meets the same vector or scalar arithmetic as in a whole-width pass); when a chunk's last row is in,
     * its rows are read a second time for their squared deviations — from cache, if the caller has just written
     * them.
     */
    void add(float[] x, int xOff, int r0, int r1, int j0, int j1) {
        if (r0 < 0 || r1 > rows || r0 > r1 || j0 < 0 || j1 > c || j0 >= j1 || j0 % S.length() != 0) {
            throw new IllegalArgumentException("rows [" + r0 + ", " + r1 + ") and columns [" + j0 + ", " + j1
                    + ") of a [" + rows + ", " + c + "] matrix (columns from a multiple of " + S.length() + ")");
        }
        int width = j1 - j0;
        while (r0 < r1) {
            int t = r0 / CHUNK_ROWS;
            int start = t * CHUNK_ROWS;
            int end = Math.min(rows, start + CHUNK_ROWS);
            int upTo = Math.min(r1, end);
            int at = t * c + j0;
            columnSums(x, xOff + r0 * c + j0, upTo - r0, c, width, chunkMean, at, r0 > start);
            if (upTo == end) {
                float inv = 1f / (end - start);
                for (int ch = at; ch < at + width; ch++) {
                    chunkMean[ch] *= inv;
                }
                columnSquaredDeviations(x, xOff + start * c + j0, end - start, c, width, chunkMean, at, chunkM2, at);
            }
            r0 = upTo;
        }
    }

    /**
     * The merged moments, once every chunk is complete.
     *
     * @param mean [C], out; m2 [C], out: Σ (x − mean)² over all rows
     */
    void merge(float[] mean, double[] m2) {
        double[] total = new double[c];
        for (int t = 0; t < chunks; t++) {
            int n = Math.min(rows, (t + 1) * CHUNK_ROWS) - t * CHUNK_ROWS;
            for (int ch = 0; ch < c; ch++) {
                total[ch] += (double) n * chunkMean[t * c + ch];
            }
        }
        for (int ch = 0; ch < c; ch++) {
            total[ch] /= rows;
            mean[ch] = (float) total[ch];
        }
        for (int t = 0; t < chunks; t++) {
            int n = Math.min(rows, (t + 1) * CHUNK_ROWS) - t * CHUNK_ROWS;
            for (int ch = 0; ch < c; ch++) {
                double d = chunkMean[t * c + ch] - total[ch];
                m2[ch] += chunkM2[t * c + ch] + n * d * d;
            }
        }
    }

    int rows() {
        return rows;
    }

    int channels() {
        return c;
    }

    // The two column loops below keep their sums in registers, a few column vectors at a time down all the rows
    // (through memory, each row waited on the previous row's store); every column still adds its rows in order.

    /**
     * run[at + i] (+)= Σ_r x[base + r·stride + i] over {@code rows} rows, in row order, for i &lt; width: onto
     * what run holds when {@code onto}, from zero otherwise.
     */
    private static void columnSums(float[] x, int base, int rows, int stride, int width, float[] run, int at,
                                   boolean onto) {
        int l = S.length();
        int bound = S.loopBound(width);
        int i = 0;
        for (; i + 2 * l <= bound; i += 2 * l) {
            FloatVector v0 = onto ? FloatVector.fromArray(S, run, at + i) : FloatVector.zero(S);
            FloatVector v1 = onto ? FloatVector.fromArray(S, run, at + i + l) : FloatVector.zero(S);
            for (int r = 0, xi = base + i; r < rows; r++, xi += stride) {
                v0 = FloatVector.fromArray(S, x, xi).add(v0);
                v1 = FloatVector.fromArray(S, x, xi + l).add(v1);
            }
            v0.intoArray(run, at + i);
            v1.intoArray(run, at + i + l);
        }
        for (; i < bound; i += l) {
            FloatVector v = onto ? FloatVector.fromArray(S, run, at + i) : FloatVector.zero(S);
            for (int r = 0, xi = base + i; r < rows; r++, xi += stride) {
                v = FloatVector.fromArray(S, x, xi).add(v);
            }
            v.intoArray(run, at + i);
        }
        for (; i < width; i++) {
            float acc = onto ? run[at + i] : 0f;
            for (int r = 0; r < rows; r++) {
                acc += x[base + r * stride + i];
            }
            run[at + i] = acc;
        }
    }

    /**
     * q[qAt + i] = Σ_r (x[base + r·stride + i] − m[mAt + i])², fused multiply-adds in row order, for i &lt; width.
     */
    private static void columnSquaredDeviations(float[] x, int base, int rows, int stride, int width, float[] m,
                                                int mAt, float[] q, int qAt) {
        int l = S.length();
        int bound = S.loopBound(width);
        int i = 0;
        for (; i + 2 * l <= bound; i += 2 * l) {
            FloatVector m0 = FloatVector.fromArray(S, m, mAt + i);
            FloatVector m1 = FloatVector.fromArray(S, m, mAt + i + l);
            FloatVector v0 = FloatVector.zero(S);
            FloatVector v1 = v0;
            for (int r = 0, at = base + i; r < rows; r++, at += stride) {
                FloatVector d0 = FloatVector.fromArray(S, x, at).sub(m0);
                FloatVector d1 = FloatVector.fromArray(S, x, at + l).sub(m1);
                v0 = d0.fma(d0, v0);
                v1 = d1.fma(d1, v1);
            }
            v0.intoArray(q, qAt + i);
            v1.intoArray(q, qAt + i + l);
        }
        for (; i < bound; i += l) {
            FloatVector mi = FloatVector.fromArray(S, m, mAt + i);
            FloatVector v = FloatVector.zero(S);
            for (int r = 0, at = base + i; r < rows; r++, at += stride) {
                FloatVector d = FloatVector.fromArray(S, x, at).sub(mi);
                v = d.fma(d, v);
            }
            v.intoArray(q, qAt + i);
        }
        for (; i < width; i++) {
            float acc = 0f;
            for (int r = 0; r < rows; r++) {
                float d = x[base + r * stride + i] - m[mAt + i];
                acc += d * d;
            }
            q[qAt + i] = acc;
        }
    }
}
