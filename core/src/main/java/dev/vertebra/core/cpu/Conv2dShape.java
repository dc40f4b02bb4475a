package dev.vertebra.core.cpu;

/**
 * The geometry of a 2-D convolution on channels-last activations, shared by the forward and both backward
 * kernels.
 *
 * <p>Layouts: input x [N, H, W, Cin], output y [N, OH, OW, Cout], weight w [KH, KW, Cin / groups, Cout] (HWIO).
 * Output channel {@code co} belongs to group {@code co / (Cout / groups)} and sees input channels
 * {@code g · Cin/groups ... (g+1) · Cin/groups - 1}. Padding is given per side, so both PyTorch's symmetric
 * padding and TensorFlow's "same" (more at the bottom/right) are expressible:
 * {@code OH = (H + padTop + padBottom - dilationH · (KH - 1) - 1) / strideH + 1}.
 *
 * <pre>{@code
 * // EfficientNet stem: 3×3, stride 2, pad 1, 3 → 32 channels on 8 images of 224²
 * Conv2dShape stem = Conv2dShape.symmetric(8, 224, 224, 3, 32, 3, 2, 1, 1, 1);
 * }</pre>
 *
 * @param batch       N
 * @param height      H of the input
 * @param width       W of the input
 * @param inChannels  Cin
 * @param outChannels Cout
 * @param kernelH     KH
 * @param kernelW     KW
 * @param groups      divides both Cin and Cout; Cin for a depthwise convolution
 */
public record Conv2dShape(int batch, int height, int width, int inChannels, int outChannels,
                          int kernelH, int kernelW, int strideH, int strideW,
                          int padTop, int padBottom, int padLeft, int padRight,
                          int dilationH, int dilationW, int groups) {

    /** Checks every size is positive, padding non-negative, groups divide the channels and the output is not empty. */
    public Conv2dShape {
        if (batch < 1 || height < 1 || width < 1 || inChannels < 1 || outChannels < 1 || kernelH < 1 || kernelW < 1
                || strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || groups < 1) {
            throw new IllegalArgumentException("sizes, strides, dilations and groups must be positive: " + describe(
                    batch, height, width, inChannels, outChannels, kernelH, kernelW, strideH, strideW, groups));
        }
        if (padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) {
            throw new IllegalArgumentException("negative padding: top " + padTop + " bottom " + padBottom
                    + " left " + padLeft + " right " + padRight);
        }
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("groups " + groups + " must divide Cin " + inChannels
                    + " and Cout " + outChannels);
        }
        if (height + padTop + padBottom < dilationH * (kernelH - 1) + 1
                || width + padLeft + padRight < dilationW * (kernelW - 1) + 1) {
            throw new IllegalArgumentException("kernel " + kernelH + "×" + kernelW + " (dilation " + dilationH
                    + "×" + dilationW + ") larger than the padded input " + (height + padTop + padBottom) + "×"
                    + (width + padLeft + padRight));
        }
    }

    /** Square kernel, equal stride, padding and dilation on all sides (PyTorch's Conv2d arguments). */
    public static Conv2dShape symmetric(int batch, int height, int width, int inChannels, int outChannels,
                                        int kernel, int stride, int padding, int dilation, int groups) {
        return new Conv2dShape(batch, height, width, inChannels, outChannels, kernel, kernel, stride, stride,
                padding, padding, padding, padding, dilation, dilation, groups);
    }

    private static String describe(int n, int h, int w, int cin, int cout, int kh, int kw, int sh, int sw, int g) {
        return "N=" + n + " H=" + h + " W=" + w + " Cin=" + cin + " Cout=" + cout + " kernel " + kh + "×" + kw
                + " stride " + sh + "×" + sw + " groups " + g;
    }

    /** OH. */
    public int outHeight() {
        return (height + padTop + padBottom - dilationH * (kernelH - 1) - 1) / strideH + 1;
    }

    /** OW. */
    public int outWidth() {
        return (width + padLeft + padRight - dilationW * (kernelW - 1) - 1) / strideW + 1;
    }

    // The window geometry the direct kernels (depthwise, small-channel) share: which taps fall inside the image.

    /** Input row under kernel row 0 for output row oy (negative in the top padding). */
    int windowTop(int oy) {
        return oy * strideH - padTop;
    }

    /** First kernel row inside the image for output row oy. */
    int kernelRowsFrom(int oy) {
        return DepthwiseConv2d.firstInside(windowTop(oy), dilationH);
    }

    /** One past the last kernel row inside the image for output row oy. */
    int kernelRowsTo(int oy) {
        return Math.min(kernelH, DepthwiseConv2d.lastInside(windowTop(oy), dilationH, height) + 1);
    }

    /** First kernel column inside the image for output column ox. */
    int kernelColumnsFrom(int ox) {
        return DepthwiseConv2d.firstInside(ox * strideW - padLeft, dilationW);
    }

    /** One past the last kernel column inside the image for output column ox. */
    int kernelColumnsTo(int ox) {
        return Math.min(kernelW, DepthwiseConv2d.lastInside(ox * strideW - padLeft, dilationW, width) + 1);
    }

    /** First output column whose whole window lies inside the image along the row. */
    int interiorColumnsFrom() {
        return DepthwiseConv2d.firstInside(-padLeft, strideW);
    }

    /** One past the last output column whose whole window lies inside the image along the row. */
    int interiorColumnsTo() {
        int lastStart = DepthwiseConv2d.lastInside((kernelW - 1) * dilationW - padLeft, strideW, width);
        return Math.min(outWidth(), lastStart + 1);
    }

    /** Cin / groups: input channels one output channel sees. */
    public int inPerGroup() {
        return inChannels / groups;
    }

    /** Cout / groups. */
    public int outPerGroup() {
        return outChannels / groups;
    }

    /** Elements of x: N·H·W·Cin. */
    public long inputSize() {
        return (long) batch * height * width * inChannels;
    }

    /** Elements of y: N·OH·OW·Cout. */
    public long outputSize() {
        return (long) batch * outHeight() * outWidth() * outChannels;
    }

    /** Elements of w: KH·KW·(Cin / groups)·Cout. */
    public long weightSize() {
        return (long) kernelH * kernelW * inPerGroup() * outChannels;
    }

    /** True for a 1×1, stride-1, unpadded convolution: a plain GEMM over the pixels. */
    public boolean isPointwise() {
        return kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1
                && padTop == 0 && padBottom == 0 && padLeft == 0 && padRight == 0;
    }

    /** True when each channel is convolved on its own: groups = Cin = Cout. */
    public boolean isDepthwise() {
        return groups == inChannels && groups == outChannels;
    }

    /** Throws unless {@code array} holds {@code size} elements from {@code offset}. */
    static void checkArray(String name, float[] array, int offset, long size) {
        if (offset < 0 || offset + size > array.length) {
            throw new IllegalArgumentException(name + ": needs " + size + " elements from offset " + offset
                    + " but the array has " + array.length);
        }
    }
}
