package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One output row of {@link DepthwiseConv2d#forward}, one channel vector at a time: for each vector of channels
 * (16 with AVX-512) the row's pixels are computed left to right, eight or four interior pixels at once (each weight
 * vector loaded feeds as many FMAs), border pixels one by one; kernels five taps wide at stride 1 take every pixel
 * in blocks of sixteen (in rows no wider than eight, eight pixels of two channel vectors) that load each input
 * column once, borders included (zeros outside the image).
 *
 * <p>Why channel vectors outermost: the input rows under the window hold a row's worth of all channels (5 rows of
 * 28 pixels × 240 channels is 134 KB for a 5×5 kernel), more than L1; one channel vector's slice of them is 64
 * bytes a pixel (9 KB), so while the pixels of one vector are swept every input line is loaded once into L1 and
 * reused by the neighbouring windows. Sweeping all channels per pixel block instead refetched the window from L2
 * for every vector: 2–3× slower at EfficientNet's shapes (bench/NOTES.md).
 */
final class DepthwiseForward {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private DepthwiseForward() {
    }

    /** The geometry of one output row, worked out once: what every pixel kernel needs besides its column. */
    private record RowPlan(Conv2dShape s, float[] x, int xTop, float[] w, int wOff, float[] bias, int biasOff,
                           float[] y, int yRow, boolean accumulate, int rowOffset, int khLo, int khHi) {
    }

    /**
     * Computes output row {@code row = n · OH + oy}, y[n, oy, :, :].
     *
     * @param x    input: [N, H, W, C] from xOff
     * @param w    weight: [KH, KW, 1, C] from wOff
     * @param bias [C] from biasOff, or null
     * @param y    the row's output: [OW, C] from yRow
     */
    static void row(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, float[] bias, int biasOff,
                    float[] y, int yRow, boolean accumulate, int row) {
        int c = s.inChannels();
        int n = row / s.outHeight();
        int oy = row % s.outHeight();
        // Kernel rows that land inside the image for this output row; columns whose whole window is inside.
        int rowOffset = s.windowTop(oy);
        int khLo = s.kernelRowsFrom(oy);
        int khHi = s.kernelRowsTo(oy);
        int oxLo = s.interiorColumnsFrom();
        int oxHi = s.interiorColumnsTo();
        // xTop: input row rowOffset (the window's kernel row 0, possibly outside the image) of image n.
        RowPlan p = new RowPlan(s, x, xOff + (n * s.height() + rowOffset) * s.width() * c, w, wOff, bias, biasOff,
                y, yRow, accumulate, rowOffset, khLo, khHi);
        boolean slide = s.kernelH() == 3 && s.kernelW() == 3 && s.strideW() == 1 && s.dilationW() == 1
                && khLo == 0 && khHi == 3 && oxHi - oxLo >= 2 && c >= LANES;
        if (!slide && s.kernelW() == 5 && s.strideW() == 1 && s.dilationW() == 1 && c >= LANES) {
            fiveWideRow(p);
            return;
        }
        int interiorEnd; // interior pixels [oxLo, interiorEnd) go through a block kernel, the others one by one
        if (slide) {
            threeByThreeInterior(p, oxLo, oxHi);
            interiorEnd = oxHi;
        } else {
            interiorEnd = oxLo + Math.max(0, oxHi - oxLo) / 4 * 4;
            // One to three interior pixels left over: the last four interior pixels again, unless accumulating.
            // The ones already made get the same bits once more (the same taps in the same order), and the rest
            // are not left to one-pixel sums, a dependent chain of FMAs per channel vector (at 112² × 96, stride 2,
            // three of each row's 56 pixels).
            boolean lastFour = !accumulate && interiorEnd < oxHi && interiorEnd - oxLo >= 4;
            int bound = SPECIES.loopBound(c);
            for (int c0 = 0; c0 < bound; c0 += LANES) {
                int ox = oxLo;
                for (; ox + 8 <= interiorEnd; ox += 8) {
                    eightPixels(p, ox, c0);
                }
                if (ox < interiorEnd) {
                    fourPixels(p, ox, c0);
                }
                if (lastFour) {
                    fourPixels(p, oxHi - 4, c0);
                }
            }
            if (lastFour) {
                interiorEnd = oxHi;
            }
            for (int ox = oxLo; bound < c && ox < interiorEnd; ox++) {
                scalarTail(p, ox, bound);
            }
        }
        for (int ox = 0; ox < s.outWidth(); ox++) {
            if (ox < oxLo || ox >= interiorEnd) {
                onePixel(p, ox);
            }
        }
    }

    /**
     * 3×3, stride 1 along the row, all taps inside the image: the window's columns slide along the row in
     * registers, so each output vector loads three new input vectors (one per kernel row) instead of nine, and the
     * nine weights stay in registers. Three partial sums (one per kernel row) shorten the FMA dependency chain.
     * Channels past the last whole vector are left to the scalar tail.
     */
    private static void threeByThreeInterior(RowPlan p, int oxLo, int oxHi) {
        Conv2dShape s = p.s();
        float[] x = p.x();
        float[] w = p.w();
        float[] y = p.y();
        int c = s.inChannels();
        int rowStride = s.dilationH() * s.width() * c;
        int r0 = p.xTop();
        int r1 = r0 + rowStride;
        int r2 = r1 + rowStride;
        int bound = SPECIES.loopBound(c);
        for (int c0 = 0; c0 < bound; c0 += LANES) {
            int wAt = p.wOff() + c0;
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
                int out = p.yRow() + ox * c;
                FloatVector sum0 = left0.fma(w00, initial(p, out, c0));
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
                scalarTail(p, ox, bound);
            }
        }
    }

    /** Every channel of one pixel, any part of its window inside the image. */
    private static void onePixel(RowPlan p, int ox) {
        Conv2dShape s = p.s();
        int c = s.inChannels();
        int bound = SPECIES.loopBound(c);
        for (int c0 = 0; c0 < bound; c0 += LANES) {
            onePixel(p, ox, c0);
        }
        scalarTail(p, ox, bound);
    }

    /** Channels [c0, c0 + LANES) of one pixel, any part of its window inside the image. */
    private static void onePixel(RowPlan p, int ox, int c0) {
        Conv2dShape s = p.s();
        int c = s.inChannels();
        int colOffset = ox * s.strideW() - s.padLeft();
        int kwLo = s.kernelColumnsFrom(ox);
        int kwHi = s.kernelColumnsTo(ox);
        int out = p.yRow() + ox * c;
        FloatVector acc = initial(p, out, c0);
        for (int kh = p.khLo(); kh < p.khHi(); kh++) {
            int xRow = p.xTop() + kh * s.dilationH() * s.width() * c + c0;
            int wRow = p.wOff() + kh * s.kernelW() * c + c0;
            for (int kw = kwLo; kw < kwHi; kw++) {
                acc = FloatVector.fromArray(SPECIES, p.x(), xRow + (colOffset + kw * s.dilationW()) * c)
                        .fma(FloatVector.fromArray(SPECIES, p.w(), wRow + kw * c), acc);
            }
        }
        acc.intoArray(p.y(), out + c0);
    }

    /** Channels [c0, c0 + LANES) of four neighbouring interior pixels: each weight vector loaded feeds four FMAs. */
    private static void fourPixels(RowPlan p, int ox, int c0) {
        Conv2dShape s = p.s();
        int c = s.inChannels();
        int step = s.strideW() * c;
        int tap = s.dilationW() * c;
        int out = p.yRow() + ox * c;
        FloatVector a0 = initial(p, out, c0);
        FloatVector a1 = initial(p, out + c, c0);
        FloatVector a2 = initial(p, out + 2 * c, c0);
        FloatVector a3 = initial(p, out + 3 * c, c0);
        for (int kh = p.khLo(); kh < p.khHi(); kh++) {
            int at = p.xTop() + kh * s.dilationH() * s.width() * c + (ox * s.strideW() - s.padLeft()) * c + c0;
            int wAt = p.wOff() + kh * s.kernelW() * c + c0;
            for (int kw = 0; kw < s.kernelW(); kw++, at += tap, wAt += c) {
                FloatVector k = FloatVector.fromArray(SPECIES, p.w(), wAt);
                a0 = FloatVector.fromArray(SPECIES, p.x(), at).fma(k, a0);
                a1 = FloatVector.fromArray(SPECIES, p.x(), at + step).fma(k, a1);
                a2 = FloatVector.fromArray(SPECIES, p.x(), at + 2 * step).fma(k, a2);
                a3 = FloatVector.fromArray(SPECIES, p.x(), at + 3 * step).fma(k, a3);
            }
        }
        a0.intoArray(p.y(), out + c0);
        a1.intoArray(p.y(), out + c + c0);
        a2.intoArray(p.y(), out + 2 * c + c0);
        a3.intoArray(p.y(), out + 3 * c + c0);
    }

    /** As {@link #fourPixels} for eight pixels: nine loads per eight FMAs, eight independent sums. */
    private static void eightPixels(RowPlan p, int ox, int c0) {
        Conv2dShape s = p.s();
        int c = s.inChannels();
        int step = s.strideW() * c;
        int tap = s.dilationW() * c;
        int out = p.yRow() + ox * c;
        FloatVector a0 = initial(p, out, c0);
        FloatVector a1 = initial(p, out + c, c0);
        FloatVector a2 = initial(p, out + 2 * c, c0);
        FloatVector a3 = initial(p, out + 3 * c, c0);
        FloatVector a4 = initial(p, out + 4 * c, c0);
        FloatVector a5 = initial(p, out + 5 * c, c0);
        FloatVector a6 = initial(p, out + 6 * c, c0);
        FloatVector a7 = initial(p, out + 7 * c, c0);
        for (int kh = p.khLo(); kh < p.khHi(); kh++) {
            int at = p.xTop() + kh * s.dilationH() * s.width() * c + (ox * s.strideW() - s.padLeft()) * c + c0;
            int wAt = p.wOff() + kh * s.kernelW() * c + c0;
            for (int kw = 0; kw < s.kernelW(); kw++, at += tap, wAt += c) {
                FloatVector k = FloatVector.fromArray(SPECIES, p.w(), wAt);
                a0 = FloatVector.fromArray(SPECIES, p.x(), at).fma(k, a0);
                a1 = FloatVector.fromArray(SPECIES, p.x(), at + step).fma(k, a1);
                a2 = FloatVector.fromArray(SPECIES, p.x(), at + 2 * step).fma(k, a2);
                a3 = FloatVector.fromArray(SPECIES, p.x(), at + 3 * step).fma(k, a3);
                a4 = FloatVector.fromArray(SPECIES, p.x(), at + 4 * step).fma(k, a4);
                a5 = FloatVector.fromArray(SPECIES, p.x(), at + 5 * step).fma(k, a5);
                a6 = FloatVector.fromArray(SPECIES, p.x(), at + 6 * step).fma(k, a6);
                a7 = FloatVector.fromArray(SPECIES, p.x(), at + 7 * step).fma(k, a7);
            }
        }
        a0.intoArray(p.y(), out + c0);
        a1.intoArray(p.y(), out + c + c0);
        a2.intoArray(p.y(), out + 2 * c + c0);
        a3.intoArray(p.y(), out + 3 * c + c0);
        a4.intoArray(p.y(), out + 4 * c + c0);
        a5.intoArray(p.y(), out + 5 * c + c0);
        a6.intoArray(p.y(), out + 6 * c + c0);
        a7.intoArray(p.y(), out + 7 * c + c0);
    }

    /**
     * A row of a kernel five taps wide at stride 1, every pixel in blocks of sixteen ({@link #fiveWideSixteen}; in
     * rows of at most eight pixels, blocks of eight over two channel vectors, {@link #fiveWidePair}, where two are
     * left), borders included: where a block's window leaves the image the missing input columns are zero vectors,
     * so their taps add 0·w, which leaves a sum unchanged (a −0 may become +0: only a −0 bias or accumulated output
     * with nothing else added gives one). Each sum takes its taps in the order of {@link #onePixel} and
     * {@link #eightPixels}, so the results are theirs. Why: at 14² and 7² most pixels are borders (at 7² with
     * padding 2, all of them), which went one by one at a load per FMA.
     */
    private static void fiveWideRow(RowPlan p) {
        Conv2dShape s = p.s();
        int c = s.inChannels();
        int bound = SPECIES.loopBound(c);
        for (int c0 = 0; c0 < bound; ) {
            boolean pair = s.outWidth() <= 8 && c0 + 2 * LANES <= bound;
            for (int ox = 0; ox < s.outWidth(); ox += pair ? 8 : 16) {
                if (pair) {
                    fiveWidePair(p, ox, c0, Math.min(8, s.outWidth() - ox));
                } else {
                    fiveWideSixteen(p, ox, c0, Math.min(16, s.outWidth() - ox));
                }
            }
            c0 += pair ? 2 * LANES : LANES;
        }
        for (int ox = 0; bound < c && ox < s.outWidth(); ox++) {
            scalarTail(p, ox, bound);
        }
    }

    /**
     * Channels [c0, c0 + LANES) of the {@code valid} (1 … 16) pixels from column ox, the input columns taken in
     * order: per kernel row each of the twenty columns under the sixteen windows is loaded once (zeros outside the
     * image) and feeds the up to five sums whose windows hold it, then is dropped, so sixteen sums, five weights and
     * one column fit the registers; sums past {@code valid} are computed and dropped. Each sum takes its taps in
     * kernel order. Why: the eight-pixel blocks this replaced kept eight sums, eight FMA chains, too few to hide
     * the FMA latency; with sixteen the 28² × 240 and 14² rows ran 1.1–1.3× faster on one core, arrays in cache
     * (bench/NOTES.md, twenty-second round). The column test is written out at each load: a helper call for it, one
     * of twenty in a method this size, went past C2's inlining budget, and its boxed vectors cost 8×.
     */
    private static void fiveWideSixteen(RowPlan p, int ox, int c0, int valid) {
        Conv2dShape s = p.s();
        float[] xs = p.x();
        float[] w = p.w();
        int c = s.inChannels();
        int width = s.width();
        int out = p.yRow() + ox * c;
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector a0 = initial(p, out, c0);
        FloatVector a1 = valid > 1 ? initial(p, out + c, c0) : zero;
        FloatVector a2 = valid > 2 ? initial(p, out + 2 * c, c0) : zero;
        FloatVector a3 = valid > 3 ? initial(p, out + 3 * c, c0) : zero;
        FloatVector a4 = valid > 4 ? initial(p, out + 4 * c, c0) : zero;
        FloatVector a5 = valid > 5 ? initial(p, out + 5 * c, c0) : zero;
        FloatVector a6 = valid > 6 ? initial(p, out + 6 * c, c0) : zero;
        FloatVector a7 = valid > 7 ? initial(p, out + 7 * c, c0) : zero;
        FloatVector a8 = valid > 8 ? initial(p, out + 8 * c, c0) : zero;
        FloatVector a9 = valid > 9 ? initial(p, out + 9 * c, c0) : zero;
        FloatVector a10 = valid > 10 ? initial(p, out + 10 * c, c0) : zero;
        FloatVector a11 = valid > 11 ? initial(p, out + 11 * c, c0) : zero;
        FloatVector a12 = valid > 12 ? initial(p, out + 12 * c, c0) : zero;
        FloatVector a13 = valid > 13 ? initial(p, out + 13 * c, c0) : zero;
        FloatVector a14 = valid > 14 ? initial(p, out + 14 * c, c0) : zero;
        FloatVector a15 = valid > 15 ? initial(p, out + 15 * c, c0) : zero;
        int ix = ox - s.padLeft(); // input column under tap 0 of pixel ox
        // Column ix + j feeds tap kw of pixel j − kw.
        for (int kh = p.khLo(); kh < p.khHi(); kh++) {
            int at = p.xTop() + kh * s.dilationH() * width * c + ix * c + c0; // column ix of kernel row kh
            int wAt = p.wOff() + kh * 5 * c + c0;
            FloatVector k0 = FloatVector.fromArray(SPECIES, w, wAt);
            FloatVector k1 = FloatVector.fromArray(SPECIES, w, wAt + c);
            FloatVector k2 = FloatVector.fromArray(SPECIES, w, wAt + 2 * c);
            FloatVector k3 = FloatVector.fromArray(SPECIES, w, wAt + 3 * c);
            FloatVector k4 = FloatVector.fromArray(SPECIES, w, wAt + 4 * c);
            FloatVector x;
            x = ix >= 0 && ix < width ? FloatVector.fromArray(SPECIES, xs, at) : zero;
            a0 = x.fma(k0, a0);
            x = ix + 1 >= 0 && ix + 1 < width ? FloatVector.fromArray(SPECIES, xs, at + c) : zero;
            a1 = x.fma(k0, a1);
            a0 = x.fma(k1, a0);
            x = ix + 2 >= 0 && ix + 2 < width ? FloatVector.fromArray(SPECIES, xs, at + 2 * c) : zero;
            a2 = x.fma(k0, a2);
            a1 = x.fma(k1, a1);
            a0 = x.fma(k2, a0);
            x = ix + 3 >= 0 && ix + 3 < width ? FloatVector.fromArray(SPECIES, xs, at + 3 * c) : zero;
            a3 = x.fma(k0, a3);
            a2 = x.fma(k1, a2);
            a1 = x.fma(k2, a1);
            a0 = x.fma(k3, a0);
            x = ix + 4 >= 0 && ix + 4 < width ? FloatVector.fromArray(SPECIES, xs, at + 4 * c) : zero;
            a4 = x.fma(k0, a4);
            a3 = x.fma(k1, a3);
            a2 = x.fma(k2, a2);
            a1 = x.fma(k3, a1);
            a0 = x.fma(k4, a0);
            x = ix + 5 >= 0 && ix + 5 < width ? FloatVector.fromArray(SPECIES, xs, at + 5 * c) : zero;
            a5 = x.fma(k0, a5);
            a4 = x.fma(k1, a4);
            a3 = x.fma(k2, a3);
            a2 = x.fma(k3, a2);
            a1 = x.fma(k4, a1);
            x = ix + 6 >= 0 && ix + 6 < width ? FloatVector.fromArray(SPECIES, xs, at + 6 * c) : zero;
            a6 = x.fma(k0, a6);
            a5 = x.fma(k1, a5);
            a4 = x.fma(k2, a4);
            a3 = x.fma(k3, a3);
            a2 = x.fma(k4, a2);
            x = ix + 7 >= 0 && ix + 7 < width ? FloatVector.fromArray(SPECIES, xs, at + 7 * c) : zero;
            a7 = x.fma(k0, a7);
            a6 = x.fma(k1, a6);
            a5 = x.fma(k2, a5);
            a4 = x.fma(k3, a4);
            a3 = x.fma(k4, a3);
            x = ix + 8 >= 0 && ix + 8 < width ? FloatVector.fromArray(SPECIES, xs, at + 8 * c) : zero;
            a8 = x.fma(k0, a8);
            a7 = x.fma(k1, a7);
            a6 = x.fma(k2, a6);
            a5 = x.fma(k3, a5);
            a4 = x.fma(k4, a4);
            x = ix + 9 >= 0 && ix + 9 < width ? FloatVector.fromArray(SPECIES, xs, at + 9 * c) : zero;
            a9 = x.fma(k0, a9);
            a8 = x.fma(k1, a8);
            a7 = x.fma(k2, a7);
            a6 = x.fma(k3, a6);
            a5 = x.fma(k4, a5);
            x = ix + 10 >= 0 && ix + 10 < width ? FloatVector.fromArray(SPECIES, xs, at + 10 * c) : zero;
            a10 = x.fma(k0, a10);
            a9 = x.fma(k1, a9);
            a8 = x.fma(k2, a8);
            a7 = x.fma(k3, a7);
            a6 = x.fma(k4, a6);
            x = ix + 11 >= 0 && ix + 11 < width ? FloatVector.fromArray(SPECIES, xs, at + 11 * c) : zero;
            a11 = x.fma(k0, a11);
            a10 = x.fma(k1, a10);
            a9 = x.fma(k2, a9);
            a8 = x.fma(k3, a8);
            a7 = x.fma(k4, a7);
            x = ix + 12 >= 0 && ix + 12 < width ? FloatVector.fromArray(SPECIES, xs, at + 12 * c) : zero;
            a12 = x.fma(k0, a12);
            a11 = x.fma(k1, a11);
            a10 = x.fma(k2, a10);
            a9 = x.fma(k3, a9);
            a8 = x.fma(k4, a8);
            x = ix + 13 >= 0 && ix + 13 < width ? FloatVector.fromArray(SPECIES, xs, at + 13 * c) : zero;
            a13 = x.fma(k0, a13);
            a12 = x.fma(k1, a12);
            a11 = x.fma(k2, a11);
            a10 = x.fma(k3, a10);
            a9 = x.fma(k4, a9);
            x = ix + 14 >= 0 && ix + 14 < width ? FloatVector.fromArray(SPECIES, xs, at + 14 * c) : zero;
            a14 = x.fma(k0, a14);
            a13 = x.fma(k1, a13);
            a12 = x.fma(k2, a12);
            a11 = x.fma(k3, a11);
            a10 = x.fma(k4, a10);
            x = ix + 15 >= 0 && ix + 15 < width ? FloatVector.fromArray(SPECIES, xs, at + 15 * c) : zero;
            a15 = x.fma(k0, a15);
            a14 = x.fma(k1, a14);
            a13 = x.fma(k2, a13);
            a12 = x.fma(k3, a12);
            a11 = x.fma(k4, a11);
            x = ix + 16 >= 0 && ix + 16 < width ? FloatVector.fromArray(SPECIES, xs, at + 16 * c) : zero;
            a15 = x.fma(k1, a15);
            a14 = x.fma(k2, a14);
            a13 = x.fma(k3, a13);
            a12 = x.fma(k4, a12);
            x = ix + 17 >= 0 && ix + 17 < width ? FloatVector.fromArray(SPECIES, xs, at + 17 * c) : zero;
            a15 = x.fma(k2, a15);
            a14 = x.fma(k3, a14);
            a13 = x.fma(k4, a13);
            x = ix + 18 >= 0 && ix + 18 < width ? FloatVector.fromArray(SPECIES, xs, at + 18 * c) : zero;
            a15 = x.fma(k3, a15);
            a14 = x.fma(k4, a14);
            x = ix + 19 >= 0 && ix + 19 < width ? FloatVector.fromArray(SPECIES, xs, at + 19 * c) : zero;
            a15 = x.fma(k4, a15);
        }
        float[] y = p.y();
        a0.intoArray(y, out + c0);
        if (valid > 1) {
            a1.intoArray(y, out + c + c0);
        }
        if (valid > 2) {
            a2.intoArray(y, out + 2 * c + c0);
        }
        if (valid > 3) {
            a3.intoArray(y, out + 3 * c + c0);
        }
        if (valid > 4) {
            a4.intoArray(y, out + 4 * c + c0);
        }
        if (valid > 5) {
            a5.intoArray(y, out + 5 * c + c0);
        }
        if (valid > 6) {
            a6.intoArray(y, out + 6 * c + c0);
        }
        if (valid > 7) {
            a7.intoArray(y, out + 7 * c + c0);
        }
        if (valid > 8) {
            a8.intoArray(y, out + 8 * c + c0);
        }
        if (valid > 9) {
            a9.intoArray(y, out + 9 * c + c0);
        }
        if (valid > 10) {
            a10.intoArray(y, out + 10 * c + c0);
        }
        if (valid > 11) {
            a11.intoArray(y, out + 11 * c + c0);
        }
        if (valid > 12) {
            a12.intoArray(y, out + 12 * c + c0);
        }
        if (valid > 13) {
            a13.intoArray(y, out + 13 * c + c0);
        }
        if (valid > 14) {
            a14.intoArray(y, out + 14 * c + c0);
        }
        if (valid > 15) {
            a15.intoArray(y, out + 15 * c + c0);
        }
    }

    /**
     * As {@link #fiveWideSixteen} for eight pixels of two channel vectors, [c0, c0 + 2·LANES): sixteen sums again,
     * ten weights and one column of each vector in registers, for rows of at most eight pixels (B0's 7² layers at
     * 224², 8² and 4² at 128²), where sixteen pixels of one vector would compute more dropped sums than kept ones.
     */
    private static void fiveWidePair(RowPlan p, int ox, int c0, int valid) {
        Conv2dShape s = p.s();
        float[] xs = p.x();
        float[] w = p.w();
        int c = s.inChannels();
        int width = s.width();
        int out = p.yRow() + ox * c;
        FloatVector zero = FloatVector.zero(SPECIES);
        FloatVector a0 = initial(p, out, c0);
        FloatVector b0 = initial(p, out, c0 + LANES);
        FloatVector a1 = valid > 1 ? initial(p, out + c, c0) : zero;
        FloatVector b1 = valid > 1 ? initial(p, out + c, c0 + LANES) : zero;
        FloatVector a2 = valid > 2 ? initial(p, out + 2 * c, c0) : zero;
        FloatVector b2 = valid > 2 ? initial(p, out + 2 * c, c0 + LANES) : zero;
        FloatVector a3 = valid > 3 ? initial(p, out + 3 * c, c0) : zero;
        FloatVector b3 = valid > 3 ? initial(p, out + 3 * c, c0 + LANES) : zero;
        FloatVector a4 = valid > 4 ? initial(p, out + 4 * c, c0) : zero;
        FloatVector b4 = valid > 4 ? initial(p, out + 4 * c, c0 + LANES) : zero;
        FloatVector a5 = valid > 5 ? initial(p, out + 5 * c, c0) : zero;
        FloatVector b5 = valid > 5 ? initial(p, out + 5 * c, c0 + LANES) : zero;
        FloatVector a6 = valid > 6 ? initial(p, out + 6 * c, c0) : zero;
        FloatVector b6 = valid > 6 ? initial(p, out + 6 * c, c0 + LANES) : zero;
        FloatVector a7 = valid > 7 ? initial(p, out + 7 * c, c0) : zero;
        FloatVector b7 = valid > 7 ? initial(p, out + 7 * c, c0 + LANES) : zero;
        int ix = ox - s.padLeft(); // input column under tap 0 of pixel ox
        // Column ix + j feeds tap kw of pixel j − kw.
        for (int kh = p.khLo(); kh < p.khHi(); kh++) {
            int at = p.xTop() + kh * s.dilationH() * width * c + ix * c + c0; // column ix of kernel row kh
            int wAt = p.wOff() + kh * 5 * c + c0;
            FloatVector k0 = FloatVector.fromArray(SPECIES, w, wAt);
            FloatVector k1 = FloatVector.fromArray(SPECIES, w, wAt + c);
            FloatVector k2 = FloatVector.fromArray(SPECIES, w, wAt + 2 * c);
            FloatVector k3 = FloatVector.fromArray(SPECIES, w, wAt + 3 * c);
            FloatVector k4 = FloatVector.fromArray(SPECIES, w, wAt + 4 * c);
            FloatVector m0 = FloatVector.fromArray(SPECIES, w, wAt + LANES);
            FloatVector m1 = FloatVector.fromArray(SPECIES, w, wAt + c + LANES);
            FloatVector m2 = FloatVector.fromArray(SPECIES, w, wAt + 2 * c + LANES);
            FloatVector m3 = FloatVector.fromArray(SPECIES, w, wAt + 3 * c + LANES);
            FloatVector m4 = FloatVector.fromArray(SPECIES, w, wAt + 4 * c + LANES);
            FloatVector x;
            FloatVector z;
            boolean inside0 = ix >= 0 && ix < width;
            x = inside0 ? FloatVector.fromArray(SPECIES, xs, at) : zero;
            z = inside0 ? FloatVector.fromArray(SPECIES, xs, at + LANES) : zero;
            a0 = x.fma(k0, a0);
            b0 = z.fma(m0, b0);
            boolean inside1 = ix + 1 >= 0 && ix + 1 < width;
            x = inside1 ? FloatVector.fromArray(SPECIES, xs, at + c) : zero;
            z = inside1 ? FloatVector.fromArray(SPECIES, xs, at + c + LANES) : zero;
            a1 = x.fma(k0, a1);
            b1 = z.fma(m0, b1);
            a0 = x.fma(k1, a0);
            b0 = z.fma(m1, b0);
            boolean inside2 = ix + 2 >= 0 && ix + 2 < width;
            x = inside2 ? FloatVector.fromArray(SPECIES, xs, at + 2 * c) : zero;
            z = inside2 ? FloatVector.fromArray(SPECIES, xs, at + 2 * c + LANES) : zero;
            a2 = x.fma(k0, a2);
            b2 = z.fma(m0, b2);
            a1 = x.fma(k1, a1);
            b1 = z.fma(m1, b1);
            a0 = x.fma(k2, a0);
            b0 = z.fma(m2, b0);
            boolean inside3 = ix + 3 >= 0 && ix + 3 < width;
            x = inside3 ? FloatVector.fromArray(SPECIES, xs, at + 3 * c) : zero;
            z = inside3 ? FloatVector.fromArray(SPECIES, xs, at + 3 * c + LANES) : zero;
            a3 = x.fma(k0, a3);
            b3 = z.fma(m0, b3);
            a2 = x.fma(k1, a2);
            b2 = z.fma(m1, b2);
            a1 = x.fma(k2, a1);
            b1 = z.fma(m2, b1);
            a0 = x.fma(k3, a0);
            b0 = z.fma(m3, b0);
            boolean inside4 = ix + 4 >= 0 && ix + 4 < width;
            x = inside4 ? FloatVector.fromArray(SPECIES, xs, at + 4 * c) : zero;
            z = inside4 ? FloatVector.fromArray(SPECIES, xs, at + 4 * c + LANES) : zero;
            a4 = x.fma(k0, a4);
            b4 = z.fma(m0, b4);
            a3 = x.fma(k1, a3);
            b3 = z.fma(m1, b3);
            a2 = x.fma(k2, a2);
            b2 = z.fma(m2, b2);
            a1 = x.fma(k3, a1);
            b1 = z.fma(m3, b1);
            a0 = x.fma(k4, a0);
            b0 = z.fma(m4, b0);
            boolean inside5 = ix + 5 >= 0 && ix + 5 < width;
            x = inside5 ? FloatVector.fromArray(SPECIES, xs, at + 5 * c) : zero;
            z = inside5 ? FloatVector.fromArray(SPECIES, xs, at + 5 * c + LANES) : zero;
            a5 = x.fma(k0, a5);
            b5 = z.fma(m0, b5);
            a4 = x.fma(k1, a4);
            b4 = z.fma(m1, b4);
            a3 = x.fma(k2, a3);
            b3 = z.fma(m2, b3);
            a2 = x.fma(k3, a2);
            b2 = z.fma(m3, b2);
            a1 = x.fma(k4, a1);
            b1 = z.fma(m4, b1);
            boolean inside6 = ix + 6 >= 0 && ix + 6 < width;
            x = inside6 ? FloatVector.fromArray(SPECIES, xs, at + 6 * c) : zero;
            z = inside6 ? FloatVector.fromArray(SPECIES, xs, at + 6 * c + LANES) : zero;
            a6 = x.fma(k0, a6);
            b6 = z.fma(m0, b6);
            a5 = x.fma(k1, a5);
            b5 = z.fma(m1, b5);
            a4 = x.fma(k2, a4);
            b4 = z.fma(m2, b4);
            a3 = x.fma(k3, a3);
            b3 = z.fma(m3, b3);
            a2 = x.fma(k4, a2);
            b2 = z.fma(m4, b2);
            boolean inside7 = ix + 7 >= 0 && ix + 7 < width;
            x = inside7 ? FloatVector.fromArray(SPECIES, xs, at + 7 * c) : zero;
            z = inside7 ? FloatVector.fromArray(SPECIES, xs, at + 7 * c + LANES) : zero;
            a7 = x.fma(k0, a7);
            b7 = z.fma(m0, b7);
            a6 = x.fma(k1, a6);
            b6 = z.fma(m1, b6);
            a5 = x.fma(k2, a5);
            b5 = z.fma(m2, b5);
            a4 = x.fma(k3, a4);
            b4 = z.fma(m3, b4);
            a3 = x.fma(k4, a3);
            b3 = z.fma(m4, b3);
            boolean inside8 = ix + 8 >= 0 && ix + 8 < width;
            x = inside8 ? FloatVector.fromArray(SPECIES, xs, at + 8 * c) : zero;
            z = inside8 ? FloatVector.fromArray(SPECIES, xs, at + 8 * c + LANES) : zero;
            a7 = x.fma(k1, a7);
            b7 = z.fma(m1, b7);
            a6 = x.fma(k2, a6);
            b6 = z.fma(m2, b6);
            a5 = x.fma(k3, a5);
            b5 = z.fma(m3, b5);
            a4 = x.fma(k4, a4);
            b4 = z.fma(m4, b4);
            boolean inside9 = ix + 9 >= 0 && ix + 9 < width;
            x = inside9 ? FloatVector.fromArray(SPECIES, xs, at + 9 * c) : zero;
            z = inside9 ? FloatVector.fromArray(SPECIES, xs, at + 9 * c + LANES) : zero;
            a7 = x.fma(k2, a7);
            b7 = z.fma(m2, b7);
            a6 = x.fma(k3, a6);
            b6 = z.fma(m3, b6);
            a5 = x.fma(k4, a5);
            b5 = z.fma(m4, b5);
            boolean inside10 = ix + 10 >= 0 && ix + 10 < width;
            x = inside10 ? FloatVector.fromArray(SPECIES, xs, at + 10 * c) : zero;
            z = inside10 ? FloatVector.fromArray(SPECIES, xs, at + 10 * c + LANES) : zero;
            a7 = x.fma(k3, a7);
            b7 = z.fma(m3, b7);
            a6 = x.fma(k4, a6);
            b6 = z.fma(m4, b6);
            boolean inside11 = ix + 11 >= 0 && ix + 11 < width;
            x = inside11 ? FloatVector.fromArray(SPECIES, xs, at + 11 * c) : zero;
            z = inside11 ? FloatVector.fromArray(SPECIES, xs, at + 11 * c + LANES) : zero;
            a7 = x.fma(k4, a7);
            b7 = z.fma(m4, b7);
        }
        float[] y = p.y();
        a0.intoArray(y, out + c0);
        b0.intoArray(y, out + c0 + LANES);
        if (valid > 1) {
            a1.intoArray(y, out + c + c0);
            b1.intoArray(y, out + c + c0 + LANES);
        }
        if (valid > 2) {
            a2.intoArray(y, out + 2 * c + c0);
            b2.intoArray(y, out + 2 * c + c0 + LANES);
        }
        if (valid > 3) {
            a3.intoArray(y, out + 3 * c + c0);
            b3.intoArray(y, out + 3 * c + c0 + LANES);
        }
        if (valid > 4) {
            a4.intoArray(y, out + 4 * c + c0);
            b4.intoArray(y, out + 4 * c + c0 + LANES);
        }
        if (valid > 5) {
            a5.intoArray(y, out + 5 * c + c0);
            b5.intoArray(y, out + 5 * c + c0 + LANES);
        }
        if (valid > 6) {
            a6.intoArray(y, out + 6 * c + c0);
            b6.intoArray(y, out + 6 * c + c0 + LANES);
        }
        if (valid > 7) {
            a7.intoArray(y, out + 7 * c + c0);
            b7.intoArray(y, out + 7 * c + c0 + LANES);
        }
    }

    /** Channels past the last whole vector of one pixel, any part of its window inside the image. */
    private static void scalarTail(RowPlan p, int ox, int from) {
        Conv2dShape s = p.s();
        int c = s.inChannels();
        int colOffset = ox * s.strideW() - s.padLeft();
        int kwLo = s.kernelColumnsFrom(ox);
        int kwHi = s.kernelColumnsTo(ox);
        int out = p.yRow() + ox * c;
        for (int ch = from; ch < c; ch++) {
            float acc = (p.bias() == null ? 0f : p.bias()[p.biasOff() + ch]) + (p.accumulate() ? p.y()[out + ch] : 0f);
            for (int kh = p.khLo(); kh < p.khHi(); kh++) {
                int xRow = p.xTop() + kh * s.dilationH() * s.width() * c;
                for (int kw = kwLo; kw < kwHi; kw++) {
                    acc += p.x()[xRow + (colOffset + kw * s.dilationW()) * c + ch]
                            * p.w()[p.wOff() + (kh * s.kernelW() + kw) * c + ch];
                }
            }
            p.y()[out + ch] = acc;
        }
    }

    // The three helpers below each stay within C2's always-inline size (VectorHelperSizeTest): a call C2 does not
    // inline would box the vectors it returns.

    /** The bias, plus y's old value when accumulating, for channels [c0, c0 + LANES) at {@code at}. */
    private static FloatVector initial(RowPlan p, int at, int c0) {
        return p.accumulate() ? biasPlusOld(p, at, c0) : bias(p, c0);
    }

    /** The bias (zeros without one) for channels [c0, c0 + LANES). */
    private static FloatVector bias(RowPlan p, int c0) {
        return p.bias() == null ? FloatVector.zero(SPECIES)
                : FloatVector.fromArray(SPECIES, p.bias(), p.biasOff() + c0);
    }

    private static FloatVector biasPlusOld(RowPlan p, int at, int c0) {
        return bias(p, c0).add(FloatVector.fromArray(SPECIES, p.y(), at + c0));
    }
}
