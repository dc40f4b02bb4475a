package dev.vertebra.core.cpu;

/**
 * Chooses the kernel for a convolution: the direct depthwise kernel (vectorised over channels) when every
 * group has one input and one output channel, the direct small-channel kernel for a stem (≤ 4 input channels,
 * forward only), otherwise the GEMM-based one (1×1 convolutions are one GEMM, others im2col + GEMM). Outputs are
 * overwritten.
 */
final class ConvKernels {

    private ConvKernels() {
    }

    /** y: [N, OH, OW, Cout] = conv(x: [N, H, W, Cin], w: [KH, KW, Cin/g, Cout]). */
    static void forward(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, float[] y) {
        forward(s, x, xOff, w, wOff, y, null);
    }

    /** As {@link #forward(Conv2dShape, float[], int, float[], int, float[])}, each block finished by the epilogue. */
    static void forward(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, float[] y, ChannelEpilogue epilogue) {
        if (s.isDepthwise()) {
            DepthwiseConv2d.forward(s, x, xOff, w, wOff, null, 0, y, 0, false, epilogue);
        } else if (SmallChannelConv2d.handles(s) && !s.isPointwise()) {
            SmallChannelConv2d.forward(s, x, xOff, w, wOff, y, epilogue);
        } else {
            Conv2dGemm.forward(s, x, xOff, w, wOff, null, 0, y, 0, false, epilogue);
        }
    }

    /** dx: [N, H, W, Cin] from dy: [N, OH, OW, Cout]. */
    static void backwardData(Conv2dShape s, float[] dy, int dyOff, float[] w, int wOff, float[] dx) {
        if (s.isDepthwise()) {
            DepthwiseConv2d.backwardData(s, dy, dyOff, w, wOff, dx, 0, false);
        } else {
            Conv2dGemm.backwardData(s, dy, dyOff, w, wOff, dx, 0, false);
        }
    }

    /** dw: [KH, KW, Cin/g, Cout] from x and dy. */
    static void backwardWeight(Conv2dShape s, float[] x, int xOff, float[] dy, int dyOff, float[] dw) {
        if (s.isDepthwise()) {
            DepthwiseConv2d.backwardWeight(s, x, xOff, dy, dyOff, dw, 0, false);
        } else {
            Conv2dGemm.backwardWeight(s, x, xOff, dy, dyOff, dw, 0, false);
        }
    }
}
