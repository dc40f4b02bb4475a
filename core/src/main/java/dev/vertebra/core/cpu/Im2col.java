package dev.vertebra.core.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Unfolds convolution windows of one channel group into matrix rows (im2col) and folds such rows back with
 * accumulation (col2im), so a convolution becomes a GEMM on the rows.
 *
 * <p>Output pixels are numbered row-major over [N, OH, OW]; a block is a range of those numbers, which may span
 * images. A column matrix holds one row per output pixel of the block, laid out [KH, KW, Cin / groups] to match
 * the HWIO weight, whose group slice is then a [KH·KW·Cin/groups, Cout/groups] matrix with row stride Cout.
 */
final class Im2col {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private Im2col() {
    }

    /** Columns of the unfolded matrix: KH·KW·Cin/groups. */
    static int depth(Conv2dShape s) {
        return s.kernelH() * s.kernelW() * s.inPerGroup();
    }

    /**
     * Copies the windows of output pixels [row0, row0 + rows) for channel group {@code group} into {@code col};
     * taps that fall into the padding become zeros. Runs its rows in parallel when called outside a parallel loop.
     *
     * @param x   input: [N, H, W, Cin] from xOff
     * @param col unfolded windows: [rows, KH, KW, Cin / groups] from 0
     */
    static void unfold(Conv2dShape s, float[] x, int xOff, int group, int row0, int rows, float[] col) {
        int depth = depth(s);
        int grain = Math.max(1, (1 << 14) / depth);
        int oh = s.outHeight();
        int ow = s.outWidth();
        CpuThreads.parallelFor(0, rows, grain, (from, to) -> {
            // The pixel's image, row and column, stepped along instead of divided out for every pixel.
            int pixel = row0 + from;
            int n = pixel / (oh * ow);
            int oy = pixel / ow % oh;
            int ox = pixel % ow;
            for (int r = from; r < to; r++) {
                unfoldPixel(s, x, xOff, group, n, oy, ox, col, r * depth);
                if (++ox == ow) {
                    ox = 0;
                    if (++oy == oh) {
                        oy = 0;
                        n++;
                    }
                }
            }
        });
    }

    /** The window of output pixel (n, oy, ox) into col from dst: [KH, KW, Cin / groups]. */
    private static void unfoldPixel(Conv2dShape s, float[] x, int xOff, int group, int n, int oy, int ox, float[] col,
                                    int dst) {
        int cg = s.inPerGroup();
        int tapRow = s.kernelW() * cg;
        for (int kh = 0; kh < s.kernelH(); kh++, dst += tapRow) {
            int iy = oy * s.strideH() - s.padTop() + kh * s.dilationH();
            if (iy < 0 || iy >= s.height()) {
                Arrays.fill(col, dst, dst + tapRow, 0f);
                continue;
            }
            int rowBase = xOff + ((n * s.height() + iy) * s.width()) * s.inChannels() + group * cg;
            int ix0 = ox * s.strideW() - s.padLeft();
            if (cg == s.inChannels() && s.dilationW() == 1 && ix0 >= 0 && ix0 + s.kernelW() <= s.width()) {
                // The row's taps are adjacent input pixels with all their channels: one contiguous run (the stem's
                // 3 × 3 × 3 window is three runs of nine floats instead of nine of three).
                copy(x, rowBase + ix0 * cg, col, dst, tapRow);
                continue;
            }
            for (int kw = 0; kw < s.kernelW(); kw++) {
                int ix = ox * s.strideW() - s.padLeft() + kw * s.dilationW();
                int at = dst + kw * cg;
                if (ix < 0 || ix >= s.width()) {
                    Arrays.fill(col, at, at + cg, 0f);
                } else {
                    copy(x, rowBase + ix * s.inChannels(), col, at, cg);
                }
            }
        }
    }

    /**
     * {@code System.arraycopy}, or one masked vector load and store for the few floats of a small-channel run (the
     * call costs more, and an element loop made the stem's weight gradient 15–18 % slower).
     */
    private static void copy(float[] src, int from, float[] dst, int to, int length) {
        if (length > LANES) {
            System.arraycopy(src, from, dst, to, length);
            return;
        }
        VectorMask<Float> m = SPECIES.indexInRange(0, length);
        FloatVector.fromArray(SPECIES, src, from, m).intoArray(dst, to, m);
    }

    /**
     * Adds the window rows of output pixels [row0, row0 + rows) back onto the input positions they were taken
     * from (taps in the padding are dropped). Serial: windows of neighbouring pixels overlap.
     *
     * @param col unfolded gradient: [rows, KH, KW, Cin / groups] from 0
     * @param dx  input gradient: [N, H, W, Cin] from dxOff, accumulated into
     */
    static void fold(Conv2dShape s, float[] col, int group, int row0, int rows, float[] dx, int dxOff) {
        int oh = s.outHeight();
        int ow = s.outWidth();
        int cg = s.inPerGroup();
        int depth = depth(s);
        for (int r = 0; r < rows; r++) {
            int pixel = row0 + r;
            int n = pixel / (oh * ow);
            int oy = pixel / ow % oh;
            int ox = pixel % ow;
            for (int kh = 0; kh < s.kernelH(); kh++) {
                int iy = oy * s.strideH() - s.padTop() + kh * s.dilationH();
                if (iy < 0 || iy >= s.height()) {
                    continue;
                }
                int rowBase = dxOff + ((n * s.height() + iy) * s.width()) * s.inChannels() + group * cg;
                for (int kw = 0; kw < s.kernelW(); kw++) {
                    int ix = ox * s.strideW() - s.padLeft() + kw * s.dilationW();
                    if (ix < 0 || ix >= s.width()) {
                        continue;
                    }
                    int src = r * depth + (kh * s.kernelW() + kw) * cg;
                    int dst = rowBase + ix * s.inChannels();
                    VectorOps.addInto(col, src, dx, dst, cg);
                }
            }
        }
    }
}
