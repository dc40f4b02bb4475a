package dev.vertebra.core.cpu;

import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.CpuStorage;
import dev.vertebra.core.ReduceOp;
import dev.vertebra.core.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * z = silu(batchNorm(x)) over [rows, C] float32 activations, forward and backward, without the normalised tensor
 * y: the forward writes z only, the backward recomputes y from x and the saved statistics. Against batch norm then
 * SiLU this saves, per call, a tensor of x's size (allocated, written, kept until the backward and read back) and
 * the backward's dy temporary (the SiLU gradient is written into dx and finished there in place).
 *
 * <p>The row loops are static methods over arrays: they call {@link VectorExp#exp} inline, and no vector crosses
 * a call C2 might decline to inline (see {@link FloatExpKernels}).
 */
final class FloatBatchNormSilu {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** {@link #forwardPooled}'s rows written, then summed: 16 rows of up to 1 152 channels are 72 KiB, in L2. */
    private static final int POOLED_BLOCK_ROWS = 16;
    /** {@link #backwardThroughDepthwise}'s recomputed activation row, [W, C]. */
    private static final ThreadScratch ACTIVATION_ROW = new ThreadScratch();

    private FloatBatchNormSilu() {
    }

    /**
     * @param x      input: [rows, C] from xOff; weight, bias [C]
     * @param z      output silu(x·scale + shift): [rows, C]; mean, var (biased), invStd: [C]
     */
    static void forward(float[] x, int xOff, int rows, int c, float[] weight, float[] bias, double eps,
                        float[] z, float[] mean, float[] var, float[] invStd) {
        float[] scale = new float[c];
        float[] shift = new float[c];
        FloatBatchNorm.statistics(x, xOff, rows, c, weight, bias, eps, mean, var, invStd, scale, shift);
        CpuThreads.parallelFor(0, rows, FloatBatchNorm.rowGrain(rows), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                forwardRow(x, xOff + r * c, z, r * c, c, scale, shift);
            }
        });
    }

    /**
     * {@link #forward} over {@code images} images of {@code pixels} rows each, with the sums of z over each image's
     * rows in {@code channelSums} [images, C]: the bits of {@link FloatReduce}'s column sums, taken a block of rows
     * at a time while the block is in cache ({@link StreamingColumnSums}), one image per task. With fewer than two
     * images per thread, or a single channel, the rows as {@link #forward} splits them, then the reduction.
     */
    static void forwardPooled(float[] x, int xOff, int images, int pixels, int c, float[] weight, float[] bias,
                              double eps, float[] z, float[] mean, float[] var, float[] invStd, float[] channelSums) {
        int rows = images * pixels;
        if (images < 2 * CpuThreads.parallelism() || c < 2 || pixels == 0) {
            forward(x, xOff, rows, c, weight, bias, eps, z, mean, var, invStd);
            FloatReduce.reduce(ReduceOp.SUM, z, 0, images, pixels, c, channelSums);
            return;
        }
        float[] scale = new float[c];
        float[] shift = new float[c];
        FloatBatchNorm.statistics(x, xOff, rows, c, weight, bias, eps, mean, var, invStd, scale, shift);
        CpuThreads.parallelFor(0, images, 1, (from, to) -> {
            for (int n = from; n < to; n++) {
                StreamingColumnSums sums = new StreamingColumnSums(pixels, c);
                for (int p0 = n * pixels; p0 < (n + 1) * pixels; p0 += POOLED_BLOCK_ROWS) {
                    int p1 = Math.min((n + 1) * pixels, p0 + POOLED_BLOCK_ROWS);
                    for (int r = p0; r < p1; r++) {
                        forwardRow(x, xOff + r * c, z, r * c, c, scale, shift);
                    }
                    sums.add(z, p0 * c, p1 - p0);
                }
                sums.finish(channelSums, n * c);
            }
        });
    }

    /**
     * {@code y = depthwise(silu(batchNorm(x)), w)} in training, without writing z = silu(batchNorm(x)): the
     * statistics over x as {@link #forward} takes them, then the depthwise convolution over z's rows made a band at a
     * time into a buffer in L2 ({@link BufferedDepthwise}). y is the bits of {@link #forward} then the depthwise
     * convolution: each z row is {@link #forward}'s, and the row kernel is the convolution's. What z cost, a tensor of
     * x's size written and read back, is gone; a backward that needs z recomputes it
     * ({@link #backwardThroughDepthwise}). x's moments come already gathered (by the product that wrote x), or are
     * gathered here when {@code moments} is null: the same bits either way, one read of x fewer with them.
     *
     * @param depthwise the convolution: x [N, H, W, C] from xOff; w [KH, KW, 1, C] from wOff
     * @param y         its output, [N, OH, OW, C] from 0, overwritten; mean, var (biased), invStd: [C]
     */
    static void forwardThroughDepthwise(Conv2dShape depthwise, float[] x, int xOff, ChunkMoments moments,
                                        float[] weight, float[] bias, double eps, float[] w, int wOff, float[] y,
                                        float[] mean, float[] var, float[] invStd) {
        int c = depthwise.inChannels();
        int width = depthwise.width();
        int height = depthwise.height();
        Conv2dShape.checkArray("x", x, xOff, depthwise.inputSize());
        int rows = depthwise.batch() * height * width;
        ChunkMoments m = moments != null ? moments : ChunkMoments.of(x, xOff, rows, c);
        if (m.rows() != rows || m.channels() != c) {
            throw new IllegalArgumentException("moments of [" + m.rows() + ", " + m.channels() + "] for x of "
                    + depthwise);
        }
        float[] scale = new float[c];
        float[] shift = new float[c];
        FloatBatchNorm.statistics(m, weight, bias, eps, mean, var, invStd, scale, shift);
        BufferedDepthwise.forward(depthwise, (n, r0, r1, buffer, at) -> {
            int from = xOff + (n * height + r0) * width * c;
            for (int p = 0; p < (r1 - r0) * width; p++) {
                forwardRow(x, from + p * c, buffer, at + p * c, c, scale, shift);
            }
        }, 1, w, wOff, null, y, null);
    }

    /**
     * z[out + i] = silu(x[in + i]·scale[i] + shift[i]) for i &lt; c; silu(y) = y / (1 + e^−y). Whole vectors in
     * {@link AffineSilu}'s loop, which this makes hot in training's first step for every SiLU and sigmoid there.
     */
    private static void forwardRow(float[] x, int in, float[] z, int out, int c, float[] scale, float[] shift) {
        int i = S.loopBound(c);
        AffineSilu.apply(x, in, z, out, i, scale, 0, shift, 0, false);
        for (; i < c; i++) {
            z[out + i] = (float) UnaryOp.SILU.apply(x[in + i] * scale[i] + shift[i]);
        }
    }

    /**
     * A part of dz given per image and channel, {@code [N, C]}, broadcast over each image's {@code rowsPerImage}
     * rows: the output gradient is {@code dz + addend}, added as dz is read.
     */
    record Addend(float[] perImage, int rowsPerImage) {
    }

    /**
     * @param dz     [rows, C] from dzOff
     * @param addend added to dz, or null for none
     * @param x      [rows, C] from xOff; weight, bias, mean, invStd [C]
     * @param dx     [rows, C]; dWeight, dBias [C]
     */
    static void backward(float[] dz, int dzOff, Addend addend, float[] x, int xOff, int rows, int c, float[] weight,
                         float[] bias, float[] mean, float[] invStd, float[] dx, float[] dWeight, float[] dBias) {
        // dy = (dz + addend)·silu'(y) goes into dx while [Σdy | Σdy·x̂] accumulate; the batch-norm backward then
        // finishes dx from it in place. Without an addend, one image of −0 in its place: x + (−0) is x for every
        // float, so dz's bits are unchanged.
        float[] add = addend == null ? negativeZeros(c) : addend.perImage();
        int image = addend == null ? rows : addend.rowsPerImage();
        double[] sums = FloatBatchNorm.chunkedSums(rows, c,
                (r0, r1, j0, j1, run, at) -> backwardRows(dz, dzOff, add, image, x, xOff, dx, r0, r1, j0, j1, c,
                        weight, bias, mean, invStd, run, at, null));
        FloatBatchNorm.finishBackward(dx, 0, x, xOff, rows, c, weight, mean, invStd, sums, dx, dWeight, dBias);
    }

    /**
     * {@link #backward} of x whose output gradient dz is a depthwise convolution's input gradient: dz =
     * {@code DepthwiseConv2d.backwardData(depthwise, dOut, w)}, computed here a row at a time and turned into dy in
     * place while the row is in L1, instead of written out and read back twice. Each image row's [Σdy | Σdy·x̂] is
     * summed on its own, in pixel order, and the rows are added in double in row order: the same sums whatever
     * thread finished which row.
     *
     * <p>With {@code dwOut}, also the convolution's weight gradient, from its input silu(y) recomputed a row at a
     * time (y·σ(y), σ(y) being at hand: not always the forward's bits, which divide by 1 + e^−y) while the row and
     * the output-gradient rows that read it are in cache, so that the input need not be kept from the forward nor
     * read again. The rows of each task of the input gradient ({@link DepthwiseConv2d#backwardDataGrain}) add into
     * one partial gradient in row order, and the partials are added in task order: the same bits on any number of
     * threads.
     *
     * @param depthwise the convolution whose input is {@code silu(batchNorm(x))}: x [N, H, W, C] from xOff
     * @param dOut      its output gradient: [N, OH, OW, C] from dOutOff
     * @param w         its weight: [KH, KW, 1, C] from wOff
     * @param dx        [N, H, W, C]; dWeight, dBias [C]
     * @param dwOut     its weight's gradient, [KH, KW, 1, C] from 0, overwritten; or null for none
     */
    static void backwardThroughDepthwise(Conv2dShape depthwise, float[] dOut, int dOutOff, float[] w, int wOff,
                                         float[] x, int xOff, float[] weight, float[] bias, float[] mean,
                                         float[] invStd, float[] dx, float[] dWeight, float[] dBias, float[] dwOut) {
        double[] sums = gradientSumsThroughDepthwise(depthwise, dOut, dOutOff, w, wOff, x, xOff, weight, bias, mean,
                invStd, dx, dwOut);
        int rows = depthwise.batch() * depthwise.height() * depthwise.width();
        FloatBatchNorm.finishBackward(dx, 0, x, xOff, rows, depthwise.inChannels(), weight, mean, invStd, sums, dx,
                dWeight, dBias);
    }

    /**
     * {@link #backwardThroughDepthwise}'s first pass: the batch norm's output gradient dy (the SiLU's backward of
     * the convolution's input gradient) written to {@code dy} ([N, H, W, C] from 0), and with {@code dwOut} the
     * depthwise weight's gradient; returns the batch norm's sums [Σdy | Σdy·x̂] (2C), from which
     * {@link FloatBatchNorm#inputGradient} makes dx.
     */
    static double[] gradientSumsThroughDepthwise(Conv2dShape depthwise, float[] dOut, int dOutOff, float[] w,
                                                 int wOff, float[] x, int xOff, float[] weight, float[] bias,
                                                 float[] mean, float[] invStd, float[] dy, float[] dwOut) {
        int c = depthwise.inChannels();
        int width = depthwise.width();
        int imageRows = depthwise.batch() * depthwise.height();
        int rows = imageRows * width;
        float[] add = negativeZeros(c);
        // [N·H, 2C]; taken on the calling thread, so that a MemoryScope open there recycles it.
        float[] rowSums = CpuStorage.allocateUninitialized(imageRows * 2 * c).floats();
        int grain = DepthwiseConv2d.backwardDataGrain(depthwise);
        int partials = (imageRows + grain - 1) / grain;
        int taps = depthwise.kernelH() * depthwise.kernelW() * c;
        // [partials, KH, KW, C], also from the calling thread; each partial is zeroed at its first row by the task
        // that sums into it (backwardData keeps a partial's rows on one thread, in order), not all from here.
        float[] weightPartials = dwOut == null ? null : CpuStorage.allocateUninitialized(partials * taps).floats();
        DepthwiseConv2d.backwardData(depthwise, dOut, dOutOff, w, wOff, dy, 0, false,
                row -> {
                    if (weightPartials != null && row % grain == 0) {
                        Arrays.fill(weightPartials, row / grain * taps, (row / grain + 1) * taps, 0f);
                    }
                    // x's row streamed into cache front to back first: the sweeps below read it a line per pixel,
                    // which the prefetchers follow poorly (12-15 % of the call at 112² × 96 without).
                    DepthwiseConv2d.preloadRow(x, xOff + row * width * c, width, c);
                    float[] activation = dwOut == null ? null : ACTIVATION_ROW.floats(width * c);
                    backwardRows(dy, 0, add, rows, x, xOff, dy, row * width, (row + 1) * width, 0, c, c, weight,
                            bias, mean, invStd, rowSums, row * 2 * c, activation);
                    if (activation != null) {
                        DepthwiseWeightRows.accumulateInputRow(depthwise, activation, 0, dOut, dOutOff, row,
                                weightPartials, row / grain * taps);
                    }
                });
        if (dwOut != null) {
            DepthwiseConv2d.sumPartials(weightPartials, partials, taps, dwOut, 0, false);
        }
        return FloatBatchNorm.sumInOrder(rowSums, imageRows, 2 * c);
    }

    private static float[] negativeZeros(int c) {
        float[] zeros = new float[c];
        Arrays.fill(zeros, -0f);
        return zeros;
    }

    /**
     * Rows [r0, r1): y = x̂·w + b with x̂ = (x − mean)·invStd; dy = (dz + add[r / image])·σ(y)·(1 + y·σ(−y)), add
     * [images, C] (one exp, as {@link FloatExpKernels#siluGrad}) into dy (same layout as x, from 0);
     * run[at + j] = Σdy and run[at + C + j] = Σdy·x̂ in row order, all for the channels j0 ≤ j &lt; j1 (j0 a
     * multiple of the vector length, j1 one too or C, as {@link FloatBatchNorm#chunkedSums} splits them); when
     * {@code activation} is not null, silu(y) = y·σ(y) of the rows into it, [r1 − r0, C] from 0. A column vector at
     * a time down the rows, its sums and per-channel constants in registers.
     */
    private static void backwardRows(float[] dz, int dzOff, float[] add, int image, float[] x, int xOff, float[] dy,
                                     int r0, int r1, int j0, int j1, int c, float[] weight, float[] bias,
                                     float[] mean, float[] invStd, float[] run, int at, float[] activation) {
        int firstImage = r0 / image;
        int i = j0;
        for (int end = j1 == c ? S.loopBound(c) : j1; i < end; i += S.length()) {
            FloatVector m = FloatVector.fromArray(S, mean, i);
            FloatVector is = FloatVector.fromArray(S, invStd, i);
            FloatVector w = FloatVector.fromArray(S, weight, i);
            FloatVector b = FloatVector.fromArray(S, bias, i);
            FloatVector sumDy = FloatVector.zero(S);
            FloatVector sumDyXhat = sumDy;
            // The addend's row changes where an image ends: one run down all the rows (runs cut at images were
            // 30-40 % slower at 7² and 14²), the next row of add loaded at each boundary.
            int addAt = firstImage * c + i;
            int nextImage = (firstImage + 1) * image;
            FloatVector a = FloatVector.fromArray(S, add, addAt);
            for (int r = r0; r < r1; r++) {
                if (r == nextImage) {
                    addAt += c;
                    nextImage += image;
                    a = FloatVector.fromArray(S, add, addAt);
                }
                int el = r * c + i;
                FloatVector xhat = FloatVector.fromArray(S, x, xOff + el).sub(m).mul(is);
                FloatVector y = xhat.fma(w, b);
                // SiLU's gradient as FloatExpKernels.siluGrad forms it (y·0 is NaN where y is ±∞).
                FloatVector u = VectorExp.clampForSilu(y);
                FloatVector e = VectorExp.expOfNegatedInRange(u);
                FloatVector s = VectorExp.sigmoidOfClamped(y, e);
                FloatVector q = s.mul(u.lanewise(VectorOperators.FMA, e.mul(s), 1f));
                FloatVector g = FloatVector.fromArray(S, dz, dzOff + el).add(a)
                        .lanewise(VectorOperators.FMA, q, y.mul(0f));
                g.intoArray(dy, el);
                if (activation != null) {
                    y.mul(s).intoArray(activation, (r - r0) * c + i);
                }
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
                int el = r * c + i;
                float xhat = (x[xOff + el] - mean[i]) * invStd[i];
                float d = dz[dzOff + el] + add[r / image * c + i];
                float y = xhat * weight[i] + bias[i];
                float g = (float) BinaryOp.SILU_GRAD.apply(y, d);
                dy[el] = g;
                if (activation != null) {
                    activation[(r - r0) * c + i] = (float) UnaryOp.SILU.apply(y);
                }
                sumDy += g;
                sumDyXhat += g * xhat;
            }
            run[at + i] = sumDy;
            run[at + c + i] = sumDyXhat;
        }
    }
}
