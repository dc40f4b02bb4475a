package dev.vertebra.core.cpu;

import dev.vertebra.core.ReduceOp;

/**
 * A depthwise convolution whose input is made a few rows at a time, into a per-thread buffer in L2, by the layer
 * before it, instead of read from a tensor that layer wrote whole: {@code y = epilogue(depthwise(input, w))} with
 * the input never in memory. Each task takes one image's band of output rows and walks it in sub-bands: it has
 * {@link InputRows} make the input rows a sub-band's windows cover, runs the depthwise rows over the buffer, and
 * moves the rows the next sub-band's windows share to the buffer's front instead of making them again. Asked for
 * them, the pass also sums each output row into its image's channel sums (a squeeze-excitation's pooling) while the
 * row is in L1. The output is the depthwise convolution's of the same input bit for bit: the same row kernel, which
 * reads the buffer as the image's rows.
 *
 * <p>Layouts: the input [N, H, W, C] as the rows make it, w [KH, KW, 1, C], y [N, OH, OW, C].
 */
final class BufferedDepthwise {
    /**
     * Floats of input rows a task keeps: 512 KiB, half of L2. Measured at B0's shapes against 256 KiB and 1 MiB
     * (bench/NOTES.md, sixth round).
     */
    static final int BUFFER_FLOATS = 1 << 17;
    private static final ThreadScratch BUFFER = new ThreadScratch();

    private BufferedDepthwise() {
    }

    /** Makes the depthwise convolution's input rows on demand. */
    @FunctionalInterface
    interface InputRows {
        /** Input rows [r0, r1) of image n, [r1 − r0, W, C], into buffer from {@code at}. */
        void make(int n, int r0, int r1, float[] buffer, int at);
    }

    /**
     * @param rows         makes the input [N, H, W, C] a band of rows at a time
     * @param minNewPixels fewest input pixels (rows × W) to make per call where the image has them: a maker with a
     *                     fixed cost per call (a GEMM) asks for enough to repay it; 1 for none
     * @param w            depthwise weight: [KH, KW, 1, C] from wOff
     * @param epilogue     finishes each output row, or null
     * @param y            output: [N, OH, OW, C] from 0, overwritten
     * @param channelSums  [N, C] from 0, overwritten with y's sums over each image's pixels (the bits
     *                     {@link FloatReduce} gives); null for none
     */
    static void forward(Conv2dShape dw, InputRows rows, int minNewPixels, float[] w, int wOff,
                        ChannelEpilogue epilogue, float[] y, float[] channelSums) {
        Conv2dShape.checkArray("w", w, wOff, dw.weightSize());
        Conv2dShape.checkArray("y", y, 0, dw.outputSize());
        int images = dw.batch();
        int outHeight = dw.outHeight();
        int channels = dw.outChannels();
        int pixels = outHeight * dw.outWidth();
        if (channelSums != null) {
            Conv2dShape.checkArray("channel sums", channelSums, 0, (long) images * channels);
        }
        // Enough tasks for every thread when the batch is small; each band's first rows repeat the overlap.
        int bands = Math.min(outHeight, Math.max(1, (2 * CpuThreads.parallelism() + images - 1) / images));
        boolean sumRows = channelSums != null && bands == 1 && channels > 1 && pixels > 0;
        CpuThreads.parallelFor(0, images * bands, 1, (from, to) -> {
            for (int t = from; t < to; t++) {
                int n = t / bands;
                int band = t % bands;
                StreamingColumnSums sums = sumRows ? new StreamingColumnSums(pixels, channels) : null;
                band(dw, rows, minNewPixels, w, wOff, epilogue, y, n, band * outHeight / bands,
                        (band + 1) * outHeight / bands, sums);
                if (sums != null) {
                    sums.finish(channelSums, n * channels);
                }
            }
        });
        if (channelSums != null && !sumRows) {
            FloatReduce.reduce(ReduceOp.SUM, y, 0, images, pixels, channels, channelSums);
        }
    }

    /** Output rows [oy0, oy1) of image n, each added to {@code sums} (if not null) once written. */
    private static void band(Conv2dShape dw, InputRows rows, int minNewPixels, float[] w, int wOff,
                             ChannelEpilogue epilogue, float[] y, int n, int oy0, int oy1, StreamingColumnSums sums) {
        int height = dw.height();
        int rowFloats = dw.width() * dw.inChannels();              // one input row: [W, C]
        int outRowFloats = dw.outWidth() * dw.outChannels();
        int span = dw.dilationH() * (dw.kernelH() - 1) + 1;        // input rows under one window
        // Output rows per sub-band: as many as the buffer holds, but enough that each call makes minNewPixels.
        int newPixelsPerStep = dw.strideH() * dw.width();          // input pixels a further output row needs
        int stepRows = Math.max(Math.max(1, (BUFFER_FLOATS / rowFloats - span) / dw.strideH() + 1),
                (minNewPixels + newPixelsPerStep - 1) / newPixelsPerStep);
        float[] buffer = BUFFER.floats(Math.min((stepRows - 1) * dw.strideH() + span, height) * rowFloats);
        int held0 = 0;                                             // input rows [held0, held1) are in the buffer
        int held1 = 0;                                             // from its start
        for (int s0 = oy0; s0 < oy1; s0 += stepRows) {
            int s1 = Math.min(oy1, s0 + stepRows);
            int lo = Math.clamp(dw.windowTop(s0), 0, height);
            int hi = Math.clamp(dw.windowTop(s1 - 1) + span, lo, height);
            int kept = Math.max(lo, Math.min(hi, held1));          // rows [lo, kept) move from where they are
            if (kept > lo) {
                System.arraycopy(buffer, (lo - held0) * rowFloats, buffer, 0, (kept - lo) * rowFloats);
            }
            if (hi > kept) {
                rows.make(n, kept, hi, buffer, (kept - lo) * rowFloats);
            }
            held0 = lo;
            held1 = hi;
            // The row kernel finds input row r of image n at xOff + (n·H + r)·W·C: here, buffer[(r - lo)·W·C].
            int bufferOff = -(n * height + lo) * rowFloats;
            for (int oy = s0; oy < s1; oy++) {
                int row = n * dw.outHeight() + oy;
                DepthwiseConv2d.finishedRow(dw, buffer, bufferOff, w, wOff, null, 0, y, row * outRowFloats, epilogue,
                        row);
                if (sums != null) {
                    sums.add(y, row * outRowFloats, dw.outWidth());
                }
            }
        }
    }
}
