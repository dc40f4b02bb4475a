package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** One output row of {@link DepthwiseConv2d#forward}: border pixels one by one, interior pixels four at a time. */
final class DepthwiseForward {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private DepthwiseForward() {
    }

    /**
     * Computes y[n, oy, :, :] for {@code row = n · OH + oy}.
     *
     * @param x    input: [N, H, W, C] from xOff
     * @param w    weight: [KH, KW, 1, C] from wOff
     * @param bias [C] from biasOff, or null
     * @param y    output: [N, OH, OW, C] from yOff
     */
    static void row(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, float[] bias, int biasOff,
                    float[] y, int yOff, boolean accumulate, int row) {
        int c = s.inChannels();
        int n = row / s.outHeight();
        int oy = row % s.outHeight();
        int yRow = yOff + row * s.outWidth() * c;
        int xImage = xOff + n * s.height() * s.width() * c;
        // Kernel rows that land inside the image for this output row.
        int rowOffset = oy * s.strideH() - s.padTop();
        int khLo = DepthwiseConv2d.firstInside(rowOffset, s.dilationH());
        int khHi = Math.min(s.kernelH(), DepthwiseConv2d.lastInside(rowOffset, s.dilationH(), s.height()) + 1);
        // Output columns whose whole window lies inside the image.
        int oxLo = DepthwiseConv2d.firstInside(-s.padLeft(), s.strideW());
        int oxHi = Math.min(s.outWidth(), DepthwiseConv2d.lastInside(
                (s.kernelW() - 1) * s.dilationW() - s.padLeft(), s.strideW(), s.width()) + 1);
        boolean slide = s.kernelH() == 3 && s.kernelW() == 3 && s.strideW() == 1 && s.dilationW() == 1
                && khLo == 0 && khHi == 3 && oxHi - oxLo >= 2 && c >= LANES;
        if (slide) {
            threeByThreeInterior(s, x, xImage, w, wOff, bias, biasOff, y, yRow, accumulate, rowOffset, oxLo, oxHi);
            for (int ox = 0; ox < oxLo; ox++) {
                onePixel(s, x, xImage, w, wOff, bias, biasOff, y, yRow, accumulate, rowOffset, khLo, khHi, ox);
            }
            for (int ox = oxHi; ox < s.outWidth(); ox++) {
                onePixel(s, x, xImage, w, wOff, bias, biasOff, y, yRow, accumulate, rowOffset, khLo, khHi, ox);
            }
            return;
        }
        int ox = 0;
        while (ox < s.outWidth()) {
            if (ox >= oxLo && ox + 4 <= oxHi) {
                fourPixels(s, x, xImage, w, wOff, bias, biasOff, y, yRow, accumulate, rowOffset, khLo, khHi, ox);
                ox += 4;
            } else {
                onePixel(s, x, xImage, w, wOff, bias, biasOff, y, yRow, accumulate, rowOffset, khLo, khHi, ox);
                ox++;
            }
        }
    }

    /**
     * 3×3, stride 1 along the row, all taps inside the image: the window's columns slide along the row in
     * registers, so each output vector loads three new input vectors (one per kernel row) instead of nine, and the
     * nine weights stay in registers. Three partial sums (one per kernel row) shorten the FMA dependency chain.
     * Channels past the last whole vector are left to the scalar tail.
     */
    private static void threeByThreeInterior(Conv2dShape s, float[] x, int xImage, float[] w, int wOff,
                                             float[] bias, int biasOff, float[] y, int yRow, boolean accumulate,
                                             int rowOffset, int oxLo, int oxHi) {
        int c = s.inChannels();
        int rowStride = s.dilationH() * s.width() * c;
        int r0 = xImage + rowOffset * s.width() * c;
        int r1 = r0 + rowStride;
        int r2 = r1 + rowStride;
        int bound = SPECIES.loopBound(c);
        for (int c0 = 0; c0 < bound; c0 += LANES) {
            int wAt = wOff + c0;
            FloatVector w00 = FloatVector.fromArray(SPECIES, w, wAt);
            FloatVector w01 = FloatVector.fromArray(SPECIES, w, wAt + c);
            FloatVector w02 = FloatVector.fromArray(SPECIES, w, wAt + 2 * c);
            FloatVector w10 = FloatVector.fromArray(SPECIES, w, wAt + 3 * c);
            FloatVector w11 = FloatVector.fromArray(SPECIES, w, wAt + 4 * c);
            FloatVector w12 = FloatVector.fromArray(SPECIES, w, wAt + 5 * c);
            FloatVector w20 = FloatVector.fromArray(SPECIES, w, wAt + 6 * c);
            FloatVector w21 = FloatVector.fromArray(SPECIES, w, wAt + 7 * c);
            FloatVector w22 = FloatVector.fromArray(SPECIES, w, wAt + 8 * c);
            // Input columns ix = ox - padLeft (left) and ix + 1 (middle) of the first window, per kernel row.
            int first = (oxLo - s.padLeft()) * c + c0;
            FloatVector left0 = FloatVector.fromArray(SPECIES, x, r0 + first);
            FloatVector left1 = FloatVector.fromArray(SPECIES, x, r1 + first);
            FloatVector left2 = FloatVector.fromArray(SPECIES, x, r2 + first);
            FloatVector mid0 = FloatVector.fromArray(SPECIES, x, r0 + first + c);
            FloatVector mid1 = FloatVector.fromArray(SPECIES, x, r1 + first + c);
            FloatVector mid2 = FloatVector.fromArray(SPECIES, x, r2 + first + c);
            for (int ox = oxLo; ox < oxHi; ox++) {
                int right = (ox - s.padLeft() + 2) * c + c0;
                FloatVector right0 = FloatVector.fromArray(SPECIES, x, r0 + right);
                FloatVector right1 = FloatVector.fromArray(SPECIES, x, r1 + right);
                FloatVector right2 = FloatVector.fromArray(SPECIES, x, r2 + right);
                int out = yRow + ox * c;
                FloatVector sum0 = left0.fma(w00, initial(bias, biasOff, y, out, accumulate, c0));
                FloatVector sum1 = left1.mul(w10);
                FloatVector sum2 = left2.mul(w20);
                sum0 = mid0.fma(w01, sum0);
                sum1 = mid1.fma(w11, sum1);
                sum2 = mid2.fma(w21, sum2);
                sum0 = right0.fma(w02, sum0);
                sum1 = right1.fma(w12, sum1);
                sum2 = right2.fma(w22, sum2);
                sum0.add(sum1).add(sum2).intoArray(y, out + c0);
                left0 = mid0;
                left1 = mid1;
                left2 = mid2;
                mid0 = right0;
                mid1 = right1;
                mid2 = right2;
            }
        }
        if (bound < c) {
            for (int ox = oxLo; ox < oxHi; ox++) {
                scalarTail(s, x, xImage, w, wOff, bias, biasOff, y, yRow, accumulate, rowOffset, 0, 3, ox, bound);
            }
        }
    }

    private static void onePixel(Conv2dShape s, float[] x, int xImage, float[] w, int wOff, float[] bias,
                                 int biasOff, float[] y, int yRow, boolean accumulate,
                                 int rowOffset, int khLo, int khHi, int ox) {
        int c = s.inChannels();
        int colOffset = ox * s.strideW() - s.padLeft();
        int kwLo = DepthwiseConv2d.firstInside(colOffset, s.dilationW());
        int kwHi = Math.min(s.kernelW(), DepthwiseConv2d.lastInside(colOffset, s.dilationW(), s.width()) + 1);
        int out = yRow + ox * c;
        int bound = SPECIES.loopBound(c);
        for (int c0 = 0; c0 < bound; c0 += LANES) {
            FloatVector acc = initial(bias, biasOff, y, out, accumulate, c0);
            for (int kh = khLo; kh < khHi; kh++) {
                int xRow = xImage + (rowOffset + kh * s.dilationH()) * s.width() * c;
                int wRow = wOff + kh * s.kernelW() * c;
                for (int kw = kwLo; kw < kwHi; kw++) {
                    int ix = colOffset + kw * s.dilationW();
                    acc = FloatVector.fromArray(SPECIES, x, xRow + ix * c + c0)
                            .fma(FloatVector.fromArray(SPECIES, w, wRow + kw * c + c0), acc);
                }
            }
            acc.intoArray(y, out + c0);
        }
        for (int ch = bound; ch < c; ch++) {
            float acc = (bias == null ? 0f : bias[biasOff + ch]) + (accumulate ? y[out + ch] : 0f);
            for (int kh = khLo; kh < khHi; kh++) {
                int xRow = xImage + (rowOffset + kh * s.dilationH()) * s.width() * c;
                for (int kw = kwLo; kw < kwHi; kw++) {
                    int ix = colOffset + kw * s.dilationW();
                    acc += x[xRow + ix * c + ch] * w[wOff + (kh * s.kernelW() + kw) * c + ch];
                }
            }
            y[out + ch] = acc;
        }
    }

    /** Four neighbouring interior pixels: every tap is inside the image, and each weight load feeds four FMAs. */
    private static void fourPixels(Conv2dShape s, float[] x, int xImage, float[] w, int wOff, float[] bias,
                                   int biasOff, float[] y, int yRow, boolean accumulate,
                                   int rowOffset, int khLo, int khHi, int ox) {
        int c = s.inChannels();
        int step = s.strideW() * c;
        int out = yRow + ox * c;
        int colOffset = ox * s.strideW() - s.padLeft();
        int bound = SPECIES.loopBound(c);
        for (int c0 = 0; c0 < bound; c0 += LANES) {
            FloatVector acc0 = initial(bias, biasOff, y, out, accumulate, c0);
            FloatVector acc1 = initial(bias, biasOff, y, out + c, accumulate, c0);
            FloatVector acc2 = initial(bias, biasOff, y, out + 2 * c, accumulate, c0);
            FloatVector acc3 = initial(bias, biasOff, y, out + 3 * c, accumulate, c0);
            for (int kh = khLo; kh < khHi; kh++) {
                int xRow = xImage + (rowOffset + kh * s.dilationH()) * s.width() * c + c0;
                int wRow = wOff + kh * s.kernelW() * c + c0;
                for (int kw = 0; kw < s.kernelW(); kw++) {
                    FloatVector k = FloatVector.fromArray(SPECIES, w, wRow + kw * c);
                    int at = xRow + (colOffset + kw * s.dilationW()) * c;
                    acc0 = FloatVector.fromArray(SPECIES, x, at).fma(k, acc0);
                    acc1 = FloatVector.fromArray(SPECIES, x, at + step).fma(k, acc1);
                    acc2 = FloatVector.fromArray(SPECIES, x, at + 2 * step).fma(k, acc2);
                    acc3 = FloatVector.fromArray(SPECIES, x, at + 3 * step).fma(k, acc3);
                }
            }
            acc0.intoArray(y, out + c0);
            acc1.intoArray(y, out + c + c0);
            acc2.intoArray(y, out + 2 * c + c0);
            acc3.intoArray(y, out + 3 * c + c0);
        }
        if (bound < c) {
            for (int p = 0; p < 4; p++) {
                scalarTail(s, x, xImage, w, wOff, bias, biasOff, y, yRow, accumulate, rowOffset, khLo, khHi,
                        ox + p, bound);
            }
        }
    }

    private static void scalarTail(Conv2dShape s, float[] x, int xImage, float[] w, int wOff, float[] bias,
                                   int biasOff, float[] y, int yRow, boolean accumulate,
                                   int rowOffset, int khLo, int khHi, int ox, int from) {
        int c = s.inChannels();
        int out = yRow + ox * c;
        int colOffset = ox * s.strideW() - s.padLeft();
        for (int ch = from; ch < c; ch++) {
            float acc = (bias == null ? 0f : bias[biasOff + ch]) + (accumulate ? y[out + ch] : 0f);
            for (int kh = khLo; kh < khHi; kh++) {
                int xRow = xImage + (rowOffset + kh * s.dilationH()) * s.width() * c;
                for (int kw = 0; kw < s.kernelW(); kw++) {
                    int ix = colOffset + kw * s.dilationW();
                    acc += x[xRow + ix * c + ch] * w[wOff + (kh * s.kernelW() + kw) * c + ch];
                }
            }
            y[out + ch] = acc;
        }
    }

    private static FloatVector initial(float[] bias, int biasOff, float[] y, int at, boolean accumulate, int c0) {
        FloatVector acc = bias == null ? FloatVector.zero(SPECIES) : FloatVector.fromArray(SPECIES, bias, biasOff + c0);
        return accumulate ? acc.add(FloatVector.fromArray(SPECIES, y, at + c0)) : acc;
    }
}
