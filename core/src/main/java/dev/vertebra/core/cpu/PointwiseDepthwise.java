package dev.vertebra.core.cpu;

import dev.vertebra.core.ReduceOp;

/**
 * An inverted bottleneck's expansion and depthwise convolutions in one pass, for inference:
 * {@code y = dwEpilogue(depthwise(pwEpilogue(x · w1), w2))}, without writing the expanded activation.
 *
 * <p>Why: the expansion is the widest tensor of the block (six times its input: 8 × 112² × 96 floats, 38.5 MB, in
 * B0's second block). Written by the 1×1 convolution and read back by the depthwise one, it makes both of them wait
 * on memory. Here each task takes one image's band of output rows and walks it in sub-bands: it expands the input
 * rows a sub-band's windows cover into a buffer of about {@value #BUFFER_FLOATS} floats (in L2), runs the
 * depthwise rows over that buffer, and moves the rows the next sub-band's windows share to the buffer's front
 * instead of expanding them again. The expansion weight is packed once per call and shared by all the bands' GEMMs
 * (packed per band, it would be 8 packs of 221 K floats a call at 7² × 192 → 1152). Asked for them, the pass also
 * sums each output row into its image's channel sums (a squeeze-excitation's pooling) while the row is in L1.
 *
 * <p>The values are those of the two separate convolutions bit for bit: the expansion is the same GEMM (rows of
 * one image are rows of the batch's GEMM, each element one summation chain whatever the tiling) and the depthwise
 * rows are the same row kernel, reading the buffer as the image's rows.
 *
 * <p>Layouts: x [N, H, W, Cin], w1 [1, 1, Cin, C], w2 [KH, KW, 1, C], y [N, OH, OW, C].
 */
final class PointwiseDepthwise {
    /**
     * Floats of expanded rows a task keeps: 512 KiB, half of L2. Measured at B0's shapes against 256 KiB and 1 MiB
     * (bench/NOTES.md).
     */
    static final int BUFFER_FLOATS = 1 << 17;
    /**
     * Fewest new rows per expansion GEMM where the image has them: a GEMM call has a fixed cost (its tiles' set-up,
     * a ragged last row panel) that a few rows would not repay. (w1 itself is packed once per call, for all bands.)
     */
    private static final int MIN_GEMM_ROWS = Sgemm.MC;
    private static final ThreadScratch BUFFER = new ThreadScratch();
    /** The calling thread's packed expansion weight, read by all of a call's tasks. */
    private static final ThreadScratch PACKED_W1 = new ThreadScratch();

    private PointwiseDepthwise() {
    }

    /** Whether {@link #forward} computes this pair: an ungrouped unpadded 1×1 stride-1 convolution, then a depthwise
     * one over its output. */
    static boolean handles(Conv2dShape pointwise, Conv2dShape depthwise) {
        return pointwise.isPointwise() && pointwise.groups() == 1 && depthwise.isDepthwise()
                && depthwise.batch() == pointwise.batch() && depthwise.height() == pointwise.height()
                && depthwise.width() == pointwise.width() && depthwise.inChannels() == pointwise.outChannels();
    }

    /**
     * @param x  input: [N, H, W, Cin] from xOff
     * @param w1 expansion weight: [1, 1, Cin, C] from w1Off
     * @param w2 depthwise weight: [KH, KW, 1, C] from w2Off
     * @param y  output: [N, OH, OW, C] from 0, overwritten
     */
    static void forward(Conv2dShape pointwise, float[] x, int xOff, float[] w1, int w1Off, ChannelEpilogue first,
                        Conv2dShape depthwise, float[] w2, int w2Off, ChannelEpilogue second, float[] y) {
        forward(pointwise, x, xOff, w1, w1Off, first, depthwise, w2, w2Off, second, y, null);
    }

    /**
     * {@link #forward} that also sums y over each image's pixels: {@code channelSums[n, c] = Σ_{oy, ox} y[n, oy,
     * ox, c]}, the bits {@link FloatReduce} gives (a squeeze-excitation's pooling). Where a task holds a whole image
     * (a batch at least twice the threads), each row is summed as it is written, in L1; otherwise after the pass.
     *
     * @param channelSums [N, C] from 0, overwritten; null for none
     */
    static void forward(Conv2dShape pointwise, float[] x, int xOff, float[] w1, int w1Off, ChannelEpilogue first,
                        Conv2dShape depthwise, float[] w2, int w2Off, ChannelEpilogue second, float[] y,
                        float[] channelSums) {
        if (!handles(pointwise, depthwise)) {
            throw new IllegalArgumentException("not a 1×1 expansion followed by a depthwise convolution over its "
                    + "output: " + pointwise + ", " + depthwise);
        }
        Conv2dShape.checkArray("x", x, xOff, pointwise.inputSize());
        Conv2dShape.checkArray("w1", w1, w1Off, pointwise.weightSize());
        Conv2dShape.checkArray("w2", w2, w2Off, depthwise.weightSize());
        Conv2dShape.checkArray("y", y, 0, depthwise.outputSize());
        int images = depthwise.batch();
        int outHeight = depthwise.outHeight();
        int channels = depthwise.outChannels();
        int pixels = outHeight * depthwise.outWidth();
        if (channelSums != null) {
            Conv2dShape.checkArray("channel sums", channelSums, 0, (long) images * channels);
        }
        // Enough tasks for every thread when the batch is small; each band's first rows repeat the overlap.
        int bands = Math.min(outHeight, Math.max(1, (2 * CpuThreads.parallelism() + images - 1) / images));
        boolean sumRows = channelSums != null && bands == 1 && channels > 1 && pixels > 0;
        // Every band's expansion multiplies by w1: packed once here, not once or more per band.
        int cin = pointwise.inChannels();
        Sgemm.PackedB packedW1 = Sgemm.packB(false, cin, channels, w1, w1Off, channels,
                PACKED_W1.floats(Math.toIntExact(Sgemm.packedSize(cin, channels))));
        CpuThreads.parallelFor(0, images * bands, 1, (from, to) -> {
            for (int t = from; t < to; t++) {
                int n = t / bands;
                int band = t % bands;
                StreamingColumnSums sums = sumRows ? new StreamingColumnSums(pixels, channels) : null;
                band(pointwise, x, xOff, packedW1, first, depthwise, w2, w2Off, second, y, n,
                        band * outHeight / bands, (band + 1) * outHeight / bands, sums);
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
    private static void band(Conv2dShape pointwise, float[] x, int xOff, Sgemm.PackedB w1, ChannelEpilogue first,
                             Conv2dShape dw, float[] w2, int w2Off, ChannelEpilogue second, float[] y, int n,
                             int oy0, int oy1, StreamingColumnSums sums) {
        int height = dw.height();
        int rowFloats = dw.width() * dw.inChannels();              // one expanded row: [W, C]
        int outRowFloats = dw.outWidth() * dw.outChannels();
        int span = dw.dilationH() * (dw.kernelH() - 1) + 1;        // input rows under one window
        // Output rows per sub-band: as many as the buffer holds, but enough that each expansion has its GEMM rows.
        int newRowsPerStep = dw.strideH() * dw.width();            // GEMM rows a further output row needs
        int stepRows = Math.max(Math.max(1, (BUFFER_FLOATS / rowFloats - span) / dw.strideH() + 1),
                (MIN_GEMM_ROWS + newRowsPerStep - 1) / newRowsPerStep);
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
                expand(pointwise, x, xOff, w1, first, n, kept, hi, buffer, (kept - lo) * rowFloats);
            }
            held0 = lo;
            held1 = hi;
            // The row kernel finds input row r of image n at xOff + (n·H + r)·W·C: here, buffer[(r - lo)·W·C].
            int bufferOff = -(n * height + lo) * rowFloats;
            for (int oy = s0; oy < s1; oy++) {
                int row = n * dw.outHeight() + oy;
                DepthwiseConv2d.finishedRow(dw, buffer, bufferOff, w2, w2Off, null, 0, y, row * outRowFloats, second,
                        row);
                if (sums != null) {
                    sums.add(y, row * outRowFloats, dw.outWidth());
                }
            }
        }
    }

    /** Expanded rows [r0, r1) of image n into buffer from at: the 1×1 convolution of those rows alone. */
    private static void expand(Conv2dShape pointwise, float[] x, int xOff, Sgemm.PackedB w1, ChannelEpilogue first,
                               int n, int r0, int r1, float[] buffer, int at) {
        int width = pointwise.width();
        Conv2dShape rows = new Conv2dShape(1, r1 - r0, width, pointwise.inChannels(), pointwise.outChannels(),
                1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1);
        int from = xOff + (n * pointwise.height() + r0) * width * pointwise.inChannels();
        Conv2dGemm.forwardPointwise(rows, x, from, w1, buffer, at, first);
    }
}
