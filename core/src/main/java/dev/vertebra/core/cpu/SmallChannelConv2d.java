package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import static jdk.incubator.vector.VectorOperators.FMA;

/**
 * Direct convolution for a few input channels (an image stem: 1–4 channels in, a multiple of the vector length
 * out), without unfolding: each output vector is a sum over the window's taps and input channels of a broadcast
 * input value times a row of the weight. im2col + GEMM would write and read back a [pixels, KH·KW·Cin] matrix as
 * large as the input times the kernel area, for a product of depth 27; here the input stays in cache and six (or
 * four) neighbouring pixels share every weight load.
 *
 * <p>Sums run over (kh, kw, ci) in that order with one FMA each, the order of the unfolded GEMM, starting from
 * zero; taps outside the image are skipped (the GEMM adds their zero products).
 */
final class SmallChannelConv2d {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    /** Input channels up to which this kernel is used. */
    static final int MAX_IN_CHANNELS = 4;

    private SmallChannelConv2d() {
    }

    /** True for the shapes this kernel handles: ungrouped, few input channels, whole output vectors. */
    static boolean handles(Conv2dShape s) {
        return s.groups() == 1 && s.inChannels() <= MAX_IN_CHANNELS && s.outChannels() % LANES == 0;
    }

    /**
     * y = conv(x, w), each output row finished by {@code epilogue} (or none) while in cache.
     *
     * @param x input: [N, H, W, Cin] from xOff
     * @param w weight: [KH, KW, Cin, Cout] from wOff
     * @param y output: [N, OH, OW, Cout] from 0, overwritten
     */
    static void forward(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, float[] y, ChannelEpilogue epilogue) {
        int rowFloats = s.outWidth() * s.outChannels();
        CpuThreads.parallelFor(0, s.batch() * s.outHeight(), Math.max(1, (1 << 14) / rowFloats), (from, to) -> {
            for (int row = from; row < to; row++) {
                finishedRow(s, x, xOff, w, wOff, epilogue, row, y, row * rowFloats);
            }
        });
    }

    /**
     * Output rows [r0, r1) of image n, {@code [r1 − r0, OW, Cout]}, into {@code out} from {@code at}: the bits
     * {@link #forward} writes there, for a caller that consumes the rows while they are in cache.
     */
    static void rows(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, ChannelEpilogue epilogue, int n,
                     int r0, int r1, float[] out, int at) {
        int rowFloats = s.outWidth() * s.outChannels();
        for (int oy = r0; oy < r1; oy++) {
            finishedRow(s, x, xOff, w, wOff, epilogue, n * s.outHeight() + oy, out, at + (oy - r0) * rowFloats);
        }
    }

    /** Output row {@code row = n · OH + oy} into y from yRow, finished by {@code epilogue} (or none). */
    private static void finishedRow(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, ChannelEpilogue epilogue,
                                    int row, float[] y, int yRow) {
        row(s, x, xOff, w, wOff, y, yRow, row);
        if (epilogue != null) {
            epilogue.apply(y, yRow, s.outWidth(), s.outChannels(), s.outChannels(), 0);
        }
    }

    private static void row(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, float[] y, int yRow, int row) {
        int n = row / s.outHeight();
        int oy = row % s.outHeight();
        int khLo = s.kernelRowsFrom(oy);
        int khHi = s.kernelRowsTo(oy);
        int oxLo = s.interiorColumnsFrom();
        int oxHi = s.interiorColumnsTo();
        int xTop = xOff + (n * s.height() + s.windowTop(oy)) * s.width() * s.inChannels();
        int ox = 0;
        boolean sixWide = s.dilationW() == 1 && s.outChannels() % (2 * LANES) == 0;
        while (ox < s.outWidth()) {
            if (sixWide && ox >= oxLo && ox + 6 <= oxHi) {
                for (int co = 0; co < s.outChannels(); co += 2 * LANES) {
                    sixPixelsTwoVectors(s, x, xTop, w, wOff, y, yRow, khLo, khHi, ox, co);
                }
                ox += 6;
            } else if (sixWide && ox >= oxLo && ox < oxHi && oxHi - 6 >= oxLo) {
                // Fewer than six interior pixels left: the last six interior pixels again. The ones already made
                // get the same bits once more (same kernel, same order of taps), and the rest are not left to
                // one-pixel sums of 27 dependent FMAs (a twentieth of B0's stem chain's time).
                for (int co = 0; co < s.outChannels(); co += 2 * LANES) {
                    sixPixelsTwoVectors(s, x, xTop, w, wOff, y, yRow, khLo, khHi, oxHi - 6, co);
                }
                ox = oxHi;
            } else if (ox >= oxLo && ox + 4 <= oxHi) {
                fourPixels(s, x, xTop, w, wOff, y, yRow, khLo, khHi, ox);
                ox += 4;
            } else {
                onePixel(s, x, xTop, w, wOff, y, yRow, khLo, khHi, ox);
                ox++;
            }
        }
    }

    private static void onePixel(Conv2dShape s, float[] x, int xTop, float[] w, int wOff, float[] y, int yRow,
                                 int khLo, int khHi, int ox) {
        int cin = s.inChannels();
        int cout = s.outChannels();
        int colOffset = ox * s.strideW() - s.padLeft();
        int kwLo = s.kernelColumnsFrom(ox);
        int kwHi = s.kernelColumnsTo(ox);
        for (int co = 0; co < cout; co += LANES) {
            FloatVector acc = FloatVector.zero(SPECIES);
            for (int kh = khLo; kh < khHi; kh++) {
                int xRow = xTop + kh * s.dilationH() * s.width() * cin;
                for (int kw = kwLo; kw < kwHi; kw++) {
                    int xAt = xRow + (colOffset + kw * s.dilationW()) * cin;
                    int wAt = wOff + (kh * s.kernelW() + kw) * cin * cout + co;
                    for (int ci = 0; ci < cin; ci++) {
                        acc = FloatVector.fromArray(SPECIES, w, wAt + ci * cout).lanewise(FMA, x[xAt + ci], acc);
                    }
                }
            }
            acc.intoArray(y, yRow + ox * cout + co);
        }
    }

    /** Four neighbouring pixels whose windows lie inside the image along the row: one weight load, four FMAs. */
    private static void fourPixels(Conv2dShape s, float[] x, int xTop, float[] w, int wOff, float[] y, int yRow,
                                   int khLo, int khHi, int ox) {
        int cin = s.inChannels();
        int cout = s.outChannels();
        int step = s.strideW() * cin;
        int colOffset = ox * s.strideW() - s.padLeft();
        int co = 0;
        for (; co + 2 * LANES <= cout; co += 2 * LANES) {
            fourPixelsTwoVectors(s, x, xTop, w, wOff, y, yRow, khLo, khHi, ox, co);
        }
        for (; co < cout; co += LANES) {
            FloatVector a0 = FloatVector.zero(SPECIES);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int kh = khLo; kh < khHi; kh++) {
                int xRow = xTop + kh * s.dilationH() * s.width() * cin;
                for (int kw = 0; kw < s.kernelW(); kw++) {
                    int xAt = xRow + (colOffset + kw * s.dilationW()) * cin;
                    int wAt = wOff + (kh * s.kernelW() + kw) * cin * cout + co;
                    for (int ci = 0; ci < cin; ci++) {
                        FloatVector k = FloatVector.fromArray(SPECIES, w, wAt + ci * cout);
                        a0 = k.lanewise(FMA, x[xAt + ci], a0);
                        a1 = k.lanewise(FMA, x[xAt + step + ci], a1);
                        a2 = k.lanewise(FMA, x[xAt + 2 * step + ci], a2);
                        a3 = k.lanewise(FMA, x[xAt + 3 * step + ci], a3);
                    }
                }
            }
            int out = yRow + ox * cout + co;
            a0.intoArray(y, out);
            a1.intoArray(y, out + cout);
            a2.intoArray(y, out + 2 * cout);
            a3.intoArray(y, out + 3 * cout);
        }
    }

    /**
     * Six neighbouring interior pixels, two output vectors: twelve independent sums (as the GEMM's 6 × 32 tile),
     * enough to keep both FMA pipes busy through the FMA latency, which eight sums of 27-long chains were not.
     * Needs dilationW 1: along a kernel row the window's (kw, ci) values are one contiguous run of x, as their
     * weight rows are of w. Every sum takes its taps in the order of the other kernels.
     */
    private static void sixPixelsTwoVectors(Conv2dShape s, float[] x, int xTop, float[] w, int wOff, float[] y,
                                            int yRow, int khLo, int khHi, int ox, int co) {
        int cin = s.inChannels();
        int cout = s.outChannels();
        int step = s.strideW() * cin;
        int run = s.kernelW() * cin;
        int colOffset = ox * s.strideW() - s.padLeft();
        FloatVector a0 = FloatVector.zero(SPECIES);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        FloatVector b4 = a0;
        FloatVector b5 = a0;
        for (int kh = khLo; kh < khHi; kh++) {
            int xAt = xTop + kh * s.dilationH() * s.width() * cin + colOffset * cin;
            int wAt = wOff + kh * run * cout + co;
            for (int t = 0; t < run; t++, wAt += cout) {
                FloatVector k = FloatVector.fromArray(SPECIES, w, wAt);
                FloatVector l = FloatVector.fromArray(SPECIES, w, wAt + LANES);
                FloatVector xv = FloatVector.broadcast(SPECIES, x[xAt + t]);
                a0 = k.fma(xv, a0);
                b0 = l.fma(xv, b0);
                xv = FloatVector.broadcast(SPECIES, x[xAt + step + t]);
                a1 = k.fma(xv, a1);
                b1 = l.fma(xv, b1);
                xv = FloatVector.broadcast(SPECIES, x[xAt + 2 * step + t]);
                a2 = k.fma(xv, a2);
                b2 = l.fma(xv, b2);
                xv = FloatVector.broadcast(SPECIES, x[xAt + 3 * step + t]);
                a3 = k.fma(xv, a3);
                b3 = l.fma(xv, b3);
                xv = FloatVector.broadcast(SPECIES, x[xAt + 4 * step + t]);
                a4 = k.fma(xv, a4);
                b4 = l.fma(xv, b4);
                xv = FloatVector.broadcast(SPECIES, x[xAt + 5 * step + t]);
                a5 = k.fma(xv, a5);
                b5 = l.fma(xv, b5);
            }
        }
        int out = yRow + ox * cout + co;
        a0.intoArray(y, out);
        b0.intoArray(y, out + LANES);
        a1.intoArray(y, out + cout);
        b1.intoArray(y, out + cout + LANES);
        a2.intoArray(y, out + 2 * cout);
        b2.intoArray(y, out + 2 * cout + LANES);
        a3.intoArray(y, out + 3 * cout);
        b3.intoArray(y, out + 3 * cout + LANES);
        a4.intoArray(y, out + 4 * cout);
        b4.intoArray(y, out + 4 * cout + LANES);
        a5.intoArray(y, out + 5 * cout);
        b5.intoArray(y, out + 5 * cout + LANES);
    }

    /**
     * {@link #fourPixels} for two output vectors at once: eight independent sums, so the FMA units are not left
     * waiting on four dependency chains of 27 (3×3×3) FMAs each, and each input value broadcast feeds two FMAs.
     * Every sum takes its taps in the same order as before.
     */
    private static void fourPixelsTwoVectors(Conv2dShape s, float[] x, int xTop, float[] w, int wOff, float[] y,
                                             int yRow, int khLo, int khHi, int ox, int co) {
        int cin = s.inChannels();
        int cout = s.outChannels();
        int step = s.strideW() * cin;
        int colOffset = ox * s.strideW() - s.padLeft();
        FloatVector a0 = FloatVector.zero(SPECIES);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        // Along a kernel row the window's (kw, ci) values are contiguous in x when dilationW is 1, and so are their
        // weight rows: one loop over the run instead of the kw and ci loops (the same order of taps).
        int runLength = s.dilationW() == 1 ? s.kernelW() * cin : cin;
        int runs = s.dilationW() == 1 ? 1 : s.kernelW();
        for (int kh = khLo; kh < khHi; kh++) {
            int xRow = xTop + kh * s.dilationH() * s.width() * cin;
            for (int kw = 0; kw < runs; kw++) {
                int xAt = xRow + (colOffset + kw * s.dilationW()) * cin;
                int wAt = wOff + (kh * s.kernelW() + kw) * cin * cout + co;
                for (int t = 0; t < runLength; t++) {
                    FloatVector k = FloatVector.fromArray(SPECIES, w, wAt + t * cout);
                    FloatVector l = FloatVector.fromArray(SPECIES, w, wAt + t * cout + LANES);
                    FloatVector x0 = FloatVector.broadcast(SPECIES, x[xAt + t]);
                    FloatVector x1 = FloatVector.broadcast(SPECIES, x[xAt + step + t]);
                    FloatVector x2 = FloatVector.broadcast(SPECIES, x[xAt + 2 * step + t]);
                    FloatVector x3 = FloatVector.broadcast(SPECIES, x[xAt + 3 * step + t]);
                    a0 = k.fma(x0, a0);
                    b0 = l.fma(x0, b0);
                    a1 = k.fma(x1, a1);
                    b1 = l.fma(x1, b1);
                    a2 = k.fma(x2, a2);
                    b2 = l.fma(x2, b2);
                    a3 = k.fma(x3, a3);
                    b3 = l.fma(x3, b3);
                }
            }
        }
        int out = yRow + ox * cout + co;
        a0.intoArray(y, out);
        b0.intoArray(y, out + LANES);
        a1.intoArray(y, out + cout);
        b1.intoArray(y, out + cout + LANES);
        a2.intoArray(y, out + 2 * cout);
        b2.intoArray(y, out + 2 * cout + LANES);
        a3.intoArray(y, out + 3 * cout);
        b3.intoArray(y, out + 3 * cout + LANES);
    }
}
