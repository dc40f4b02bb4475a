package dev.vertebra.core.cpu;

import dev.vertebra.core.CpuStorage;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Gradients of y = conv(x · gate, w) for a 1×1 convolution (ungrouped, stride 1, unpadded) with a per-image,
 * per-input-channel gate (a squeeze-and-excitation's), from x and the gate: neither x · gate nor the plain input
 * gradient d = dy · wᵀ is stored. Separately, the product's backward writes d and reads it back with x to make
 * d · gate and Σ d · x, and the weight gradient reads a stored x · gate: three more passes over a tensor of x's
 * size, and x · gate kept from the forward.
 *
 * <ul>
 *   <li>dx = d · gate: the plain input gradient (the same sums: one GEMM per image, each row's products over Cout
 *   in the same order), each finished tile scaled by its image's gate while in cache.</li>
 *   <li>Each image's product Pₙ = xₙᵀ · dyₙ [Cin, Cout] (or its transpose, when Cout is too narrow for whole
 *   micro-panels), then dw = Σₙ gateₙ ⊙ Pₙ (row c scaled by gate[n, c]) and dgate[n, c] = Σⱼ w[c, j] · Pₙ[c, j]:
 *   N · Cin · Cout multiply-adds each, instead of passes over the activations.</li>
 * </ul>
 *
 * <p>Every sum has a fixed order (images in order for dw, output channels in order for dgate), so the results do
 * not depend on the threads.
 */
final class GatedPointwiseBackward {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    // Output channels from which Pₙ is computed as [Cin, Cout] (whole micro-panels of two vectors or more).
    private static final int DIRECT_MIN_COUT = 2 * SgemmMicroKernel.NR;
    // Channels per task of the reductions.
    private static final int CHANNEL_GRAIN = 64;

    private GatedPointwiseBackward() {
    }

    /**
     * @param dy    output gradient: [N, H, W, Cout] from dyOff
     * @param x     input: [N, H, W, Cin] from xOff
     * @param gate  [N, Cin] from gateOff
     * @param w     weight: [1, 1, Cin, Cout] from wOff
     * @param dx    [N, H, W, Cin] from 0, overwritten
     * @param dgate [N, Cin] from 0, overwritten
     * @param dw    [Cin, Cout] from 0, overwritten
     */
    static void backward(Conv2dShape s, float[] dy, int dyOff, float[] x, int xOff, float[] gate, int gateOff,
                         float[] w, int wOff, float[] dx, float[] dgate, float[] dw) {
        if (!s.isPointwise() || s.groups() != 1) {
            throw new IllegalArgumentException("a gated convolution here is 1×1, stride 1, unpadded and ungrouped: "
                    + s);
        }
        int n = s.batch();
        int cin = s.inChannels();
        int cout = s.outChannels();
        int pixels = s.height() * s.width();
        Conv2dShape.checkArray("dy", dy, dyOff, s.outputSize());
        Conv2dShape.checkArray("x", x, xOff, s.inputSize());
        Conv2dShape.checkArray("gate", gate, gateOff, (long) n * cin);
        Conv2dShape.checkArray("w", w, wOff, s.weightSize());
        Conv2dShape.checkArray("dx", dx, 0, s.inputSize());
        Conv2dShape.checkArray("dgate", dgate, 0, (long) n * cin);
        Conv2dShape.checkArray("dw", dw, 0, s.weightSize());
        // dxₙ = (dyₙ · wᵀ) · gateₙ, the gate applied to each finished tile.
        Sgemm.sgemmBatched(n, false, true, pixels, cin, cout, 1f, dy, dyOff, cout, pixels * cout, w, wOff, cout, 0,
                0f, dx, 0, cin, pixels * cin, (item, i0, i1, j0, j1) -> scaleColumns(dx, item * pixels * cin, cin,
                        i0, i1, j0, j1, gate, gateOff + item * cin));
        float[] products = CpuStorage.allocateUninitialized(n * cin * cout).floats();
        if (cout >= DIRECT_MIN_COUT) {
            // Pₙ = xₙᵀ · dyₙ: [Cin, Cout] per image.
            Sgemm.sgemmBatched(n, true, false, cin, cout, pixels, 1f, x, xOff, cin, pixels * cin, dy, dyOff, cout,
                    pixels * cout, 0f, products, 0, cout, cin * cout);
            CpuThreads.parallelFor(0, cin, CHANNEL_GRAIN, (c0, c1) -> reduceDirect(n, cin, cout, products, gate,
                    gateOff, w, wOff, c0, c1, dgate, dw));
        } else {
            // Pₙᵀ = dyₙᵀ · xₙ: [Cout, Cin] per image.
            Sgemm.sgemmBatched(n, true, false, cout, cin, pixels, 1f, dy, dyOff, cout, pixels * cout, x, xOff, cin,
                    pixels * cin, 0f, products, 0, cin, cin * cout);
            float[] wT = new float[cout * cin];
            float[] dwT = new float[cout * cin];
            transpose(w, wOff, cin, cout, wT);
            CpuThreads.parallelFor(0, cin, CHANNEL_GRAIN, (c0, c1) -> reduceTransposed(n, cin, cout, products, gate,
                    gateOff, wT, c0, c1, dgate, dwT));
            transpose(dwT, 0, cout, cin, dw);
        }
    }

    /**
     * dst[j·rows + i] = src[srcOff + i·cols + j]: a [rows, cols] matrix transposed. A method of its own so that
     * {@link #backward}, called once a layer, has no loop: its loops made C2 compile it, with the GEMM driver it
     * inlines, twice in a training run's first steps (this class's C2 time in B0's first 14 steps: 251–270 ms with
     * them, 107 ms without; bench/NOTES.md, twenty-ninth round).
     */
    private static void transpose(float[] src, int srcOff, int rows, int cols, float[] dst) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                dst[j * rows + i] = src[srcOff + i * cols + j];
            }
        }
    }

    /** Rows [i0, i1), columns [j0, j1) of a [rows, ld] matrix from base, column j times scale[sOff + j]. */
    private static void scaleColumns(float[] c, int base, int ld, int i0, int i1, int j0, int j1, float[] scale,
                                     int sOff) {
        int width = j1 - j0;
        int bound = S.loopBound(width);
        for (int i = i0; i < i1; i++) {
            int row = base + i * ld + j0;
            int j = 0;
            for (; j < bound; j += S.length()) {
                FloatVector.fromArray(S, c, row + j).mul(FloatVector.fromArray(S, scale, sOff + j0 + j))
                        .intoArray(c, row + j);
            }
            for (; j < width; j++) {
                c[row + j] *= scale[sOff + j0 + j];
            }
        }
    }

    /**
     * Channels [c0, c1) from P [N, Cin, Cout]: dw[c, j] = Σₙ gate[n, c]·P[n, c, j] (images in order) and
     * dgate[n, c] = Σⱼ w[c, j]·P[n, c, j]: an FMA chain per lane over the whole vectors of j, the lanes added in
     * lane order, then the FMA chain continued over the j past them. Package-private for its test.
     */
    static void reduceDirect(int n, int cin, int cout, float[] p, float[] gate, int gateOff, float[] w, int wOff,
                             int c0, int c1, float[] dgate, float[] dw) {
        int bound = S.loopBound(cout);
        float[] lanes = new float[S.length()];
        for (int c = c0; c < c1; c++) {
            int j = 0;
            for (; j < bound; j += S.length()) {
                FloatVector acc = FloatVector.fromArray(S, p, c * cout + j).mul(gate[gateOff + c]);
                for (int t = 1; t < n; t++) {
                    acc = FloatVector.fromArray(S, p, (t * cin + c) * cout + j)
                            .fma(FloatVector.broadcast(S, gate[gateOff + t * cin + c]), acc);
                }
                acc.intoArray(dw, c * cout + j);
            }
            for (; j < cout; j++) {
                float acc = p[c * cout + j] * gate[gateOff + c];
                for (int t = 1; t < n; t++) {
                    acc = Math.fma(p[(t * cin + c) * cout + j], gate[gateOff + t * cin + c], acc);
                }
                dw[c * cout + j] = acc;
            }
            for (int t = 0; t < n; t++) {
                int row = (t * cin + c) * cout;
                FloatVector acc = FloatVector.zero(S);
                int k = 0;
                for (; k < bound; k += S.length()) {
                    acc = FloatVector.fromArray(S, p, row + k).fma(FloatVector.fromArray(S, w, wOff + c * cout + k),
                            acc);
                }
                // The lanes added in lane order: reduceLanes(ADD) leaves the order open, and C2's order differs
                // from the interpreter's and C1's loop, so the sums (and a training run's bits) depended on how far
                // this method had been compiled when it ran.
                acc.intoArray(lanes, 0);
                float sum = lanes[0];
                for (int lane = 1; lane < lanes.length; lane++) {
                    sum += lanes[lane];
                }
                for (; k < cout; k++) {
                    sum = Math.fma(p[row + k], w[wOff + c * cout + k], sum);
                }
                dgate[t * cin + c] = sum;
            }
        }
    }

    /**
     * Channels [c0, c1) from Pᵀ [N, Cout, Cin]: dwT[j, c] = Σₙ gate[n, c]·Pᵀ[n, j, c] (images in order) and
     * dgate[n, c] = Σⱼ wT[j, c]·Pᵀ[n, j, c] (output channels in order), each an FMA chain kept in its output element
     * between steps (a float store is exact, so these are the chains' bits).
     *
     * <p>Plain loops, the channel innermost (C2 vectorizes them): B0 runs this for its three narrow projections, three
     * calls a step, and as Vector API code it ran as C1 code, boxing every vector, through the first steps of
     * training, until C2 compiled it (an on-stack replacement, then the method: 40–50 ms of the one C2 thread) in the
     * steps the side-by-side measures (bench/NOTES.md, thirty-first round). Package-private for its test.
     */
    static void reduceTransposed(int n, int cin, int cout, float[] pT, float[] gate, int gateOff, float[] wT,
                                 int c0, int c1, float[] dgate, float[] dwT) {
        for (int j = 0; j < cout; j++) {
            int row = j * cin;
            for (int c = c0; c < c1; c++) {
                dwT[row + c] = pT[row + c] * gate[gateOff + c];
            }
            for (int t = 1; t < n; t++) {
                int p = (t * cout + j) * cin;
                int g = gateOff + t * cin;
                for (int c = c0; c < c1; c++) {
                    dwT[row + c] = Math.fma(pT[p + c], gate[g + c], dwT[row + c]);
                }
            }
        }
        for (int t = 0; t < n; t++) {
            int out = t * cin;
            for (int c = c0; c < c1; c++) {
                dgate[out + c] = 0f;
            }
            for (int j = 0; j < cout; j++) {
                int p = (t * cout + j) * cin;
                int w = j * cin;
                for (int c = c0; c < c1; c++) {
                    dgate[out + c] = Math.fma(pT[p + c], wT[w + c], dgate[out + c]);
                }
            }
        }
    }
}
