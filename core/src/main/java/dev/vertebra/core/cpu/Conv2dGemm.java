package dev.vertebra.core.cpu;

import dev.vertebra.core.CpuStorage;

import java.util.Arrays;

/**
 * Convolution on channels-last activations lowered to {@link Sgemm}: forward, gradient with respect to the input
 * (backward-data) and gradient with respect to the weight (backward-weight), for any kernel size, stride,
 * per-side padding, dilation and groups. Layouts are those of {@link Conv2dShape}: x [N, H, W, Cin],
 * y [N, OH, OW, Cout], w [KH, KW, Cin/groups, Cout].
 *
 * <p>A 1×1, stride-1, unpadded convolution needs no unfolding: with pixels as rows it is directly
 * y[N·H·W, Cout] = x[N·H·W, Cin] · w[Cin, Cout] (per group, using leading dimensions to pick the group's
 * columns). Every other shape unfolds blocks of output pixels (im2col) into a per-thread workspace of bounded size
 * ({@value #WORKSPACE_FLOATS} floats) and multiplies the block.
 *
 * <p>Every kernel either overwrites its output ({@code accumulate = false}; the output's old contents are never
 * read, so it may hold garbage) or adds its result to it ({@code accumulate = true}, e.g. to sum gradients).
 *
 * <pre>{@code
 * Conv2dShape s = Conv2dShape.symmetric(8, 224, 224, 3, 32, 3, 2, 1, 1, 1);
 * float[] y = new float[(int) s.outputSize()];
 * Conv2dGemm.forward(s, x, 0, w, 0, bias, 0, y, 0, false);
 * }</pre>
 */
public final class Conv2dGemm {

    /** Bound on one thread's unfolded block: 4 MiB. */
    static final int WORKSPACE_FLOATS = 1 << 20;
    // Forward blocks are cut small enough to give every thread a few, large enough for an efficient GEMM.
    private static final int MIN_BLOCK_ROWS = 96;
    // Partial weight gradients: enough pixels each for an efficient GEMM, few enough to add up cheaply.
    private static final int ROWS_PER_WEIGHT_PARTIAL = 2048;
    private static final int MAX_WEIGHT_PARTIALS = 8;

    private static final ThreadScratch COLUMNS = new ThreadScratch();
    /** productOverRows' transposed product, used and consumed within one call. */
    private static final ThreadScratch TRANSPOSED = new ThreadScratch();

    private Conv2dGemm() {
    }

    /**
     * y = conv(x, w) + bias (or y += that when accumulating).
     *
     * @param x    input: [N, H, W, Cin] from xOff
     * @param w    weight: [KH, KW, Cin/groups, Cout] from wOff
     * @param bias [Cout] from biasOff, or null for none
     * @param y    output: [N, OH, OW, Cout] from yOff
     */
    public static void forward(Conv2dShape s, float[] x, int xOff, float[] w, int wOff,
                               float[] bias, int biasOff, float[] y, int yOff, boolean accumulate) {
        forward(s, x, xOff, w, wOff, bias, biasOff, y, yOff, accumulate, null);
    }

    /**
     * A 1×1 convolution (ungrouped, stride 1, unpadded) whose weight [Cin, Cout] was packed once by
     * {@link Sgemm#packB} for several calls, every tile of y finished by {@code epilogue}: the values of
     * {@link #forward} with that epilogue.
     */
    static void forwardPointwise(Conv2dShape s, float[] x, int xOff, Sgemm.PackedB w, float[] y, int yOff,
                                 ChannelEpilogue epilogue) {
        if (!s.isPointwise() || s.groups() != 1 || w.k() != s.inChannels() || w.n() != s.outChannels()) {
            throw new IllegalArgumentException("not an ungrouped 1×1 convolution with packed weight [" + w.k() + ", "
                    + w.n() + "]: " + s);
        }
        Conv2dShape.checkArray("x", x, xOff, s.inputSize());
        Conv2dShape.checkArray("y", y, yOff, s.outputSize());
        int pixels = s.batch() * s.outHeight() * s.outWidth();
        int cout = s.outChannels();
        Sgemm.sgemm(pixels, cout, s.inChannels(), x, xOff, s.inChannels(), w, y, yOff, cout,
                (item, i0, i1, j0, j1) -> epilogue.apply(y, yOff + i0 * cout + j0, i1 - i0, j1 - j0, cout, j0));
    }

    /**
     * y = conv(x, w) for an ungrouped 1×1 convolution (stride 1, unpadded), every finished tile of y handed to
     * {@code moments} while it is in cache: the values of {@link #forward}, and y's batch statistics without a
     * second read of y from memory. The product's tiles start at chunk boundaries, each chunk's rows in one task.
     *
     * @param x input: [N, H, W, Cin] from xOff; w: [1, 1, Cin, Cout] from wOff; y: [N, H, W, Cout] from 0
     * @param moments for y as [N·H·W, Cout]; complete on return
     */
    static void forwardPointwiseMoments(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, float[] y,
                                        ChunkMoments moments) {
        int pixels = s.batch() * s.outHeight() * s.outWidth();
        int cin = s.inChannels();
        int cout = s.outChannels();
        if (!s.isPointwise() || s.groups() != 1 || moments.rows() != pixels || moments.channels() != cout) {
            throw new IllegalArgumentException("moments of [" + moments.rows() + ", " + moments.channels()
                    + "] for a convolution that is not an ungrouped 1×1 one of that output: " + s);
        }
        Conv2dShape.checkArray("x", x, xOff, s.inputSize());
        Conv2dShape.checkArray("w", w, wOff, s.weightSize());
        Conv2dShape.checkArray("y", y, 0, s.outputSize());
        Sgemm.sgemm(false, false, pixels, cout, cin, 1f, x, xOff, cin, w, wOff, cout, 0f, y, 0, cout,
                new Sgemm.TileEpilogue() {
                    @Override
                    public void finish(int item, int i0, int i1, int j0, int j1) {
                        moments.add(y, 0, i0, i1, j0, j1);
                    }

                    @Override
                    public int rowAlignment() {
                        return FloatBatchNorm.CHUNK_ROWS;
                    }
                });
    }

    /**
     * {@link #forward} that finishes every block of y with {@code epilogue} (after the bias) while the block is
     * in cache: per task tile of the GEMM for a 1×1 convolution, per unfolded block of pixels otherwise.
     */
    static void forward(Conv2dShape s, float[] x, int xOff, float[] w, int wOff, float[] bias, int biasOff,
                        float[] y, int yOff, boolean accumulate, ChannelEpilogue epilogue) {
        Conv2dShape.checkArray("x", x, xOff, s.inputSize());
        Conv2dShape.checkArray("w", w, wOff, s.weightSize());
        Conv2dShape.checkArray("y", y, yOff, s.outputSize());
        if (bias != null) {
            Conv2dShape.checkArray("bias", bias, biasOff, s.outChannels());
        }
        int pixels = s.batch() * s.outHeight() * s.outWidth();
        int cin = s.inChannels();
        int cout = s.outChannels();
        int cg = s.inPerGroup();
        int og = s.outPerGroup();
        float beta = accumulate ? 1f : 0f;
        if (s.isPointwise() && bias == null && epilogue != null) {
            for (int g = 0; g < s.groups(); g++) {
                int group = g;
                // As below, each finished tile of the group's columns then goes through the epilogue.
                Sgemm.sgemm(false, false, pixels, og, cg, 1f, x, xOff + g * cg, cin,
                        w, wOff + g * og, cout, beta, y, yOff + g * og, cout, (item, i0, i1, j0, j1) ->
                                epilogue.apply(y, yOff + i0 * cout + group * og + j0, i1 - i0, j1 - j0, cout,
                                        group * og + j0));
            }
            return;
        }
        if (s.isPointwise()) {
            for (int g = 0; g < s.groups(); g++) {
                // y[:, g·og : (g+1)·og] = x[:, g·cg : (g+1)·cg] · w[:, g·og : (g+1)·og]
                Sgemm.sgemm(false, false, pixels, og, cg, 1f, x, xOff + g * cg, cin,
                        w, wOff + g * og, cout, beta, y, yOff + g * og, cout);
            }
            if (bias != null || epilogue != null) {
                CpuThreads.parallelFor(0, pixels, 256, (from, to) -> finishRows(y, yOff, from, to - from, cout,
                        bias, biasOff, epilogue));
            }
            return;
        }
        int depth = Im2col.depth(s);
        int blockRows = blockRows(depth, pixels, 4 * CpuThreads.parallelism());
        int blocks = (pixels + blockRows - 1) / blockRows;
        CpuThreads.parallelFor(0, blocks, 1, (from, to) -> {
            for (int block = from; block < to; block++) {
                int row0 = block * blockRows;
                int rows = Math.min(blockRows, pixels - row0);
                float[] col = COLUMNS.floats(rows * depth); // col: [rows, KH, KW, cg]
                for (int g = 0; g < s.groups(); g++) {
                    Im2col.unfold(s, x, xOff, g, row0, rows, col);
                    Sgemm.sgemm(false, false, rows, og, depth, 1f, col, 0, depth,
                            w, wOff + g * og, cout, beta, y, yOff + row0 * cout + g * og, cout);
                }
                finishRows(y, yOff, row0, rows, cout, bias, biasOff, epilogue);
            }
        });
    }

    /**
     * A 1×1, stride-1, ungrouped convolution of {@code x · gate}, gate [N, Cin] per image and input channel, each
     * finished tile of y put through {@code epilogue}: the gate is folded into each image's weights as the GEMM
     * packs them (N·Cin·Cout multiplications instead of N·H·W·Cin: cheaper when Cout &lt; H·W), one GEMM per
     * image, no copy of the weights.
     *
     * @param x        input: [N, H, W, Cin] from xOff
     * @param gate     [N, Cin] from gateOff
     * @param w        weight: [1, 1, Cin, Cout] from wOff
     * @param y        output: [N, H, W, Cout] from 0, overwritten
     * @param epilogue for each finished tile of y, or null for none
     */
    static void forwardGated(Conv2dShape s, float[] x, int xOff, float[] gate, int gateOff, float[] w, int wOff,
                             float[] y, ChannelEpilogue epilogue) {
        if (!s.isPointwise() || s.groups() != 1) {
            throw new IllegalArgumentException("a gated convolution here is 1×1, stride 1, unpadded and ungrouped: "
                    + s);
        }
        Conv2dShape.checkArray("x", x, xOff, s.inputSize());
        Conv2dShape.checkArray("w", w, wOff, s.weightSize());
        Conv2dShape.checkArray("y", y, 0, s.outputSize());
        int n = s.batch();
        int cin = s.inChannels();
        int cout = s.outChannels();
        Conv2dShape.checkArray("gate", gate, gateOff, (long) n * cin);
        int pixels = s.height() * s.width();
        // Image t's weights are w with row ci scaled by gate[t, ci]; the GEMM scales them as it packs them.
        Sgemm.sgemmBatchedRowScaledB(n, pixels, cout, cin, x, xOff, cin, pixels * cin, w, wOff, cout,
                gate, gateOff, cin, y, 0, cout, pixels * cout, epilogue == null ? null : (item, i0, i1, j0, j1) ->
                        epilogue.apply(y, (item * pixels + i0) * cout + j0, i1 - i0, j1 - j0, cout, j0));
    }

    /** Adds the bias (if any), then applies the epilogue (if any), to rows [row0, row0 + rows) of y. */
    private static void finishRows(float[] y, int yOff, int row0, int rows, int cout, float[] bias, int biasOff,
                                   ChannelEpilogue epilogue) {
        if (bias != null) {
            VectorOps.addRowBias(y, yOff + row0 * cout, rows, cout, cout, bias, biasOff);
        }
        if (epilogue != null) {
            epilogue.apply(y, yOff + row0 * cout, rows, cout, cout, 0);
        }
    }

    /**
     * dx = ∂L/∂x given dy = ∂L/∂y: the transposed convolution of dy with w (dx += that when accumulating).
     *
     * @param dy output gradient: [N, OH, OW, Cout] from dyOff
     * @param w  weight: [KH, KW, Cin/groups, Cout] from wOff
     * @param dx input gradient: [N, H, W, Cin] from dxOff
     */
    public static void backwardData(Conv2dShape s, float[] dy, int dyOff, float[] w, int wOff,
                                    float[] dx, int dxOff, boolean accumulate) {
        Conv2dShape.checkArray("dy", dy, dyOff, s.outputSize());
        Conv2dShape.checkArray("w", w, wOff, s.weightSize());
        Conv2dShape.checkArray("dx", dx, dxOff, s.inputSize());
        int cin = s.inChannels();
        int cout = s.outChannels();
        int cg = s.inPerGroup();
        int og = s.outPerGroup();
        if (s.isPointwise()) {
            int pixels = s.batch() * s.height() * s.width();
            for (int g = 0; g < s.groups(); g++) {
                // dx[:, g·cg : (g+1)·cg] = dy[:, g·og : (g+1)·og] · w_g^T, w_g: [cg, og] with row stride Cout
                Sgemm.sgemm(false, true, pixels, cg, og, 1f, dy, dyOff + g * og, cout,
                        w, wOff + g * og, cout, accumulate ? 1f : 0f, dx, dxOff + g * cg, cin);
            }
            return;
        }
        int depth = Im2col.depth(s);
        int imagePixels = s.outHeight() * s.outWidth();
        int imageSize = s.height() * s.width() * cin;
        int blockRows = blockRows(depth, imagePixels, 1);
        // One image per task: folding writes overlapping windows, which must not race; images are disjoint.
        CpuThreads.parallelFor(0, s.batch(), 1, (from, to) -> {
            for (int n = from; n < to; n++) {
                if (!accumulate) {
                    Arrays.fill(dx, dxOff + n * imageSize, dxOff + (n + 1) * imageSize, 0f);
                }
                for (int row0 = n * imagePixels; row0 < (n + 1) * imagePixels; row0 += blockRows) {
                    int rows = Math.min(blockRows, (n + 1) * imagePixels - row0);
                    float[] col = COLUMNS.floats(rows * depth); // col: [rows, KH, KW, cg]
                    for (int g = 0; g < s.groups(); g++) {
                        // col = dy_block[:, g·og : (g+1)·og] · w_g^T, w_g: [depth, og] with row stride Cout
                        Sgemm.sgemm(false, true, rows, depth, og, 1f, dy, dyOff + row0 * cout + g * og, cout,
                                w, wOff + g * og, cout, 0f, col, 0, depth);
                        Im2col.fold(s, col, g, row0, rows, dx, dxOff);
                    }
                }
            }
        });
    }

    /**
     * dw = ∂L/∂w given x and dy (dw += that when accumulating).
     *
     * @param x  input: [N, H, W, Cin] from xOff
     * @param dy output gradient: [N, OH, OW, Cout] from dyOff
     * @param dw weight gradient: [KH, KW, Cin/groups, Cout] from dwOff
     */
    public static void backwardWeight(Conv2dShape s, float[] x, int xOff, float[] dy, int dyOff,
                                      float[] dw, int dwOff, boolean accumulate) {
        Conv2dShape.checkArray("x", x, xOff, s.inputSize());
        Conv2dShape.checkArray("dy", dy, dyOff, s.outputSize());
        Conv2dShape.checkArray("dw", dw, dwOff, s.weightSize());
        int pixels = s.batch() * s.outHeight() * s.outWidth();
        int partials = weightPartials(s, pixels);
        if (partials == 1) {
            weightGradientRows(s, x, xOff, dy, dyOff, 0, pixels, dw, dwOff, accumulate);
            return;
        }
        // The sum over pixels is split into a fixed number of partial gradients computed in parallel (the
        // weight is too small a product to keep two threads busy), then added in order: the count depends on
        // the shape only, so the result does not depend on the thread count or timing.
        int weightSize = (int) s.weightSize();
        sumOfPartials(pixels, partials, weightSize, (p, row0, row1, sums) -> weightGradientRows(s, x, xOff, dy, dyOff,
                row0, row1, sums, p * weightSize, false), dw, dwOff, accumulate);
    }

    /** One partial weight gradient: {@code sums[p · weightSize …]} overwritten with the sum over rows [row0, row1). */
    @FunctionalInterface
    interface PartialGradient {
        void compute(int p, int row0, int row1, float[] sums);
    }

    /**
     * dw (+)= the sum of {@code partials} partial weight gradients, each over its run of {@code pixels} cut into
     * equal runs (the last shorter), computed in parallel into a [partials, weightSize] scratch taken on the calling
     * thread (so that a MemoryScope open there recycles it), then added in partial order.
     */
    static void sumOfPartials(int pixels, int partials, int weightSize, PartialGradient partial, float[] dw,
                              int dwOff, boolean accumulate) {
        int rowsPerPartial = (pixels + partials - 1) / partials;
        float[] sums = CpuStorage.allocateUninitialized(partials * weightSize).floats();
        CpuThreads.parallelFor(0, partials, 1, (from, to) -> {
            for (int p = from; p < to; p++) {
                int row0 = Math.min(pixels, p * rowsPerPartial);
                int row1 = Math.min(pixels, row0 + rowsPerPartial);
                if (row0 == row1) {
                    Arrays.fill(sums, p * weightSize, (p + 1) * weightSize, 0f); // no rows: nothing overwrites it
                }
                partial.compute(p, row0, row1, sums);
            }
        });
        if (!accumulate) {
            System.arraycopy(sums, 0, dw, dwOff, weightSize);
        }
        for (int p = accumulate ? 0 : 1; p < partials; p++) {
            VectorOps.addInto(sums, p * weightSize, dw, dwOff, weightSize);
        }
    }

    /** dw (+)= the weight gradient of output pixels [row0, row1). */
    private static void weightGradientRows(Conv2dShape s, float[] x, int xOff, float[] dy, int dyOff,
                                           int row0, int row1, float[] dw, int dwOff, boolean accumulate) {
        int cin = s.inChannels();
        int cout = s.outChannels();
        int cg = s.inPerGroup();
        int og = s.outPerGroup();
        if (s.isPointwise()) {
            for (int g = 0; g < s.groups(); g++) {
                // dw_g[cg, og] (+)= x[rows, g·cg : (g+1)·cg]^T · dy[rows, g·og : (g+1)·og]
                productOverRows(cg, og, row1 - row0, x, xOff + row0 * cin + g * cg, cin,
                        dy, dyOff + row0 * cout + g * og, cout, dw, dwOff + g * og, cout, accumulate);
            }
            return;
        }
        int depth = Im2col.depth(s);
        // Blocks run one after another (their products sum into the same dw).
        int blockRows = blockRows(depth, row1 - row0, 1);
        if (SmallChannelWeightGradient.handles(s)) {
            // An image stem: the same sums without unfolding.
            SmallChannelWeightGradient.rows(s, x, xOff, dy, dyOff, row0, row1, blockRows, dw, dwOff, accumulate);
            return;
        }
        unfoldedWeightGradientRows(s, x, xOff, dy, dyOff, row0, row1, blockRows, dw, dwOff, accumulate);
    }

    /**
     * {@link #weightGradientRows} of a convolution that is not 1×1 by unfolding blocks of {@code blockRows} pixels
     * and multiplying them; what {@link SmallChannelWeightGradient} must match (and its tests call).
     */
    static void unfoldedWeightGradientRows(Conv2dShape s, float[] x, int xOff, float[] dy, int dyOff, int row0,
                                           int row1, int blockRows, float[] dw, int dwOff, boolean accumulate) {
        int depth = Im2col.depth(s);
        int cout = s.outChannels();
        int og = s.outPerGroup();
        for (int block = row0; block < row1; block += blockRows) {
            int rows = Math.min(blockRows, row1 - block);
            float[] col = COLUMNS.floats(rows * depth); // col: [rows, KH, KW, cg]
            boolean add = accumulate || block > row0;
            for (int g = 0; g < s.groups(); g++) {
                Im2col.unfold(s, x, xOff, g, block, rows, col);
                // dw_g[depth, og] (+)= col^T · dy_block[:, g·og : (g+1)·og]
                productOverRows(depth, og, rows, col, 0, depth, dy, dyOff + block * cout + g * og, cout,
                        dw, dwOff + g * og, cout, add);
            }
        }
    }

    /**
     * out[m, n] (+)= aᵀ · b, summing over rows. Sgemm reads a transposed A in place and packs B. When m &gt; n and n
     * is narrower than two of the kernel's column panels (16 to 40 output channels), most tiles would be edge tiles,
     * so the product is computed as bᵀ · a into a small scratch [n, m] and added transposed; otherwise as it stands.
     * Without accumulation both give the same bits (the same products summed in the same order). The transposed form
     * for every m &gt; n dates from when Sgemm packed a transposed A element by element; for a wide n it packed the
     * larger operand and transposed the result on one thread (B0's 7² × 1152 → 320 weight gradient at batch 8:
     * 2.4–2.8 ms, 1.2–1.4 as it stands).
     *
     * @param a   [rows, m] with row stride lda, from aOff
     * @param b   [rows, n] with row stride ldb, from bOff
     * @param out [m, n] with row stride ldOut, from outOff
     */
    static void productOverRows(int m, int n, int rows, float[] a, int aOff, int lda,
                                float[] b, int bOff, int ldb,
                                float[] out, int outOff, int ldOut, boolean accumulate) {
        if (m <= n || n >= 2 * SgemmMicroKernel.NR) {
            Sgemm.sgemm(true, false, m, n, rows, 1f, a, aOff, lda, b, bOff, ldb, accumulate ? 1f : 0f,
                    out, outOff, ldOut);
            return;
        }
        float[] transposed = TRANSPOSED.floats(n * m); // [n, m]
        Sgemm.sgemm(true, false, n, m, rows, 1f, b, bOff, ldb, a, aOff, lda, 0f, transposed, 0, m);
        for (int i = 0; i < m; i++) {
            int row = outOff + i * ldOut;
            for (int j = 0; j < n; j++) {
                out[row + j] = (accumulate ? out[row + j] : 0f) + transposed[j * m + i];
            }
        }
    }

    /**
     * How many partial weight gradients to sum: one per {@value #ROWS_PER_WEIGHT_PARTIAL} output pixels, at most
     * {@value #MAX_WEIGHT_PARTIALS}, all of them within four workspaces ({@value #WORKSPACE_FLOATS} floats each), and a
     * power of two, so that two, four or eight threads share them evenly. The count follows the shape only (the sums
     * must not depend on the thread count); three partials (B0's 28² layers at batch 8: 6,272 pixels) kept one of
     * two threads busy a third of the time alone, and two ran those products 15–30 % faster (bench/NOTES.md).
     */
    static int weightPartials(Conv2dShape s, int pixels) {
        long byRows = pixels / ROWS_PER_WEIGHT_PARTIAL;
        long byMemory = 4L * WORKSPACE_FLOATS / s.weightSize();
        return Integer.highestOneBit((int) Math.max(1, Math.min(MAX_WEIGHT_PARTIALS, Math.min(byRows, byMemory))));
    }

    /** Rows per unfolded block: within the workspace bound, and cut into about {@code wantedBlocks} pieces. */
    private static int blockRows(int depth, int pixels, int wantedBlocks) {
        int byWorkspace = Math.max(1, WORKSPACE_FLOATS / depth);
        int bySplit = Math.max(MIN_BLOCK_ROWS, (pixels + wantedBlocks - 1) / wantedBlocks);
        return Math.max(1, Math.min(Math.min(byWorkspace, bySplit), pixels));
    }
}
