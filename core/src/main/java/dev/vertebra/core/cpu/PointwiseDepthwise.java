package dev.vertebra.core.cpu;

/**
 * An inverted bottleneck's expansion and depthwise convolutions in one pass, for inference:
 * {@code y = dwEpilogue(depthwise(pwEpilogue(x · w1), w2))}, without writing the expanded activation.
 *
 * <p>Why: the expansion is the widest tensor of the block (six times its input: 8 × 112² × 96 floats, 38.5 MB, in
 * B0's second block). Written by the 1×1 convolution and read back by the depthwise one, it makes both of them wait
 * on memory. Here the expansion makes the depthwise layer's input rows a band at a time into a buffer in L2
 * ({@link BufferedDepthwise}). The expansion weight is packed once per call and shared by all the bands' GEMMs
 * (packed per band, it would be 8 packs of 221 K floats a call at 7² × 192 → 1152).
 *
 * <p>The values are those of the two separate convolutions bit for bit: the expansion is the same GEMM (rows of
 * one image are rows of the batch's GEMM, each element one summation chain whatever the tiling) and the depthwise
 * rows are the same row kernel, reading the buffer as the image's rows.
 *
 * <p>Layouts: x [N, H, W, Cin], w1 [1, 1, Cin, C], w2 [KH, KW, 1, C], y [N, OH, OW, C].
 */
final class PointwiseDepthwise {
    /**
     * Fewest new rows per expansion GEMM where the image has them: a GEMM call has a fixed cost (its tiles' set-up,
     * a ragged last row panel) that a few rows would not repay. (w1 itself is packed once per call, for all bands.)
     */
    private static final int MIN_GEMM_ROWS = Sgemm.MC;
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
        // Every band's expansion multiplies by w1: packed once here, not once or more per band.
        int cin = pointwise.inChannels();
        int channels = depthwise.inChannels();
        Sgemm.PackedB packedW1 = Sgemm.packB(false, cin, channels, w1, w1Off, channels,
                PACKED_W1.floats(Math.toIntExact(Sgemm.packedSize(cin, channels))));
        BufferedDepthwise.forward(depthwise,
                (n, r0, r1, buffer, at) -> expand(pointwise, x, xOff, packedW1, first, n, r0, r1, buffer, at),
                MIN_GEMM_ROWS, w2, w2Off, second, y, channelSums);
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
