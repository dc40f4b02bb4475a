package dev.vertebra.core.cpu;

import dev.vertebra.core.CpuStorage;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batch normalisation over the channel (last, contiguous) dimension of float32 activations viewed as
 * {@code [rows, C]} (rows = N·H·W for NHWC). Statistics are accumulated per fixed chunk of rows in float and
 * merged in double in a fixed order, so results are accurate and independent of thread timing.
 */
final class FloatBatchNorm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int CHUNK_ROWS = 256;
    /** Fewest channels a task of {@link #chunkedSums} takes when chunks are split by channels: four vectors. */
    private static final int MIN_TASK_CHANNELS = 4 * S.length();
    // The chunks' results go straight into arrays taken on the calling thread (pooled by a MemoryScope open
    // there), [chunks, width], each chunk writing its own row of them.

    private FloatBatchNorm() {
    }

    /**
     * @param x      input: [rows, C] from xOff
     * @param weight [C]; bias [C]
     * @param y      output: [rows, C]; mean, var (biased), invStd: [C]
     */
    static void forward(float[] x, int xOff, int rows, int c, float[] weight, float[] bias, double eps,
                        float[] y, float[] mean, float[] var, float[] invStd) {
        float[] scale = new float[c];
        float[] shift = new float[c];
        statistics(x, xOff, rows, c, weight, bias, eps, mean, var, invStd, scale, shift);
        CpuThreads.parallelFor(0, rows, rowGrain(rows), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int in = xOff + r * c;
                int out = r * c;
                int i = 0;
                for (int end = S.loopBound(c); i < end; i += S.length()) {
                    FloatVector.fromArray(S, x, in + i).fma(FloatVector.fromArray(S, scale, i),
                            FloatVector.fromArray(S, shift, i)).intoArray(y, out + i);
                }
                for (; i < c; i++) {
                    y[out + i] = x[in + i] * scale[i] + shift[i];
                }
            }
        });
    }

    /**
     * @param dy [rows, C] from dyOff; x [rows, C] from xOff; weight, mean, invStd [C]
     * @param dx [rows, C]; dWeight, dBias [C]
     */
    static void backward(float[] dy, int dyOff, float[] x, int xOff, int rows, int c, float[] weight,
                         float[] mean, float[] invStd, float[] dx, float[] dWeight, float[] dBias) {
        // One pass for both sums: [Σdy | Σdy·x̂] side by side in one run of 2C, chunk by chunk.
        double[] sums = chunkedSums(rows, c, (r0, r1, j0, j1, run, at) -> gradientSums(dy, dyOff, x, xOff, r0, r1,
                j0, j1, c, mean, invStd, run, at));
        finishBackward(dy, dyOff, x, xOff, rows, c, weight, mean, invStd, sums, dx, dWeight, dBias);
    }

    /**
     * run[at + i] = Σ dy, run[at + C + i] = Σ dy·x̂ over rows [r0, r1) in row order, for j0 ≤ i &lt; j1: column
     * vectors summed down the rows in registers (as {@link ChunkMoments} sums them).
     */
    private static void gradientSums(float[] dy, int dyOff, float[] x, int xOff, int r0, int r1, int j0, int j1,
                                     int c, float[] mean, float[] invStd, float[] run, int at) {
        int l = S.length();
        int bound = j1 == c ? S.loopBound(c) : j1;
        int i = j0;
        for (; i < bound; i += l) {
            FloatVector m = FloatVector.fromArray(S, mean, i);
            FloatVector is = FloatVector.fromArray(S, invStd, i);
            FloatVector sumDy = FloatVector.zero(S);
            FloatVector sumDyXhat = sumDy;
            for (int r = r0; r < r1; r++) {
                FloatVector g = FloatVector.fromArray(S, dy, dyOff + r * c + i);
                FloatVector xhat = FloatVector.fromArray(S, x, xOff + r * c + i).sub(m).mul(is);
                sumDy = g.add(sumDy);
                sumDyXhat = xhat.fma(g, sumDyXhat);
            }
            sumDy.intoArray(run, at + i);
            sumDyXhat.intoArray(run, at + c + i);
        }
        for (; i < j1; i++) {
            float sumDy = 0f;
            float sumDyXhat = 0f;
            for (int r = r0; r < r1; r++) {
                float g = dy[dyOff + r * c + i];
                sumDy += g;
                sumDyXhat += g * (x[xOff + r * c + i] - mean[i]) * invStd[i];
            }
            run[at + i] = sumDy;
            run[at + c + i] = sumDyXhat;
        }
    }

    /**
     * The second half of the backward once the sums are known: dx = w·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)),
     * dWeight = Σdy·x̂, dBias = Σdy. dy may be dx itself (same offsets): each element is read before it is written.
     *
     * @param sums [Σdy | Σdy·x̂], 2C
     */
    static void finishBackward(float[] dy, int dyOff, float[] x, int xOff, int rows, int c, float[] weight,
                               float[] mean, float[] invStd, double[] sums, float[] dx, float[] dWeight, float[] dBias) {
        InputGradient gradient = inputGradient(rows, c, weight, mean, invStd, sums, dWeight, dBias);
        CpuThreads.parallelFor(0, rows, rowGrain(rows), (r0, r1) -> gradient.rows(dy, dyOff, x, xOff, r0, r1, dx,
                r0 * c));
    }

    /**
     * Rows per task of a loop whose rows are independent: about {@value #CHUNK_ROWS}, in a number of tasks that the
     * threads share evenly. B0's 7² and 14² layers at batch 8 have 392 and 1 568 rows: 256-row tasks left one thread
     * a 136-row task and the other a 256-row one, or four tasks against three.
     */
    static int rowGrain(int rows) {
        int threads = CpuThreads.parallelism();
        int tasks = (rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
        tasks = (tasks + threads - 1) / threads * threads;
        return Math.max(1, (rows + tasks - 1) / tasks);
    }

    /**
     * {@link #finishBackward}'s per-channel terms from the sums ([Σdy | Σdy·x̂], 2C, over {@code rows} rows), with
     * dWeight = Σdy·x̂ and dBias = Σdy written: what makes dx a row at a time, wherever its rows are wanted.
     */
    static InputGradient inputGradient(int rows, int c, float[] weight, float[] mean, float[] invStd, double[] sums,
                                       float[] dWeight, float[] dBias) {
        float[] k = new float[c];       // w·invStd
        float[] meanDy = new float[c];  // Σdy / M
        float[] meanDyXhat = new float[c];
        for (int ch = 0; ch < c; ch++) {
            float sumDy = (float) sums[ch];
            dWeight[ch] = (float) sums[c + ch];
            dBias[ch] = sumDy;
            k[ch] = weight[ch] * invStd[ch];
            meanDy[ch] = sumDy / rows;
            meanDyXhat[ch] = (float) (sums[c + ch] / rows);
        }
        return new InputGradient(c, k, meanDy, meanDyXhat, mean, invStd);
    }

    /**
     * The batch norm's input gradient dx = k·(dy − meanDy − x̂·meanDyXhat), x̂ = (x − mean)·invStd, per channel of
     * C: {@link #finishBackward}'s element formula, made a block of rows at a time by whoever needs them.
     */
    record InputGradient(int c, float[] k, float[] meanDy, float[] meanDyXhat, float[] mean, float[] invStd) {
        /**
         * Rows [r0, r1) of dx from those of dy [rows, C] from dyOff and x [rows, C] from xOff; row r goes to
         * {@code dx[dxAt + (r − r0)·C]}. dx may be dy (same rows): each element is read before it is written.
         */
        void rows(float[] dy, int dyOff, float[] x, int xOff, int r0, int r1, float[] dx, int dxAt) {
            for (int r = r0; r < r1; r++) {
                int gr = dyOff + r * c;
                int xr = xOff + r * c;
                int out = dxAt + (r - r0) * c;
                int i = 0;
                for (int end = S.loopBound(c); i < end; i += S.length()) {
                    FloatVector xhat = FloatVector.fromArray(S, x, xr + i).sub(FloatVector.fromArray(S, mean, i))
                            .mul(FloatVector.fromArray(S, invStd, i));
                    FloatVector.fromArray(S, dy, gr + i).sub(FloatVector.fromArray(S, meanDy, i))
                            .sub(xhat.mul(FloatVector.fromArray(S, meanDyXhat, i)))
                            .mul(FloatVector.fromArray(S, k, i)).intoArray(dx, out + i);
                }
                for (; i < c; i++) {
                    float xhat = (x[xr + i] - mean[i]) * invStd[i];
                    dx[out + i] = k[i] * (dy[gr + i] - meanDy[i] - xhat * meanDyXhat[i]);
                }
            }
        }
    }

    /**
     * Batch statistics and the affine map they give: y = x·scale + shift.
     *
     * @param x    [rows, C] from xOff; weight, bias [C]
     * @param mean [C], out; var [C], out (biased); invStd [C], out; scale, shift [C], out
     */
    static void statistics(float[] x, int xOff, int rows, int c, float[] weight, float[] bias, double eps,
                           float[] mean, float[] var, float[] invStd, float[] scale, float[] shift) {
        statistics(ChunkMoments.of(x, xOff, rows, c), weight, bias, eps, mean, var, invStd, scale, shift);
    }

    /**
     * {@link #statistics(float[], int, int, int, float[], float[], double, float[], float[], float[], float[],
     * float[])} from moments already gathered, every chunk of them complete.
     */
    static void statistics(ChunkMoments moments, float[] weight, float[] bias, double eps, float[] mean,
                           float[] var, float[] invStd, float[] scale, float[] shift) {
        int rows = moments.rows();
        int c = moments.channels();
        double[] m2 = new double[c];
        moments.merge(mean, m2);
        for (int ch = 0; ch < c; ch++) {
            var[ch] = (float) (m2[ch] / rows);
            double is = 1 / Math.sqrt(m2[ch] / rows + eps);
            invStd[ch] = (float) is;
            scale[ch] = (float) (is * weight[ch]);
            shift[ch] = (float) (bias[ch] - mean[ch] * is * weight[ch]);
        }
    }

    @FunctionalInterface
    interface ChunkAccumulator {
        /**
         * Writes two sums per channel of rows [r0, r1), for channels [j0, j1): {@code run[at + j]} and
         * {@code run[at + C + j]}. j0 is 0 or a multiple of the vector length, j1 one too or C, so each channel
         * meets the same vector or scalar arithmetic as in a whole-width pass.
         */
        void sum(int r0, int r1, int j0, int j1, float[] run, int at);
    }

    /**
     * Two sums per channel of C over chunks of {@value #CHUNK_ROWS} rows: each chunk's float sums (rows in order) by
     * {@code chunkBody}, each into its own row of one [chunks, 2C] array, then the chunks added in double in order,
     * so the result does not depend on the threads. Where there are few chunks (B0's 7² layers at batch 8: two,
     * of 256 and 136 rows) each chunk's channels are split among several tasks as well, which changes no sum.
     */
    static double[] chunkedSums(int rows, int c, ChunkAccumulator chunkBody) {
        int chunks = (rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
        int width = 2 * c;
        float[] partial = CpuStorage.allocateUninitialized(chunks * width).floats(); // [chunks, 2C]
        forEachChunkBlock(rows, c, (r0, r1, j0, j1) -> chunkBody.sum(r0, r1, j0, j1, partial,
                r0 / CHUNK_ROWS * width));
        return sumInOrder(partial, chunks, width);
    }

    /** A chunk's rows [r0, r1) and a block of its channels [j0, j1). */
    @FunctionalInterface
    interface ChunkBlock {
        void run(int r0, int r1, int j0, int j1);
    }

    /**
     * {@code body} once for every chunk of {@value #CHUNK_ROWS} rows of a [rows, C] matrix and block of
     * {@link #channelBlock} channels, each pair a task of the CPU pool.
     */
    static void forEachChunkBlock(int rows, int c, ChunkBlock body) {
        int chunks = (rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
        int blockChannels = channelBlock(chunks, c);
        int blocks = (c + blockChannels - 1) / blockChannels;
        CpuThreads.parallelFor(0, chunks * blocks, 1, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int chunk = t / blocks;
                int j0 = t % blocks * blockChannels;
                body.run(chunk * CHUNK_ROWS, Math.min(rows, (chunk + 1) * CHUNK_ROWS), j0,
                        Math.min(c, j0 + blockChannels));
            }
        });
    }

    /**
     * Channels per task when {@code chunks} chunks of C channels are split by channels too: all C when the chunks
     * alone give each thread four tasks, else enough blocks for that, each a multiple of the vector length and at
     * least {@link #MIN_TASK_CHANNELS} wide.
     */
    static int channelBlock(int chunks, int c) {
        int wanted = 4 * CpuThreads.parallelism();
        if (chunks >= wanted || c <= MIN_TASK_CHANNELS) {
            return c;
        }
        int blocks = (wanted + chunks - 1) / chunks;
        int l = S.length();
        int width = ((c + blocks - 1) / blocks + l - 1) / l * l;
        return Math.min(c, Math.max(MIN_TASK_CHANNELS, width));
    }

    /**
     * total[i] = Σ_t partial[t·width + i] in double, t in order: the same sums whatever thread wrote which part, and
     * whichever thread sums which slice of i (the threads share them where the parts are many: a batch norm's
     * per-row sums at 112² are 896 × 192).
     */
    static double[] sumInOrder(float[] partial, int parts, int width) {
        double[] total = new double[width];
        if ((long) parts * width < DepthwiseConv2d.PARALLEL_PARTIAL_FLOATS) {
            sumInOrder(partial, parts, width, total, 0, width);
        } else {
            int slice = Math.max(1, (width + 2 * CpuThreads.parallelism() - 1) / (2 * CpuThreads.parallelism()));
            CpuThreads.parallelFor(0, width, slice, (from, to) -> sumInOrder(partial, parts, width, total, from, to));
        }
        return total;
    }

    /** {@link #sumInOrder} for i in [from, to). */
    private static void sumInOrder(float[] partial, int parts, int width, double[] total, int from, int to) {
        for (int t = 0; t < parts; t++) {
            for (int i = from; i < to; i++) {
                total[i] += partial[t * width + i];
            }
        }
    }
}
