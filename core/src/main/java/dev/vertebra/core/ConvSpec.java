package dev.vertebra.core;

/**
 * Geometry of a 2-D convolution over NHWC activations with HWIO weights ({@code [KH, KW, Cin/groups, Cout]}).
 * Padding is per side, so both PyTorch's symmetric padding and TensorFlow's asymmetric "SAME" padding are cases.
 *
 * <pre>{@code
 * ConvSpec.of(2, 1, 1, 1);                        // stride 2, padding 1 on every side
 * ConvSpec.same(224, 224, 3, 3, 2, 1, 1);         // TF "SAME" for a 3×3 stride-2 conv on 224²
 * }</pre>
 */
public record ConvSpec(int strideH, int strideW, int padTop, int padBottom, int padLeft, int padRight,
                       int dilationH, int dilationW, int groups) {

    public ConvSpec {
        if (strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || groups < 1) {
            throw new IllegalArgumentException("stride, dilation and groups must be ≥ 1: " + this);
        }
        if (padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) {
            throw new IllegalArgumentException("padding must be ≥ 0: " + this);
        }
    }

    /** Square stride, symmetric padding, square dilation (PyTorch's Conv2d arguments). */
    public static ConvSpec of(int stride, int padding, int dilation, int groups) {
        return new ConvSpec(stride, stride, padding, padding, padding, padding, dilation, dilation, groups);
    }

    /**
     * TensorFlow's "SAME" padding for an input of {@code h × w}: output size ceil(in / stride), the extra pixel of
     * an odd total padding going to the bottom/right.
     */
    public static ConvSpec same(int h, int w, int kh, int kw, int stride, int dilation, int groups) {
        int totalH = samePadding(h, kh, stride, dilation);
        int totalW = samePadding(w, kw, stride, dilation);
        return new ConvSpec(stride, stride, totalH / 2, totalH - totalH / 2, totalW / 2, totalW - totalW / 2,
                dilation, dilation, groups);
    }

    private static int samePadding(int in, int k, int stride, int dilation) {
        int out = (in + stride - 1) / stride;
        return Math.max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0);
    }

    /** Output height for input height {@code h} and kernel height {@code kh}. */
    public int outHeight(int h, int kh) {
        return (h + padTop + padBottom - dilationH * (kh - 1) - 1) / strideH + 1;
    }

    /** Output width for input width {@code w} and kernel width {@code kw}. */
    public int outWidth(int w, int kw) {
        return (w + padLeft + padRight - dilationW * (kw - 1) - 1) / strideW + 1;
    }

    /** The output shape {@code [N, OH, OW, Cout]} for an input {@code x: [N, H, W, Cin]} and weight {@code w}. */
    public Shape outputShape(Shape x, Shape w) {
        return Shape.of(x.dim(0), outHeight(x.dim(1), w.dim(0)), outWidth(x.dim(2), w.dim(1)), w.dim(3));
    }
}
