package dev.vertebra.core.reference;

import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Shape;

/**
 * Index arithmetic of a grouped, strided, dilated, padded NHWC convolution with HWIO weights: visits every
 * (output, input, weight) triple that contributes, so forward and both backward passes share one loop nest.
 */
record ConvGeometry(int n, int h, int w, int cin, int kh, int kw, int cinPerGroup, int cout, int oh, int ow,
                    ConvSpec spec) {

    ConvGeometry(Shape x, Shape weight, ConvSpec spec) {
        this(x.dim(0), x.dim(1), x.dim(2), x.dim(3), weight.dim(0), weight.dim(1), weight.dim(2), weight.dim(3),
                spec.outHeight(x.dim(1), weight.dim(0)), spec.outWidth(x.dim(2), weight.dim(1)), spec);
    }

    @FunctionalInterface
    interface TapVisitor {
        /** y index [N, OH, OW, Cout], x index [N, H, W, Cin], weight index [KH, KW, Cin/g, Cout]. */
        void visit(int yIndex, int xIndex, int wIndex);
    }

    void forEachTap(TapVisitor visitor) {
        int coutPerGroup = cout / spec.groups();
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int co = 0; co < cout; co++) {
                        int group = co / coutPerGroup;
                        int yIndex = ((b * oh + oy) * ow + ox) * cout + co;
                        for (int ky = 0; ky < kh; ky++) {
                            int iy = oy * spec.strideH() - spec.padTop() + ky * spec.dilationH();
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int kx = 0; kx < kw; kx++) {
                                int ix = ox * spec.strideW() - spec.padLeft() + kx * spec.dilationW();
                                if (ix < 0 || ix >= w) {
                                    continue;
                                }
                                for (int ci = 0; ci < cinPerGroup; ci++) {
                                    int xIndex = ((b * h + iy) * w + ix) * cin + group * cinPerGroup + ci;
                                    int wIndex = ((ky * kw + kx) * cinPerGroup + ci) * cout + co;
                                    visitor.visit(yIndex, xIndex, wIndex);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
