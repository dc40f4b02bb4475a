package dev.vertebra.core.cpu;

/**
 * Both gradients of a 1×1 convolution whose output x feeds a training batch norm, from the batch norm's output
 * gradient dy: the batch norm's input gradient dx (the convolution's output gradient) is made a block of rows at a
 * time in L2 ({@link FloatBatchNorm.InputGradient}) and both products read it there, so dx is never written whole.
 * Apart, the batch norm's last pass reads dy and x and writes dx, and the two products read dx again: three passes
 * over x's size more (an inverted bottleneck's expansion, its widest tensor).
 *
 * <p>The same bits as the batch norm's {@link FloatBatchNorm#finishBackward} and then
 * {@link Conv2dGemm#backwardData} and {@link Conv2dGemm#backwardWeight}: dx by the same element formula; each input
 * gradient row sums over Cout in the same K blocks; the weight gradient is cut into the same partials
 * ({@link Conv2dGemm#weightPartials}), each a run of blocks whose rows are whole multiples of {@link Sgemm#KC}
 * from the partial's start, so its K blocks, and the order they add in, are a single product's.
 */
final class PointwiseBatchNormBackward {
    /** About 512 KiB of dx rows a block, rounded down to whole K blocks (at least one). */
    private static final int BLOCK_FLOATS = 128 << 10;
    private static final ThreadScratch BLOCK = new ThreadScratch();

    private PointwiseBatchNormBackward() {
    }

    /**
     * Whether {@link #backward} takes the convolution: 1×1, stride 1, unpadded and ungrouped, with a weight gradient
     * of two partials or more, which keep two threads busy (smaller maps are in cache anyway), whose products
     * {@link Conv2dGemm#productOverRows} takes as they stand (its transposed form adds each call's sum to the
     * last, which would add a block's K blocks in another order than one product does).
     */
    static boolean handles(Conv2dShape s) {
        return s.isPointwise() && s.groups() == 1
                && (s.inChannels() <= s.outChannels() || s.outChannels() >= 2 * SgemmMicroKernel.NR)
                && Conv2dGemm.weightPartials(s, s.batch() * s.height() * s.width()) >= 2;
    }

    /**
     * @param s        the convolution, {@link #handles} it: input [N, H, W, Cin] → x [N, H, W, Cout]
     * @param input    its input, from inOff
     * @param w        its weight [1, 1, Cin, Cout], from wOff
     * @param dy       the batch norm's output gradient, [N, H, W, Cout] from dyOff
     * @param x        the batch norm's input (the convolution's output), [N, H, W, Cout] from xOff
     * @param gradient the batch norm's dx from dy and x
     * @param dInput   [N, H, W, Cin] from 0, overwritten
     * @param dw       [1, 1, Cin, Cout] from 0, overwritten
     */
    static void backward(Conv2dShape s, float[] input, int inOff, float[] w, int wOff, float[] dy, int dyOff,
                         float[] x, int xOff, FloatBatchNorm.InputGradient gradient, float[] dInput, float[] dw) {
        if (!handles(s)) {
            throw new IllegalArgumentException("not a 1×1 convolution over enough pixels for this pass: " + s);
        }
        int cin = s.inChannels();
        int cout = s.outChannels();
        int pixels = s.batch() * s.height() * s.width();
        Conv2dShape.checkArray("input", input, inOff, s.inputSize());
        Conv2dShape.checkArray("w", w, wOff, s.weightSize());
        Conv2dShape.checkArray("dy", dy, dyOff, s.outputSize());
        Conv2dShape.checkArray("x", x, xOff, s.outputSize());
        Conv2dShape.checkArray("dInput", dInput, 0, s.inputSize());
        Conv2dShape.checkArray("dw", dw, 0, s.weightSize());
        if (gradient.c() != cout) {
            throw new IllegalArgumentException("batch norm of " + gradient.c() + " channels after " + s);
        }
        // wᵀ: [Cout, Cin] as the input gradient's B, packed once for every block.
        Sgemm.PackedB wT = Sgemm.packB(true, cout, cin, w, wOff, cout,
                new float[(int) Sgemm.packedSize(cout, cin)]);
        int weightSize = cin * cout;
        int blockRows = Sgemm.KC * Math.max(1, BLOCK_FLOATS / (Sgemm.KC * cout));
        Conv2dGemm.sumOfPartials(pixels, Conv2dGemm.weightPartials(s, pixels), weightSize, (p, row0, row1, sums) -> {
            for (int r0 = row0; r0 < row1; r0 += blockRows) {
                int rows = Math.min(blockRows, row1 - r0);
                float[] block = BLOCK.floats(rows * cout); // dx rows [r0, r0 + rows): [rows, Cout]
                gradient.rows(dy, dyOff, x, xOff, r0, r0 + rows, block, 0);
                // dInput[r0 : r0 + rows] = block · wᵀ
                Sgemm.sgemm(rows, cin, cout, block, 0, cout, wT, dInput, r0 * cin, cin, null);
                // sums[p] (+)= input[r0 : r0 + rows]ᵀ · block
                Conv2dGemm.productOverRows(cin, cout, rows, input, inOff + r0 * cin, cin, block, 0, cout, sums,
                        p * weightSize, cout, r0 > row0);
            }
        }, dw, 0, false);
    }
}
