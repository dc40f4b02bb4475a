package dev.vertebra.core;

/**
 * Geometry of 2-D max or average pooling over NHWC activations (floor mode, as PyTorch's default).
 *
 * @param max              max pooling if true, average pooling otherwise
 * @param countIncludePad  average pooling divides by the full window, padding included (PyTorch's default)
 */
public record PoolSpec(boolean max, int kernelH, int kernelW, int strideH, int strideW, int padTop, int padBottom,
                       int padLeft, int padRight, boolean countIncludePad) {

    public PoolSpec {
        if (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1) {
            throw new IllegalArgumentException("kernel and stride must be ≥ 1: " + this);
        }
        if (padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0
                || padTop > kernelH / 2 || padLeft > kernelW / 2) {
            throw new IllegalArgumentException("padding must be between 0 and half the kernel: " + this);
        }
    }

    /** Max pooling with a square kernel, stride and symmetric padding. */
    public static PoolSpec max(int kernel, int stride, int padding) {
        return new PoolSpec(true, kernel, kernel, stride, stride, padding, padding, padding, padding, true);
    }

    /** Average pooling with a square kernel, stride and symmetric padding (padding counted in the divisor). */
    public static PoolSpec avg(int kernel, int stride, int padding) {
        return new PoolSpec(false, kernel, kernel, stride, stride, padding, padding, padding, padding, true);
    }

    public int outHeight(int h) {
        return (h + padTop + padBottom - kernelH) / strideH + 1;
    }

    public int outWidth(int w) {
        return (w + padLeft + padRight - kernelW) / strideW + 1;
    }
}
