package dev.vertebra.core.cpu;

/**
 * An image stem and the depthwise convolution over its output in one pass, for inference:
 * {@code y = dwEpilogue(depthwise(stemEpilogue(conv(x, w1)), w2))}, without writing the stem's output (EfficientNet's
 * stem, 3×3 stride 2 over three channels, then its first block's depthwise layer: 8 × 112² × 32 floats, 12.8 MB at
 * 224², written and read back otherwise). The stem's rows are made a band at a time into a buffer in L2
 * ({@link BufferedDepthwise}) by the same row kernel and epilogue as {@link SmallChannelConv2d#forward}, so the
 * values are those of the two convolutions bit for bit.
 *
 * <p>Layouts: x [N, H, W, Cin], w1 [KH, KW, Cin, C], w2 [KH', KW', 1, C], y [N, OH', OW', C].
 */
final class SmallChannelDepthwise {

    private SmallChannelDepthwise() {
    }

    /** Whether {@link #forward} computes this pair: a stem {@link SmallChannelConv2d} takes, then a depthwise one. */
    static boolean handles(Conv2dShape stem, Conv2dShape depthwise) {
        return SmallChannelConv2d.handles(stem) && !stem.isPointwise() && depthwise.isDepthwise()
                && depthwise.batch() == stem.batch() && depthwise.height() == stem.outHeight()
                && depthwise.width() == stem.outWidth() && depthwise.inChannels() == stem.outChannels();
    }

    /**
     * @param x           input: [N, H, W, Cin] from xOff
     * @param w1          stem weight: [KH, KW, Cin, C] from w1Off
     * @param w2          depthwise weight: [KH', KW', 1, C] from w2Off
     * @param y           output: [N, OH', OW', C] from 0, overwritten
     * @param channelSums [N, C] from 0, overwritten with y's sums over each image's pixels; null for none
     */
    static void forward(Conv2dShape stem, float[] x, int xOff, float[] w1, int w1Off, ChannelEpilogue first,
                        Conv2dShape depthwise, float[] w2, int w2Off, ChannelEpilogue second, float[] y,
                        float[] channelSums) {
        if (!handles(stem, depthwise)) {
            throw new IllegalArgumentException("not an image stem followed by a depthwise convolution over its "
                    + "output: " + stem + ", " + depthwise);
        }
        Conv2dShape.checkArray("x", x, xOff, stem.inputSize());
        Conv2dShape.checkArray("w1", w1, w1Off, stem.weightSize());
        BufferedDepthwise.forward(depthwise,
                (n, r0, r1, buffer, at) -> SmallChannelConv2d.rows(stem, x, xOff, w1, w1Off, first, n, r0, r1, buffer,
                        at),
                1, w2, w2Off, second, y, channelSums);
    }
}
