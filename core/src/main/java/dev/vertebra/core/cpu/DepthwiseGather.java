package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One input row of the depthwise backward-data pass for any stride: each input pixel gathers dy · w over the
 * taps whose output position is whole and inside the output. The valid taps are worked out once per row and, for
 * the columns, once per call, outside the channel loop, so the vector loop does only loads and FMAs. Rows of a
 * kernel three wide at stride 2 with padding 1 (B0's 3×3 stride-2 layers) take {@link #threeWideStrideTwo}, where
 * the column's parity fixes its taps.
 */
final class DepthwiseGather {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private DepthwiseGather() {
    }

    /**
     * The taps that reach each input column, the same for every row of a call: for column ix, {@code count[ix]}
     * taps, the t-th with its dy pixel at {@code dyCols[ix·KW + t]} within a dy row and its weight at
     * {@code wCols[ix·KW + t]} within a weight row. Worked out per pixel of every row, with an integer division and
     * remainder per tap, they took 4–12 % of B0's 112² × 96 stride-2 pass (bench/NOTES.md).
     */
    record ColumnTaps(int[] count, int[] dyCols, int[] wCols) {
        static ColumnTaps of(Conv2dShape s) {
            int c = s.inChannels();
            int kernelW = s.kernelW();
            int[] count = new int[s.width()];
            int[] dyCols = new int[s.width() * kernelW];
            int[] wCols = new int[s.width() * kernelW];
            for (int ix = 0; ix < s.width(); ix++) {
                for (int kw = 0; kw < kernelW; kw++) {
                    int ox = source(ix, kw, s.padLeft(), s.dilationW(), s.strideW(), s.outWidth());
                    if (ox >= 0) {
                        dyCols[ix * kernelW + count[ix]] = ox * c;
                        wCols[ix * kernelW + count[ix]] = kw * c;
                        count[ix]++;
                    }
                }
            }
            return new ColumnTaps(count, dyCols, wCols);
        }
    }

    /**
     * Computes dx[n, iy, :, :] for {@code row = n · H + iy}.
     *
     * @param dy output gradient: [N, OH, OW, C] from dyOff
     * @param w  weight: [KH, KW, 1, C] from wOff
     * @param dx input gradient: [N, H, W, C] from dxOff
     * @param columns {@link ColumnTaps#of} s
     */
    static void row(Conv2dShape s, float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff,
                    boolean accumulate, ColumnTaps columns, int row) {
        int c = s.inChannels();
        int bound = SPECIES.loopBound(c);
        int n = row / s.height();
        int iy = row % s.height();
        int kernelW = s.kernelW();
        // Kernel rows that reach this input row from a whole output row: dy row offsets and weight row offsets.
        int[] dyRows = new int[s.kernelH()];
        int[] wRows = new int[s.kernelH()];
        int rowTaps = 0;
        for (int kh = 0; kh < s.kernelH(); kh++) {
            int oy = source(iy, kh, s.padTop(), s.dilationH(), s.strideH(), s.outHeight());
            if (oy >= 0) {
                dyRows[rowTaps] = dyOff + (n * s.outHeight() + oy) * s.outWidth() * c;
                wRows[rowTaps] = wOff + kh * kernelW * c;
                rowTaps++;
            }
        }
        int[] dyCols = columns.dyCols();
        int[] wCols = columns.wCols();
        if (s.kernelW() == 3 && s.strideW() == 2 && s.dilationW() == 1 && s.padLeft() == 1 && s.padRight() == 1
                && rowTaps >= 1 && rowTaps <= 2) {
            int rowStart = dxOff + row * s.width() * c;
            for (int c0 = 0; c0 < bound; c0 += LANES) {
                threeWideStrideTwo(s, dy, w, dx, rowStart, accumulate, dyRows, wRows, rowTaps == 2, c0);
            }
            for (int ix = 0; bound < c && ix < s.width(); ix++) {
                scalarTail(dy, w, dx, rowStart + ix * c, bound, c, accumulate, dyRows, wRows, rowTaps, dyCols,
                        wCols, ix * kernelW, columns.count()[ix]);
            }
            return;
        }
        for (int ix = 0; ix < s.width(); ix++) {
            int colTaps = columns.count()[ix];
            int t0 = ix * kernelW;
            int out = dxOff + (row * s.width() + ix) * c;
            int c0 = 0;
            for (; c0 + 4 * LANES <= bound; c0 += 4 * LANES) {
                fourVectors(dy, w, dx, out, c0, accumulate, dyRows, wRows, rowTaps, dyCols, wCols, t0, colTaps);
            }
            for (; c0 < bound; c0 += LANES) {
                FloatVector acc = accumulate ? FloatVector.fromArray(SPECIES, dx, out + c0) : FloatVector.zero(SPECIES);
                for (int r = 0; r < rowTaps; r++) {
                    for (int t = t0; t < t0 + colTaps; t++) {
                        acc = FloatVector.fromArray(SPECIES, dy, dyRows[r] + dyCols[t] + c0)
                                .fma(FloatVector.fromArray(SPECIES, w, wRows[r] + wCols[t] + c0), acc);
                    }
                }
                acc.intoArray(dx, out + c0);
            }
            scalarTail(dy, w, dx, out, bound, c, accumulate, dyRows, wRows, rowTaps, dyCols, wCols, t0, colTaps);
        }
    }

    /** Channels [from, c) of one input pixel, one at a time. */
    private static void scalarTail(float[] dy, float[] w, float[] dx, int out, int from, int c, boolean accumulate,
                                   int[] dyRows, int[] wRows, int rowTaps, int[] dyCols, int[] wCols, int t0,
                                   int colTaps) {
        for (int ch = from; ch < c; ch++) {
            float acc = accumulate ? dx[out + ch] : 0f;
            for (int r = 0; r < rowTaps; r++) {
                for (int t = t0; t < t0 + colTaps; t++) {
                    acc += dy[dyRows[r] + dyCols[t] + ch] * w[wRows[r] + wCols[t] + ch];
                }
            }
            dx[out + ch] = acc;
        }
    }

    /**
     * Channels [c0, c0 + LANES) of a whole input row for a kernel three taps wide at stride 2 with padding 1 along
     * the row (B0's 3×3 stride-2 layers), reached by one or two kernel rows ({@code twoRows}): even column 2j takes
     * tap 1 of output column j, odd column 2j + 1 tap 0 of output column j + 1 (where there is one) and tap 2 of
     * column j. So the kernel rows' weights stay in registers and each dy vector is loaded once for the columns it
     * reaches, where the general loop loaded a dy and a weight vector per tap. Each sum takes its taps in the
     * general loop's order (kernel row, then kernel column), so the results are its bits.
     *
     * @param rowStart dx's row: [W, C] from rowStart
     */
    private static void threeWideStrideTwo(Conv2dShape s, float[] dy, float[] w, float[] dx, int rowStart,
                                           boolean accumulate, int[] dyRows, int[] wRows, boolean twoRows,
                                           int c0) {
        int c = s.inChannels();
        int width = s.width();
        int outWidth = s.outWidth();
        int w0 = wRows[0] + c0;
        FloatVector k00 = FloatVector.fromArray(SPECIES, w, w0);
        FloatVector k01 = FloatVector.fromArray(SPECIES, w, w0 + c);
        FloatVector k02 = FloatVector.fromArray(SPECIES, w, w0 + 2 * c);
        int w1 = (twoRows ? wRows[1] : wRows[0]) + c0;
        FloatVector k10 = FloatVector.fromArray(SPECIES, w, w1);
        FloatVector k11 = FloatVector.fromArray(SPECIES, w, w1 + c);
        FloatVector k12 = FloatVector.fromArray(SPECIES, w, w1 + 2 * c);
        int g0 = dyRows[0] + c0;
        int g1 = (twoRows ? dyRows[1] : dyRows[0]) + c0;
        FloatVector zero = FloatVector.zero(SPECIES);
        // d0, d1: dy of output column j in the first and second kernel row.
        FloatVector d0 = FloatVector.fromArray(SPECIES, dy, g0);
        FloatVector d1 = twoRows ? FloatVector.fromArray(SPECIES, dy, g1) : zero;
        for (int j = 0; 2 * j < width; j++) {
            int even = rowStart + 2 * j * c + c0;
            FloatVector acc = accumulate ? FloatVector.fromArray(SPECIES, dx, even) : zero;
            acc = d0.fma(k01, acc);
            if (twoRows) {
                acc = d1.fma(k11, acc);
            }
            acc.intoArray(dx, even);
            if (2 * j + 1 == width) {
                break;
            }
            int odd = even + c;
            boolean next = j + 1 < outWidth;
            FloatVector n0 = next ? FloatVector.fromArray(SPECIES, dy, g0 + (j + 1) * c) : zero;
            FloatVector n1 = next && twoRows ? FloatVector.fromArray(SPECIES, dy, g1 + (j + 1) * c) : zero;
            acc = accumulate ? FloatVector.fromArray(SPECIES, dx, odd) : zero;
            if (next) {
                acc = n0.fma(k00, acc);
            }
            acc = d0.fma(k02, acc);
            if (twoRows) {
                if (next) {
                    acc = n1.fma(k10, acc);
                }
                acc = d1.fma(k12, acc);
            }
            acc.intoArray(dx, odd);
            d0 = n0;
            d1 = n1;
        }
    }

    /**
     * Channels [c0, c0 + 4·LANES) of one input pixel: four independent sums over the same taps, so the FMAs of
     * neighbouring channel vectors overlap instead of waiting on one chain; each sum takes the taps in the order
     * of the one-vector loop.
     */
    private static void fourVectors(float[] dy, float[] w, float[] dx, int out, int c0, boolean accumulate,
                                    int[] dyRows, int[] wRows, int rowTaps, int[] dyCols, int[] wCols, int t0,
                                    int colTaps) {
        FloatVector a0 = FloatVector.zero(SPECIES);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        if (accumulate) {
            a0 = FloatVector.fromArray(SPECIES, dx, out + c0);
            a1 = FloatVector.fromArray(SPECIES, dx, out + c0 + LANES);
            a2 = FloatVector.fromArray(SPECIES, dx, out + c0 + 2 * LANES);
            a3 = FloatVector.fromArray(SPECIES, dx, out + c0 + 3 * LANES);
        }
        for (int r = 0; r < rowTaps; r++) {
            for (int t = t0; t < t0 + colTaps; t++) {
                int g = dyRows[r] + dyCols[t] + c0;
                int k = wRows[r] + wCols[t] + c0;
                a0 = FloatVector.fromArray(SPECIES, dy, g).fma(FloatVector.fromArray(SPECIES, w, k), a0);
                a1 = FloatVector.fromArray(SPECIES, dy, g + LANES).fma(FloatVector.fromArray(SPECIES, w, k + LANES), a1);
                a2 = FloatVector.fromArray(SPECIES, dy, g + 2 * LANES)
                        .fma(FloatVector.fromArray(SPECIES, w, k + 2 * LANES), a2);
                a3 = FloatVector.fromArray(SPECIES, dy, g + 3 * LANES)
                        .fma(FloatVector.fromArray(SPECIES, w, k + 3 * LANES), a3);
            }
        }
        a0.intoArray(dx, out + c0);
        a1.intoArray(dx, out + c0 + LANES);
        a2.intoArray(dx, out + c0 + 2 * LANES);
        a3.intoArray(dx, out + c0 + 3 * LANES);
    }

    /**
     * The output index whose tap {@code k} lands on input index {@code i}, or -1 when that is not a whole output
     * position inside [0, outSize).
     */
    private static int source(int i, int k, int pad, int dilation, int stride, int outSize) {
        int shifted = i + pad - k * dilation;
        if (shifted < 0 || shifted % stride != 0) {
            return -1;
        }
        int o = shifted / stride;
        return o < outSize ? o : -1;
    }
}
