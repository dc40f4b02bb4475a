package dev.vertebra.core.cpu;

import dev.vertebra.core.CpuStorage;
import dev.vertebra.core.ReduceOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Depthwise convolution (groups = Cin = Cout, one filter per channel) on channels-last activations: forward,
 * backward-data and backward-weight, for any kernel size, stride, per-side padding and dilation.
 * Layouts: x [N, H, W, C], y [N, OH, OW, C], w [KH, KW, 1, C] (HWIO with one input channel per group).
 *
 * <p>Channels are the contiguous dimension, so every kernel vectorises over C and runs the spatial loops around
 * it; work is split over rows of the image across {@link CpuThreads}. Loads, not FMAs, are what limit these
 * kernels, so the 3×3 stride-1 case (most of EfficientNet's depthwise layers) slides a window of input vectors
 * along the row in registers: three loads per output vector instead of nine. Other shapes compute eight or four
 * neighbouring output pixels at once, one channel vector at a time, so each weight vector loaded serves eight or
 * four FMAs ({@link DepthwiseForward}).
 *
 * <p>{@code accumulate = false} overwrites the output without reading it; {@code true} adds to it.
 *
 * <pre>{@code
 * Conv2dShape s = Conv2dShape.symmetric(8, 112, 112, 96, 96, 3, 1, 1, 1, 96);
 * DepthwiseConv2d.forward(s, x, 0, w, 0, null, 0, y, 0, false);
 * }</pre>
 */
public final class DepthwiseConv2d {

    // Partial sums of the weight gradient: a fixed count keeps the summation order, hence the result, reproducible.
    private static final int WEIGHT_PARTIALS = 16;
    /** Floats all partial weight gradients may take together: 512 KB, half of L2. */
    private static final long PARTIAL_FLOATS = 128 << 10;
    // Fewest floats of partials (count × size) whose sum the threads share: below, a parallel loop costs more than
    // it saves.
    static final int PARALLEL_PARTIAL_FLOATS = 1 << 16;
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final ThreadScratch ROW = new ThreadScratch();
    private static final ThreadScratch FLIPPED = new ThreadScratch();

    private static final int FLOATS_PER_LINE = 16;
    // Below this many channels a pixel is at most two cache lines and the prefetchers keep up with the sweeps.
    private static final int PRELOAD_MIN_CHANNELS = 64;
    // Written by preload, never read: see there. Races between threads do not matter.
    @SuppressWarnings("unused")
    private static int preloaded;

    private DepthwiseConv2d() {
    }

    /**
     * y = depthwise(x, w) + bias (or y += that when accumulating).
     *
     * @param x    input: [N, H, W, C] from xOff
     * @param w    weight: [KH, KW, 1, C] from wOff
     * @param bias [C] from biasOff, or null
     * @param y    output: [N, OH, OW, C] from yOff
     */
    public static void forward(Conv2dShape s, float[] x, int xOff, float[] w, int wOff,
                               float[] bias, int biasOff, float[] y, int yOff, boolean accumulate) {
        forward(s, x, xOff, w, wOff, bias, biasOff, y, yOff, accumulate, null);
    }

    /** {@link #forward} that finishes each output row with {@code epilogue} (after the bias) while it is in cache. */
    static void forward(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, float[] bias, int biasOff,
                        float[] y, int yOff, boolean accumulate, ChannelEpilogue epilogue) {
        forward(s, x, xOff, w, wOff, bias, biasOff, y, yOff, accumulate, epilogue, null);
    }

    /**
     * Work on one finished row of a kernel's output while it is still in L1: {@code row = n · rows per image + y}.
     * Rows are finished in any order, on any thread, each once.
     */
    @FunctionalInterface
    interface RowFinisher {
        void finish(int row);
    }

    private static void forward(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, float[] bias, int biasOff,
                                float[] y, int yOff, boolean accumulate, ChannelEpilogue epilogue,
                                RowFinisher finisher) {
        check(s);
        Conv2dShape.checkArray("x", x, xOff, s.inputSize());
        Conv2dShape.checkArray("w", w, wOff, s.weightSize());
        Conv2dShape.checkArray("y", y, yOff, s.outputSize());
        if (bias != null) {
            Conv2dShape.checkArray("bias", bias, biasOff, s.outChannels());
        }
        int rows = s.batch() * s.outHeight();
        int rowFloats = s.outWidth() * s.inChannels();
        CpuThreads.parallelFor(0, rows, rowGrain(rowFloats), (from, to) -> {
            for (int row = from; row < to; row++) {
                preloadWindowRows(s, x, xOff, row, row == from);
                if (accumulate) {
                    DepthwiseForward.row(s, x, xOff, w, wOff, bias, biasOff, y, yOff + row * rowFloats, true, row);
                    if (epilogue != null) {
                        epilogue.apply(y, yOff + row * rowFloats, s.outWidth(), s.inChannels(), s.inChannels(), 0);
                    }
                } else {
                    finishedRow(s, x, xOff, w, wOff, bias, biasOff, y, yOff + row * rowFloats, epilogue, row);
                }
                if (finisher != null) {
                    finisher.finish(row);
                }
            }
        });
    }

    /**
     * {@link #forward} (no bias, overwriting y) that also sums y over each image's pixels:
     * {@code channelSums[n, c] = Σ_{oy, ox} y[n, oy, ox, c]}, the bits {@link FloatReduce} gives (a
     * squeeze-excitation's pooling). With at least two images per thread each task takes whole images and sums each
     * row as it is written, in L1; otherwise the sums are a reduction after the pass.
     *
     * @param y           output: [N, OH, OW, C] from 0, overwritten
     * @param channelSums [N, C] from 0, overwritten
     */
    static void forwardPooled(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, float[] y,
                              ChannelEpilogue epilogue, float[] channelSums) {
        int images = s.batch();
        int channels = s.outChannels();
        int pixels = s.outHeight() * s.outWidth();
        Conv2dShape.checkArray("channel sums", channelSums, 0, (long) images * channels);
        if (images < 2 * CpuThreads.parallelism() || channels < 2 || pixels == 0) {
            forward(s, x, xOff, w, wOff, null, 0, y, 0, false, epilogue);
            FloatReduce.reduce(ReduceOp.SUM, y, 0, images, pixels, channels, channelSums);
            return;
        }
        check(s);
        Conv2dShape.checkArray("x", x, xOff, s.inputSize());
        Conv2dShape.checkArray("w", w, wOff, s.weightSize());
        Conv2dShape.checkArray("y", y, 0, s.outputSize());
        int rowFloats = s.outWidth() * s.inChannels();
        CpuThreads.parallelFor(0, images, 1, (from, to) -> {
            for (int n = from; n < to; n++) {
                StreamingColumnSums sums = new StreamingColumnSums(pixels, channels);
                for (int row = n * s.outHeight(); row < (n + 1) * s.outHeight(); row++) {
                    preloadWindowRows(s, x, xOff, row, row == n * s.outHeight());
                    finishedRow(s, x, xOff, w, wOff, null, 0, y, row * rowFloats, epilogue, row);
                    sums.add(y, row * rowFloats, s.outWidth());
                }
                sums.finish(channelSums, n * channels);
            }
        });
    }

    /**
     * Output row {@code row = n · OH + oy} of {@link #forward} without accumulation, finished by {@code epilogue}
     * (or none): y[n, oy, :, :], [OW, C] from yRow.
     */
    static void finishedRow(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, float[] bias, int biasOff,
                            float[] y, int yRow, ChannelEpilogue epilogue, int row) {
        if (epilogue == null) {
            DepthwiseForward.row(s, x, xOff, w, wOff, bias, biasOff, y, yRow, false, row);
            return;
        }
        // The row goes to scratch that stays in L1, and the epilogue writes it to y: finishing y in place re-read
        // lines still being written. Batch 8 with SiLU: the 5×5 layers at 28² to 7² 10-12 % faster, 56² × 144 5 %,
        // the 112² layers unchanged.
        int rowFloats = s.outWidth() * s.inChannels();
        float[] scratch = ROW.floats(rowFloats);
        DepthwiseForward.row(s, x, xOff, w, wOff, bias, biasOff, scratch, 0, false, row);
        epilogue.apply(scratch, 0, y, yRow, s.outWidth(), s.inChannels(), s.inChannels(), 0);
    }

    /**
     * dx = ∂L/∂x given dy (dx += that when accumulating). Each input pixel gathers the output pixels whose windows
     * cover it, so rows of dx are written by one thread each, without races; with stride 1 this is the forward
     * kernel on dy with the flipped filter.
     *
     * @param dy output gradient: [N, OH, OW, C] from dyOff
     * @param w  weight: [KH, KW, 1, C] from wOff
     * @param dx input gradient: [N, H, W, C] from dxOff
     */
    public static void backwardData(Conv2dShape s, float[] dy, int dyOff, float[] w, int wOff,
                                    float[] dx, int dxOff, boolean accumulate) {
        backwardData(s, dy, dyOff, w, wOff, dx, dxOff, accumulate, null);
    }

    /**
     * {@link #backwardData} that hands each finished row of dx ({@code [W, C]}, row {@code n · H + y}) to
     * {@code finisher} while it is in L1.
     */
    static void backwardData(Conv2dShape s, float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff,
                             boolean accumulate, RowFinisher finisher) {
        check(s);
        Conv2dShape.checkArray("dy", dy, dyOff, s.outputSize());
        Conv2dShape.checkArray("w", w, wOff, s.weightSize());
        Conv2dShape.checkArray("dx", dx, dxOff, s.inputSize());
        int kernelSpanH = s.dilationH() * (s.kernelH() - 1);
        int kernelSpanW = s.dilationW() * (s.kernelW() - 1);
        if (s.strideH() == 1 && s.strideW() == 1 && s.padTop() <= kernelSpanH && s.padBottom() <= kernelSpanH
                && s.padLeft() <= kernelSpanW && s.padRight() <= kernelSpanW) {
            // With stride 1 the gradient is itself a depthwise correlation: dy, padded by the kernel span minus
            // the forward padding, with the kernel flipped in both directions. The fast forward kernel does it.
            Conv2dShape transposed = new Conv2dShape(s.batch(), s.outHeight(), s.outWidth(), s.inChannels(),
                    s.outChannels(), s.kernelH(), s.kernelW(), 1, 1,
                    kernelSpanH - s.padTop(), kernelSpanH - s.padBottom(),
                    kernelSpanW - s.padLeft(), kernelSpanW - s.padRight(),
                    s.dilationH(), s.dilationW(), s.groups());
            forward(transposed, dy, dyOff, flipped(s, w, wOff), 0, null, 0, dx, dxOff, accumulate, null, finisher);
            return;
        }
        int rows = s.batch() * s.height();
        DepthwiseGather.ColumnTaps columns = DepthwiseGather.ColumnTaps.of(s);
        CpuThreads.parallelFor(0, rows, backwardDataGrain(s), (from, to) -> {
            for (int row = from; row < to; row++) {
                DepthwiseGather.row(s, dy, dyOff, w, wOff, dx, dxOff, accumulate, columns, row);
                if (finisher != null) {
                    finisher.finish(row);
                }
            }
        });
    }

    /**
     * How {@link #backwardData} splits the rows of dx among tasks: rows {@code [k · grain, (k + 1) · grain)} are one
     * task's, finished in order on one thread. (With stride 1 it runs {@link #forward} over the transposed shape,
     * whose output rows are dx's rows with the same grain.)
     */
    static int backwardDataGrain(Conv2dShape s) {
        return rowGrain(s.width() * s.inChannels());
    }

    /**
     * The kernel rotated by 180°: flipped[kh, kw, c] = w[KH-1-kh, KW-1-kw, c]; flipped: [KH, KW, 1, C] from 0, in
     * the calling thread's scratch (a new array each call was zeroed first: 115 KB at 5×5 × 1152).
     */
    private static float[] flipped(Conv2dShape s, float[] w, int wOff) {
        int c = s.inChannels();
        int taps = s.kernelH() * s.kernelW();
        float[] result = FLIPPED.floats(taps * c);
        for (int t = 0; t < taps; t++) {
            System.arraycopy(w, wOff + (taps - 1 - t) * c, result, t * c, c);
        }
        return result;
    }

    /**
     * dw = ∂L/∂w given x and dy (dw += that when accumulating). Rows are summed into a fixed number of partial
     * gradients in parallel, then the partials are added in order.
     *
     * @param x  input: [N, H, W, C] from xOff
     * @param dy output gradient: [N, OH, OW, C] from dyOff
     * @param dw weight gradient: [KH, KW, 1, C] from dwOff
     */
    public static void backwardWeight(Conv2dShape s, float[] x, int xOff, float[] dy, int dyOff,
                                      float[] dw, int dwOff, boolean accumulate) {
        check(s);
        Conv2dShape.checkArray("x", x, xOff, s.inputSize());
        Conv2dShape.checkArray("dy", dy, dyOff, s.outputSize());
        Conv2dShape.checkArray("dw", dw, dwOff, s.weightSize());
        int c = s.inChannels();
        int taps = s.kernelH() * s.kernelW();
        int rows = s.batch() * s.outHeight();
        int partials = weightPartials(s, rows);
        int rowsPerPartial = (rows + partials - 1) / partials;
        int size = taps * c;
        // [partials, KH, KW, C]; taken on the calling thread, so that a MemoryScope open there recycles it, and
        // zeroed a partial at a time by the task that sums into it (from the calling thread alone, the zeroing and
        // the sum below were a tenth of a 7² × 1152 5×5 weight gradient at batch 8).
        float[] partial = CpuStorage.allocateUninitialized(partials * size).floats();
        CpuThreads.parallelFor(0, partials, 1, (from, to) -> {
            for (int p = from; p < to; p++) {
                Arrays.fill(partial, p * size, (p + 1) * size, 0f);
                for (int row = p * rowsPerPartial; row < Math.min(rows, (p + 1) * rowsPerPartial); row++) {
                    preloadWindowRows(s, x, xOff, row, row == p * rowsPerPartial);
                    preloadOutputRow(s, dy, dyOff, row);
                    DepthwiseWeightRows.accumulate(s, x, xOff, dy, dyOff, row, partial, p * size);
                }
            }
        });
        sumPartials(partial, partials, size, dw, dwOff, accumulate);
    }

    /**
     * How many partial weight gradients {@link #backwardWeight} sums: one per row up to {@value #WEIGHT_PARTIALS}, and
     * where that many would take more than {@value #PARTIAL_FLOATS} floats together, the largest power of two that
     * fits (so that two, four or eight threads share them evenly). The count follows the shape only: the sums must not
     * depend on the thread count. On small maps with many channels sixteen partials cost more than the products: at
     * 7² × 1152, 5×5, they are 1.8 MB, as much as x and dy together, zeroed, summed into and read back; four took the
     * cold call from 0.37 to 0.49 of copy bandwidth (bench/NOTES.md, thirty-second round).
     */
    static int weightPartials(Conv2dShape s, int rows) {
        int partials = Math.min(WEIGHT_PARTIALS, rows);
        long fit = PARTIAL_FLOATS / s.weightSize();
        return fit >= partials ? partials : Integer.highestOneBit((int) Math.max(1, fit));
    }

    /**
     * dw[i] (+)= Σ_p partial[p·size + i], p in order for every i (the scalar loop's sums, a vector of i at a time:
     * the scalar loop took a fifth of a 7² × 1152 5×5 weight gradient at batch 8: 1.15 → 0.91 ms). Where there are
     * many partials, the threads take slices of i: each i's sum is the same whichever thread takes it.
     */
    static void sumPartials(float[] partial, int partials, int size, float[] dw, int dwOff, boolean accumulate) {
        if ((long) partials * size < PARALLEL_PARTIAL_FLOATS) {
            sumPartials(partial, partials, size, dw, dwOff, accumulate, 0, size);
            return;
        }
        // Slices of whole vectors, about two a thread.
        int lanes = SPECIES.length();
        int slice = Math.max(lanes, (size + 2 * CpuThreads.parallelism() * lanes - 1)
                / (2 * CpuThreads.parallelism() * lanes) * lanes);
        CpuThreads.parallelFor(0, size, slice, (from, to) ->
                sumPartials(partial, partials, size, dw, dwOff, accumulate, from, to));
    }

    /** {@link #sumPartials} for i in [from, to). */
    private static void sumPartials(float[] partial, int partials, int size, float[] dw, int dwOff,
                                    boolean accumulate, int from, int to) {
        int i = from;
        for (int bound = from + SPECIES.loopBound(to - from); i < bound; i += SPECIES.length()) {
            FloatVector total = accumulate ? FloatVector.fromArray(SPECIES, dw, dwOff + i)
                    : FloatVector.zero(SPECIES);
            for (int p = 0; p < partials; p++) {
                total = total.add(FloatVector.fromArray(SPECIES, partial, p * size + i));
            }
            total.intoArray(dw, dwOff + i);
        }
        for (; i < to; i++) {
            float total = accumulate ? dw[dwOff + i] : 0f;
            for (int p = 0; p < partials; p++) {
                total += partial[p * size + i];
            }
            dw[dwOff + i] = total;
        }
    }

    /** Smallest output index o ≥ 0 with o·stride + offset ≥ 0. */
    static int firstInside(int offset, int stride) {
        return offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    }

    /** Largest output index o with o·stride + offset ≤ size - 1 (negative when there is none). */
    static int lastInside(int offset, int stride, int size) {
        int room = size - 1 - offset;
        return room < 0 ? -1 : room / stride;
    }

    /**
     * Reads the input rows that output row {@code row} adds to its window (all of the window's rows when
     * {@code wholeWindow}: the previous output row was not this thread's), one float per cache line, before the
     * row is computed. The row kernels sweep one channel vector at a time, a cache line per pixel C·4 bytes apart,
     * and from memory the hardware prefetchers follow that poorly: the first sweep over each new row waited on
     * every line. Read front to back, the rows stream in at memory bandwidth and the sweeps then find them in L2.
     * Batch 8, input from memory, median of 100 calls alternating with and without in one JVM: forward
     * 112² × 96 3×3 stride 2 2.13–2.16 → 1.67–1.76 ms, 56² × 144 3×3 1.65 → 1.22–1.26, 28² × 240 5×5 1.37 → 0.90;
     * weight gradient 56² × 144 3×3 2.17 → 1.36 ms, 28² × 240 5×5 3.24 → 2.86. At 112² × 32 (two lines a pixel)
     * it gained nothing and cost the stride-1 input gradient 8 %, so narrow rows are left to the prefetchers.
     */
    private static void preloadWindowRows(Conv2dShape s, float[] x, int xOff, int row, boolean wholeWindow) {
        if (s.inChannels() < PRELOAD_MIN_CHANNELS) {
            return;
        }
        int n = row / s.outHeight();
        int oy = row % s.outHeight();
        int first = s.windowTop(oy) + s.kernelRowsFrom(oy) * s.dilationH();
        int last = s.windowTop(oy) + (s.kernelRowsTo(oy) - 1) * s.dilationH();
        if (!wholeWindow && oy > 0) {
            int previousLast = s.windowTop(oy - 1) + (s.kernelRowsTo(oy - 1) - 1) * s.dilationH();
            first = Math.max(first, previousLast + 1);
        }
        if (first <= last) {
            int rowFloats = s.width() * s.inChannels();
            int imageStart = xOff + n * s.height() * rowFloats;
            preload(x, imageStart + first * rowFloats, imageStart + (last + 1) * rowFloats);
        }
    }

    /** Output row {@code row} of y ([N, OH, OW, C] from yOff) read as {@link #preloadWindowRows} reads x. */
    private static void preloadOutputRow(Conv2dShape s, float[] y, int yOff, int row) {
        if (s.inChannels() >= PRELOAD_MIN_CHANNELS) {
            int rowFloats = s.outWidth() * s.inChannels();
            preload(y, yOff + row * rowFloats, yOff + (row + 1) * rowFloats);
        }
    }

    /**
     * A row of {@code pixels} pixels of {@code channels} floats from {@code a[from]} read as {@link #preloadWindowRows}
     * reads x, for a kernel that then sweeps it a channel vector at a time (narrow rows are left to the prefetchers).
     */
    static void preloadRow(float[] a, int from, int pixels, int channels) {
        if (channels >= PRELOAD_MIN_CHANNELS) {
            preload(a, from, from + pixels * channels);
        }
    }

    /** Reads a[from, to) front to back, one float per 64-byte cache line (see {@link #preloadWindowRows}). */
    private static void preload(float[] a, int from, int to) {
        int bits = 0;
        for (int i = from; i < to; i += FLOATS_PER_LINE) {
            bits ^= Float.floatToRawIntBits(a[i]);
        }
        preloaded ^= bits; // a store the JIT must keep, so the reads are not dead code
    }

    private static int rowGrain(int elementsPerRow) {
        return Math.max(1, (1 << 15) / Math.max(1, elementsPerRow));
    }

    private static void check(Conv2dShape s) {
        if (!s.isDepthwise()) {
            throw new IllegalArgumentException("depthwise convolution needs groups = Cin = Cout, got groups "
                    + s.groups() + ", Cin " + s.inChannels() + ", Cout " + s.outChannels()
                    + " (use Conv2dGemm for channel multipliers)");
        }
    }
}
