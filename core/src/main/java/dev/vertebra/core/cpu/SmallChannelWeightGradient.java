package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The weight gradient of an image stem's convolution (three input channels, a kernel three taps wide: nine values
 * a kernel row) without unfolding: for each kernel row and output vector, nine sums of a broadcast input value times
 * the output gradient's vector, kept in registers down a block of pixels. im2col + GEMM wrote and read back a
 * [pixels, KH·KW·Cin] matrix for a product of depth 27 (the unfolding was about half of the stem's weight gradient).
 *
 * <p>The sums are those of {@link Conv2dGemm}'s unfolded product bit for bit: for each unfolded block of pixels, its
 * GEMM depth blocks of {@value Sgemm#KC} pixels from the block's start, each a chain of FMAs in pixel order from zero
 * then added to what the weight gradient holds (or stored, for the first block when not accumulating; or, for 16 to
 * 40 outputs, added up per unfolded block first, as {@code Conv2dGemm} then computes the product). Taps in the
 * padding are skipped: the GEMM adds their products of zero, and a sum that starts at +0 never becomes −0, so adding
 * ±0 leaves it as it is.
 */
final class SmallChannelWeightGradient {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    /** Input channels × kernel width: the values one kernel row takes from one input row. */
    private static final int ROW_TAPS = 9;

    private SmallChannelWeightGradient() {
    }

    /** True for the shapes this kernel handles: ungrouped, nine values a kernel row, undilated, whole vectors out. */
    static boolean handles(Conv2dShape s) {
        return s.groups() == 1 && s.inChannels() * s.kernelW() == ROW_TAPS && s.dilationW() == 1
                && s.dilationH() == 1 && s.outChannels() % LANES == 0;
    }

    /**
     * dw (+)= the weight gradient of output pixels [row0, row1), taken as {@link Conv2dGemm} takes it: in unfolded
     * blocks of {@code blockRows} pixels from row0, the first overwriting dw unless {@code accumulate}.
     *
     * @param x  input: [N, H, W, Cin] from xOff
     * @param dy output gradient: [N, OH, OW, Cout] from dyOff
     * @param dw weight gradient: [KH, KW, Cin, Cout] from dwOff
     */
    static void rows(Conv2dShape s, float[] x, int xOff, float[] dy, int dyOff, int row0, int row1, int blockRows,
                     float[] dw, int dwOff, boolean accumulate) {
        int cout = s.outChannels();
        int size = (int) s.weightSize();
        // Where the unfolded product is narrower than it is deep and narrower than two column panels (16 to 40
        // outputs), Conv2dGemm sums each unfolded block on its own and adds that to dw: so here too.
        boolean blockApart = Im2col.depth(s) > cout && cout < 2 * SgemmMicroKernel.NR;
        float[] blockSums = blockApart ? new float[size] : null;
        for (int block = row0; block < row1; block += blockRows) {
            int blockEnd = Math.min(row1, block + blockRows);
            boolean intoDw = accumulate || block > row0;
            float[] target = blockApart ? blockSums : dw;
            int targetOff = blockApart ? 0 : dwOff;
            for (int k0 = block; k0 < blockEnd; k0 += Sgemm.KC) {
                int k1 = Math.min(blockEnd, k0 + Sgemm.KC);
                boolean add = k0 > block || (!blockApart && intoDw);
                for (int kh = 0; kh < s.kernelH(); kh++) {
                    for (int co = 0; co < cout; co += LANES) {
                        kernelRow(s, x, xOff, dy, dyOff, k0, k1, kh, co, target,
                                targetOff + kh * ROW_TAPS * cout + co, add);
                    }
                }
            }
            if (blockApart) {
                for (int i = 0; i < size; i++) {
                    dw[dwOff + i] = intoDw ? dw[dwOff + i] + blockSums[i] : blockSums[i];
                }
            }
        }
    }

    /** edge[t] = the window row's value t (column ix0 + t / cin), or 0 where that column is outside the image. */
    private static void edgeValues(float[] x, int at, int ix0, int cin, int width, float[] edge) {
        for (int t = 0; t < ROW_TAPS; t++) {
            int ix = ix0 + t / cin;
            edge[t] = ix >= 0 && ix < width ? x[at + t] : 0f;
        }
    }

    /**
     * dw[t, co : co + LANES] (+)= Σ over pixels [p0, p1) of x(pixel, kernel row kh, value t) · dy[pixel, co …],
     * t &lt; 9 (kw·Cin + ci), rows of dw {@code Cout} apart from {@code dwAt}.
     */
    private static void kernelRow(Conv2dShape s, float[] x, int xOff, float[] dy, int dyOff, int p0, int p1, int kh,
                                  int co, float[] dw, int dwAt, boolean add) {
        int oh = s.outHeight();
        int ow = s.outWidth();
        int cout = s.outChannels();
        int cin = s.inChannels();
        float[] edge = new float[ROW_TAPS]; // a window cut by the image's side: its values, zeros outside
        FloatVector a0 = FloatVector.zero(SPECIES);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector a6 = a0;
        FloatVector a7 = a0;
        FloatVector a8 = a0;
        // The pixel's image, row and column, stepped along instead of divided out for every pixel.
        int n = p0 / (oh * ow);
        int oy = p0 / ow % oh;
        int ox = p0 % ow;
        for (int p = p0; p < p1; p++) {
            int iy = oy * s.strideH() - s.padTop() + kh;
            if (iy >= 0 && iy < s.height()) {
                int ix0 = ox * s.strideW() - s.padLeft();
                float[] v = x;
                int at = xOff + ((n * s.height() + iy) * s.width() + ix0) * cin;
                if (ix0 < 0 || ix0 + s.kernelW() > s.width()) {
                    edgeValues(x, at, ix0, cin, s.width(), edge);
                    v = edge;
                    at = 0;
                }
                // The nine values into locals first: broadcasts straight from the array (x or the edge copy) ran
                // 1.7× slower (in a version with two output vectors a pass; that one, eighteen sums in registers,
                // was faster again but took C2 22-49 MB of arena to compile, +17-20 MB of peak RSS).
                float x0 = v[at];
                float x1 = v[at + 1];
                float x2 = v[at + 2];
                float x3 = v[at + 3];
                float x4 = v[at + 4];
                float x5 = v[at + 5];
                float x6 = v[at + 6];
                float x7 = v[at + 7];
                float x8 = v[at + 8];
                FloatVector g = FloatVector.fromArray(SPECIES, dy, dyOff + p * cout + co);
                a0 = FloatVector.broadcast(SPECIES, x0).fma(g, a0);
                a1 = FloatVector.broadcast(SPECIES, x1).fma(g, a1);
                a2 = FloatVector.broadcast(SPECIES, x2).fma(g, a2);
                a3 = FloatVector.broadcast(SPECIES, x3).fma(g, a3);
                a4 = FloatVector.broadcast(SPECIES, x4).fma(g, a4);
                a5 = FloatVector.broadcast(SPECIES, x5).fma(g, a5);
                a6 = FloatVector.broadcast(SPECIES, x6).fma(g, a6);
                a7 = FloatVector.broadcast(SPECIES, x7).fma(g, a7);
                a8 = FloatVector.broadcast(SPECIES, x8).fma(g, a8);
            }
            if (++ox == ow) {
                ox = 0;
                if (++oy == oh) {
                    oy = 0;
                    n++;
                }
            }
        }
        // Written out, not looped over an array of vectors: C2 keeps the nine sums in registers only so.
        if (add) {
            a0 = a0.add(FloatVector.fromArray(SPECIES, dw, dwAt));
            a1 = a1.add(FloatVector.fromArray(SPECIES, dw, dwAt + cout));
            a2 = a2.add(FloatVector.fromArray(SPECIES, dw, dwAt + 2 * cout));
            a3 = a3.add(FloatVector.fromArray(SPECIES, dw, dwAt + 3 * cout));
            a4 = a4.add(FloatVector.fromArray(SPECIES, dw, dwAt + 4 * cout));
            a5 = a5.add(FloatVector.fromArray(SPECIES, dw, dwAt + 5 * cout));
            a6 = a6.add(FloatVector.fromArray(SPECIES, dw, dwAt + 6 * cout));
            a7 = a7.add(FloatVector.fromArray(SPECIES, dw, dwAt + 7 * cout));
            a8 = a8.add(FloatVector.fromArray(SPECIES, dw, dwAt + 8 * cout));
        }
        a0.intoArray(dw, dwAt);
        a1.intoArray(dw, dwAt + cout);
        a2.intoArray(dw, dwAt + 2 * cout);
        a3.intoArray(dw, dwAt + 3 * cout);
        a4.intoArray(dw, dwAt + 4 * cout);
        a5.intoArray(dw, dwAt + 5 * cout);
        a6.intoArray(dw, dwAt + 6 * cout);
        a7.intoArray(dw, dwAt + 7 * cout);
        a8.intoArray(dw, dwAt + 8 * cout);
    }
}
