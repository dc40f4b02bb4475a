package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One row's contribution to the depthwise weight gradient, sum[kh, kw, c] += Σ dy · x: an output row's
 * ({@link #accumulate}) or an input row's ({@link #accumulateInputRow}).
 */
final class DepthwiseWeightRows {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private DepthwiseWeightRows() {
    }

    /**
     * Adds output row {@code row = n · OH + oy} to the gradient.
     *
     * @param x   input: [N, H, W, C] from xOff
     * @param dy  output gradient: [N, OH, OW, C] from dyOff
     * @param sum gradient being summed: [KH, KW, C] from sumOff
     */
    static void accumulate(Conv2dShape s, float[] x, int xOff, float[] dy, int dyOff, int row, float[] sum,
                           int sumOff) {
        int oy = row % s.outHeight();
        int top = oy * s.strideH() - s.padTop();
        boolean allRowsInside = top >= 0 && top + s.dilationH() * (s.kernelH() - 1) < s.height();
        if (s.kernelH() == 3 && s.kernelW() == 3 && s.strideW() == 1 && s.dilationW() == 1 && allRowsInside
                && s.inChannels() >= LANES) {
            threeByThree(s, x, xOff, dy, dyOff, row, sum, sumOff);
        } else if (s.kernelW() == 5 && s.strideW() == 1 && s.dilationW() == 1 && s.inChannels() >= LANES) {
            fiveWide(s, x, xOff, dy, dyOff, row, sum, sumOff);
        } else {
            anyKernel(s, x, xOff, dy, dyOff, row, sum, sumOff, 0);
        }
    }

    /**
     * Adds what input row {@code row = n · H + iy} contributes to the gradient: for each kernel row kh that some
     * output row oy reads it with (oy · strideH − padTop + kh · dilationH = iy), sum[kh, kw, c] += Σ_ox dy[n, oy,
     * ox, c] · a[ox · strideW + kw · dilationW − padLeft, c]. Over all input rows, the gradient {@link #accumulate}
     * gives over all output rows, its terms grouped by input row instead (so not the same bits). The input row
     * comes on its own ({@code a}: [W, C] from aRow), so a caller can hand a row it has just computed.
     *
     * @param dy  output gradient: [N, OH, OW, C] from dyOff
     * @param sum gradient being summed: [KH, KW, C] from sumOff
     */
    static void accumulateInputRow(Conv2dShape s, float[] a, int aRow, float[] dy, int dyOff, int row, float[] sum,
                                   int sumOff) {
        int c = s.inChannels();
        int n = row / s.height();
        int iy = row % s.height();
        int rowFloats = s.outWidth() * c;
        int firstOutputRow = n * s.outHeight();
        if (s.kernelH() == 3 && s.kernelW() == 3 && s.strideH() == 1 && s.strideW() == 1 && s.dilationH() == 1
                && s.dilationW() == 1 && c >= LANES && iy + s.padTop() - 2 >= 0
                && iy + s.padTop() < s.outHeight()) {
            int oy0 = iy + s.padTop(); // the output row that reads this row with kernel row 0
            threeOutputRows(s, a, aRow, dy, dyOff + (firstOutputRow + oy0) * rowFloats, rowFloats, sum, sumOff);
            return;
        }
        boolean fiveWide = s.kernelW() == 5 && s.strideW() == 1 && s.dilationW() == 1 && c >= LANES;
        int bound = SPECIES.loopBound(c);
        for (int kh = 0; kh < s.kernelH(); kh++) {
            int span = iy + s.padTop() - kh * s.dilationH();
            if (span < 0 || span % s.strideH() != 0 || span / s.strideH() >= s.outHeight()) {
                continue;
            }
            int dyRow = dyOff + (firstOutputRow + span / s.strideH()) * rowFloats;
            int tapRow = sumOff + kh * s.kernelW() * c;
            if (fiveWide) {
                fiveTaps(s, a, aRow, dy, dyRow, sum, tapRow);
            }
            if (!fiveWide || bound < c) {
                kernelRowTaps(s, a, aRow, dy, dyRow, sum, tapRow, fiveWide ? bound : 0);
            }
        }
    }

    /**
     * {@link #accumulateInputRow} for 3×3, stride 1, with all three kernel rows reading the input row from an output
     * row: one sweep along the input row keeps the nine tap sums of a channel vector in registers and slides three
     * input vectors, so each input pixel costs one load of a and three of dy for nine FMAs. Output row oy0 − kh
     * reads it with kernel row kh; dy's row oy0 starts at dyRow0, the others {@code rowFloats} apart. Channels past
     * the last whole vector go to the general path.
     */
    private static void threeOutputRows(Conv2dShape s, float[] a, int aRow, float[] dy, int dyRow0, int rowFloats,
                                        float[] sum, int sumOff) {
        int c = s.inChannels();
        int width = s.width();
        int dyRow1 = dyRow0 - rowFloats;
        int dyRow2 = dyRow1 - rowFloats;
        int bound = SPECIES.loopBound(c);
        for (int c0 = 0; c0 < bound; c0 += LANES) {
            FloatVector s00 = FloatVector.zero(SPECIES), s01 = s00, s02 = s00;
            FloatVector s10 = s00, s11 = s00, s12 = s00;
            FloatVector s20 = s00, s21 = s00, s22 = s00;
            int ix = -s.padLeft(); // input column under the left tap of output column 0
            FloatVector left = column(a, aRow, ix, width, c, c0);
            FloatVector mid = column(a, aRow, ix + 1, width, c, c0);
            for (int ox = 0; ox < s.outWidth(); ox++, ix++) {
                FloatVector right = column(a, aRow, ix + 2, width, c, c0);
                int at = ox * c + c0;
                FloatVector g0 = FloatVector.fromArray(SPECIES, dy, dyRow0 + at);
                FloatVector g1 = FloatVector.fromArray(SPECIES, dy, dyRow1 + at);
                FloatVector g2 = FloatVector.fromArray(SPECIES, dy, dyRow2 + at);
                s00 = left.fma(g0, s00);
                s01 = mid.fma(g0, s01);
                s02 = right.fma(g0, s02);
                s10 = left.fma(g1, s10);
                s11 = mid.fma(g1, s11);
                s12 = right.fma(g1, s12);
                s20 = left.fma(g2, s20);
                s21 = mid.fma(g2, s21);
                s22 = right.fma(g2, s22);
                left = mid;
                mid = right;
            }
            int at = sumOff + c0;
            addInto(sum, at, s00);
            addInto(sum, at + c, s01);
            addInto(sum, at + 2 * c, s02);
            addInto(sum, at + 3 * c, s10);
            addInto(sum, at + 4 * c, s11);
            addInto(sum, at + 5 * c, s12);
            addInto(sum, at + 6 * c, s20);
            addInto(sum, at + 7 * c, s21);
            addInto(sum, at + 8 * c, s22);
        }
        for (int kh = 0; kh < 3 && bound < c; kh++) {
            kernelRowTaps(s, a, aRow, dy, dyRow0 - kh * rowFloats, sum, sumOff + kh * 3 * c, bound);
        }
    }

    /**
     * 3×3, stride 1 along the row, all three kernel rows inside the image: one sweep along the row keeps the nine
     * tap sums in registers and slides a 3×3 window of input vectors, so each output pixel costs one dy load and
     * three x loads for nine FMAs. Columns in the padding read as zeros. Channels past the last whole vector go to
     * the general path.
     */
    private static void threeByThree(Conv2dShape s, float[] x, int xOff, float[] dy, int dyOff, int row,
                                     float[] sum, int sumOff) {
        int c = s.inChannels();
        int width = s.width();
        int n = row / s.outHeight();
        int oy = row % s.outHeight();
        int r0 = xOff + (n * s.height() + oy * s.strideH() - s.padTop()) * width * c;
        int r1 = r0 + s.dilationH() * width * c;
        int r2 = r1 + s.dilationH() * width * c;
        int dyRow = dyOff + row * s.outWidth() * c;
        int bound = SPECIES.loopBound(c);
        for (int c0 = 0; c0 < bound; c0 += LANES) {
            FloatVector s00 = FloatVector.zero(SPECIES), s01 = s00, s02 = s00;
            FloatVector s10 = s00, s11 = s00, s12 = s00;
            FloatVector s20 = s00, s21 = s00, s22 = s00;
            int ix = -s.padLeft(); // input column under the left tap of output column 0
            FloatVector left0 = column(x, r0, ix, width, c, c0);
            FloatVector left1 = column(x, r1, ix, width, c, c0);
            FloatVector left2 = column(x, r2, ix, width, c, c0);
            FloatVector mid0 = column(x, r0, ix + 1, width, c, c0);
            FloatVector mid1 = column(x, r1, ix + 1, width, c, c0);
            FloatVector mid2 = column(x, r2, ix + 1, width, c, c0);
            for (int ox = 0; ox < s.outWidth(); ox++, ix++) {
                FloatVector right0 = column(x, r0, ix + 2, width, c, c0);
                FloatVector right1 = column(x, r1, ix + 2, width, c, c0);
                FloatVector right2 = column(x, r2, ix + 2, width, c, c0);
                FloatVector g = FloatVector.fromArray(SPECIES, dy, dyRow + ox * c + c0);
                s00 = left0.fma(g, s00);
                s01 = mid0.fma(g, s01);
                s02 = right0.fma(g, s02);
                s10 = left1.fma(g, s10);
                s11 = mid1.fma(g, s11);
                s12 = right1.fma(g, s12);
                s20 = left2.fma(g, s20);
                s21 = mid2.fma(g, s21);
                s22 = right2.fma(g, s22);
                left0 = mid0;
                left1 = mid1;
                left2 = mid2;
                mid0 = right0;
                mid1 = right1;
                mid2 = right2;
            }
            int at = sumOff + c0;
            addInto(sum, at, s00);
            addInto(sum, at + c, s01);
            addInto(sum, at + 2 * c, s02);
            addInto(sum, at + 3 * c, s10);
            addInto(sum, at + 4 * c, s11);
            addInto(sum, at + 5 * c, s12);
            addInto(sum, at + 6 * c, s20);
            addInto(sum, at + 7 * c, s21);
            addInto(sum, at + 8 * c, s22);
        }
        if (bound < c) {
            anyKernel(s, x, xOff, dy, dyOff, row, sum, sumOff, bound);
        }
    }

    /**
     * One tap's sums for two adjacent channel vectors over {@code count} output columns: the single-vector loop of
     * {@link #anyKernel} for each of them, interleaved (eight independent chains instead of four, and both halves
     * of each load's neighbourhood used at once). Each vector's four sums take the same columns in the same order
     * and combine the same way, so the result is the single-vector loop's to the bit.
     */
    private static void twoVectors(float[] dy, int g, float[] x, int xi, int count, int dyStep, int xStep,
                                   float[] sum, int at) {
        FloatVector a0 = FloatVector.zero(SPECIES);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        int i = 0;
        for (; i + 3 < count; i += 4, g += 4 * dyStep, xi += 4 * xStep) {
            a0 = FloatVector.fromArray(SPECIES, dy, g).fma(FloatVector.fromArray(SPECIES, x, xi), a0);
            b0 = FloatVector.fromArray(SPECIES, dy, g + LANES).fma(FloatVector.fromArray(SPECIES, x, xi + LANES), b0);
            a1 = FloatVector.fromArray(SPECIES, dy, g + dyStep)
                    .fma(FloatVector.fromArray(SPECIES, x, xi + xStep), a1);
            b1 = FloatVector.fromArray(SPECIES, dy, g + dyStep + LANES)
                    .fma(FloatVector.fromArray(SPECIES, x, xi + xStep + LANES), b1);
            a2 = FloatVector.fromArray(SPECIES, dy, g + 2 * dyStep)
                    .fma(FloatVector.fromArray(SPECIES, x, xi + 2 * xStep), a2);
            b2 = FloatVector.fromArray(SPECIES, dy, g + 2 * dyStep + LANES)
                    .fma(FloatVector.fromArray(SPECIES, x, xi + 2 * xStep + LANES), b2);
            a3 = FloatVector.fromArray(SPECIES, dy, g + 3 * dyStep)
                    .fma(FloatVector.fromArray(SPECIES, x, xi + 3 * xStep), a3);
            b3 = FloatVector.fromArray(SPECIES, dy, g + 3 * dyStep + LANES)
                    .fma(FloatVector.fromArray(SPECIES, x, xi + 3 * xStep + LANES), b3);
        }
        for (; i < count; i++, g += dyStep, xi += xStep) {
            a0 = FloatVector.fromArray(SPECIES, dy, g).fma(FloatVector.fromArray(SPECIES, x, xi), a0);
            b0 = FloatVector.fromArray(SPECIES, dy, g + LANES).fma(FloatVector.fromArray(SPECIES, x, xi + LANES), b0);
        }
        a0.add(a1).add(a2.add(a3)).add(FloatVector.fromArray(SPECIES, sum, at)).intoArray(sum, at);
        b0.add(b1).add(b2.add(b3)).add(FloatVector.fromArray(SPECIES, sum, at + LANES)).intoArray(sum, at + LANES);
    }

    /**
     * Five taps wide, stride 1 along the row (EfficientNet's 5×5 layers): for each kernel row inside the image, one
     * sweep along the row keeps the five tap sums of a channel vector in registers and slides five input vectors, so
     * each output pixel costs one dy load and one x load for five FMAs (tap by tap it was two loads per FMA).
     * Columns in the padding read as zeros. Channels past the last whole vector go to the general path.
     */
    private static void fiveWide(Conv2dShape s, float[] x, int xOff, float[] dy, int dyOff, int row, float[] sum,
                                 int sumOff) {
        int c = s.inChannels();
        int n = row / s.outHeight();
        int oy = row % s.outHeight();
        int dyRow = dyOff + row * s.outWidth() * c;
        for (int kh = 0; kh < s.kernelH(); kh++) {
            int iy = oy * s.strideH() - s.padTop() + kh * s.dilationH();
            if (iy < 0 || iy >= s.height()) {
                continue;
            }
            fiveTaps(s, x, xOff + (n * s.height() + iy) * s.width() * c, dy, dyRow, sum, sumOff + kh * 5 * c);
        }
        if (SPECIES.loopBound(c) < c) {
            anyKernel(s, x, xOff, dy, dyOff, row, sum, sumOff, SPECIES.loopBound(c));
        }
    }

    /**
     * One kernel row of {@link #fiveWide}: sum[kw, c] += Σ_ox dy[ox, c]·x[ox + kw − padLeft, c] for the five taps
     * kw and the channels of whole vectors, dy's output row [OW, C] from dyRow, x's input row [W, C] from xRow,
     * sum's kernel row [5, C] from tapRow.
     */
    private static void fiveTaps(Conv2dShape s, float[] x, int xRow, float[] dy, int dyRow, float[] sum,
                                 int tapRow) {
        int c = s.inChannels();
        int width = s.width();
        int bound = SPECIES.loopBound(c);
        for (int c0 = 0; c0 < bound; c0 += LANES) {
            FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, s2 = s0, s3 = s0, s4 = s0;
            int ix = -s.padLeft(); // input column under tap 0 of output column 0
            FloatVector x0 = column(x, xRow, ix, width, c, c0);
            FloatVector x1 = column(x, xRow, ix + 1, width, c, c0);
            FloatVector x2 = column(x, xRow, ix + 2, width, c, c0);
            FloatVector x3 = column(x, xRow, ix + 3, width, c, c0);
            int ox = 0;
            // Output columns below `inside` read their last tap, input column ix + 4, inside the row: no test
            // there (the cold 28² × 240 weight gradient 1.1-1.2× faster, bench/NOTES.md).
            int inside = s.padLeft() > 4 ? 0 : Math.max(0, Math.min(s.outWidth(), width + s.padLeft() - 4));
            for (; ox < inside; ox++, ix++) {
                FloatVector x4 = FloatVector.fromArray(SPECIES, x, xRow + (ix + 4) * c + c0);
                FloatVector g = FloatVector.fromArray(SPECIES, dy, dyRow + ox * c + c0);
                s0 = x0.fma(g, s0);
                s1 = x1.fma(g, s1);
                s2 = x2.fma(g, s2);
                s3 = x3.fma(g, s3);
                s4 = x4.fma(g, s4);
                x0 = x1;
                x1 = x2;
                x2 = x3;
                x3 = x4;
            }
            for (; ox < s.outWidth(); ox++, ix++) {
                FloatVector x4 = column(x, xRow, ix + 4, width, c, c0);
                FloatVector g = FloatVector.fromArray(SPECIES, dy, dyRow + ox * c + c0);
                s0 = x0.fma(g, s0);
                s1 = x1.fma(g, s1);
                s2 = x2.fma(g, s2);
                s3 = x3.fma(g, s3);
                s4 = x4.fma(g, s4);
                x0 = x1;
                x1 = x2;
                x2 = x3;
                x3 = x4;
            }
            addInto(sum, tapRow + c0, s0);
            addInto(sum, tapRow + c + c0, s1);
            addInto(sum, tapRow + 2 * c + c0, s2);
            addInto(sum, tapRow + 3 * c + c0, s3);
            addInto(sum, tapRow + 4 * c + c0, s4);
        }
    }

    /** The input vector at column ix of an input row, or zeros in the padding. */
    private static FloatVector column(float[] x, int rowStart, int ix, int width, int c, int c0) {
        return ix >= 0 && ix < width ? FloatVector.fromArray(SPECIES, x, rowStart + ix * c + c0)
                : FloatVector.zero(SPECIES);
    }

    private static void addInto(float[] sum, int at, FloatVector v) {
        v.add(FloatVector.fromArray(SPECIES, sum, at)).intoArray(sum, at);
    }

    /**
     * Any kernel and stride: tap by tap, a pass along the row per tap, for channels from {@code firstChannel} (a
     * multiple of the vector length) on.
     */
    private static void anyKernel(Conv2dShape s, float[] x, int xOff, float[] dy, int dyOff, int row, float[] sum,
                                  int sumOff, int firstChannel) {
        int c = s.inChannels();
        int n = row / s.outHeight();
        int oy = row % s.outHeight();
        int dyRow = dyOff + row * s.outWidth() * c;
        for (int kh = 0; kh < s.kernelH(); kh++) {
            int iy = oy * s.strideH() - s.padTop() + kh * s.dilationH();
            if (iy < 0 || iy >= s.height()) {
                continue;
            }
            kernelRowTaps(s, x, xOff + (n * s.height() + iy) * s.width() * c, dy, dyRow, sum,
                    sumOff + kh * s.kernelW() * c, firstChannel);
        }
    }

    /**
     * One kernel row of {@link #anyKernel}, tap by tap: sum[kw, c] += Σ_ox dy[ox, c]·x[ox·strideW + kw·dilationW −
     * padLeft, c] for channels from {@code firstChannel}, dy's output row [OW, C] from dyRow, x's input row [W, C]
     * from xRow, sum's kernel row [KW, C] from tapRow.
     */
    private static void kernelRowTaps(Conv2dShape s, float[] x, int xRow, float[] dy, int dyRow, float[] sum,
                                      int tapRow, int firstChannel) {
        int c = s.inChannels();
        int bound = SPECIES.loopBound(c);
        for (int kw = 0; kw < s.kernelW(); kw++) {
            int offset = kw * s.dilationW() - s.padLeft();
            int oxLo = DepthwiseConv2d.firstInside(offset, s.strideW());
            int oxHi = Math.min(s.outWidth(), DepthwiseConv2d.lastInside(offset, s.strideW(), s.width()) + 1);
            int tap = tapRow + kw * c;
            int dyStep = c;
            int xStep = s.strideW() * c;
            int c0 = firstChannel;
            for (; c0 + LANES < bound; c0 += 2 * LANES) {
                twoVectors(dy, dyRow + oxLo * c + c0, x, xRow + (oxLo * s.strideW() + offset) * c + c0,
                        oxHi - oxLo, dyStep, xStep, sum, tap + c0);
            }
            for (; c0 < bound; c0 += LANES) {
                // Four independent sums: the FMA latency, not the loads, limited two.
                FloatVector s0 = FloatVector.zero(SPECIES);
                FloatVector s1 = s0;
                FloatVector s2 = s0;
                FloatVector s3 = s0;
                int g = dyRow + oxLo * c + c0;
                int xi = xRow + (oxLo * s.strideW() + offset) * c + c0;
                int ox = oxLo;
                for (; ox + 3 < oxHi; ox += 4, g += 4 * dyStep, xi += 4 * xStep) {
                    s0 = FloatVector.fromArray(SPECIES, dy, g).fma(FloatVector.fromArray(SPECIES, x, xi), s0);
                    s1 = FloatVector.fromArray(SPECIES, dy, g + dyStep)
                            .fma(FloatVector.fromArray(SPECIES, x, xi + xStep), s1);
                    s2 = FloatVector.fromArray(SPECIES, dy, g + 2 * dyStep)
                            .fma(FloatVector.fromArray(SPECIES, x, xi + 2 * xStep), s2);
                    s3 = FloatVector.fromArray(SPECIES, dy, g + 3 * dyStep)
                            .fma(FloatVector.fromArray(SPECIES, x, xi + 3 * xStep), s3);
                }
                for (; ox < oxHi; ox++, g += dyStep, xi += xStep) {
                    s0 = FloatVector.fromArray(SPECIES, dy, g).fma(FloatVector.fromArray(SPECIES, x, xi), s0);
                }
                s0.add(s1).add(s2.add(s3)).add(FloatVector.fromArray(SPECIES, sum, tap + c0))
                        .intoArray(sum, tap + c0);
            }
            for (int ch = Math.max(bound, firstChannel); ch < c; ch++) {
                float acc = 0f;
                for (int ox = oxLo; ox < oxHi; ox++) {
                    acc += dy[dyRow + ox * c + ch] * x[xRow + (ox * s.strideW() + offset) * c + ch];
                }
                sum[tap + ch] += acc;
            }
        }
    }
}
