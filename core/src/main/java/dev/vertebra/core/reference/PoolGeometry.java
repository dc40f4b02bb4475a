package dev.vertebra.core.reference;

import dev.vertebra.core.PoolSpec;
import dev.vertebra.core.Shape;

/** Index arithmetic of NHWC pooling: visits each output with the input indices inside its window. */
record PoolGeometry(int n, int h, int w, int c, int oh, int ow, PoolSpec spec) {

    PoolGeometry(Shape x, PoolSpec spec) {
        this(x.dim(0), x.dim(1), x.dim(2), x.dim(3), spec.outHeight(x.dim(1)), spec.outWidth(x.dim(2)), spec);
    }

    Shape outputShape() {
        return Shape.of(n, oh, ow, c);
    }

    int outputSize() {
        return n * oh * ow * c;
    }

    /** The average's divisor for a window with {@code count} real (unpadded) inputs. */
    double divisor(int count) {
        return spec.countIncludePad() ? spec.kernelH() * spec.kernelW() : count;
    }

    @FunctionalInterface
    interface WindowVisitor {
        /** {@code taps[0..count)} are the input indices of output {@code yIndex}. */
        void visit(int yIndex, int[] taps, int count);
    }

    void forEachWindow(WindowVisitor visitor) {
        int[] taps = new int[spec.kernelH() * spec.kernelW()];
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int ch = 0; ch < c; ch++) {
                        int count = 0;
                        for (int ky = 0; ky < spec.kernelH(); ky++) {
                            int iy = oy * spec.strideH() - spec.padTop() + ky;
                            for (int kx = 0; kx < spec.kernelW(); kx++) {
                                int ix = ox * spec.strideW() - spec.padLeft() + kx;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                    taps[count++] = ((b * h + iy) * w + ix) * c + ch;
                                }
                            }
                        }
                        visitor.visit(((b * oh + oy) * ow + ox) * c + ch, taps, count);
                    }
                }
            }
        }
    }
}
