package dev.vertebra.cuda;

import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.DType;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * NHWC convolutions with HWIO weights ({@code [KH, KW, Cin/groups, Cout]}) on the GPU, float32:
 * <ul>
 *   <li>1×1, stride 1, no padding, one group: a single GEMM {@code [N·H·W, Cin] × [Cin, Cout]} (no copy), also on
 *       float16 and bfloat16 data;</li>
 *   <li>depthwise (groups = Cin): direct kernels, where a GEMM's inner dimension would be only KH·KW;</li>
 *   <li>anything else: im2col into a {@code [rows, KH·KW·Cin/groups]} buffer, then cuBLAS per group, in batch
 *       chunks that bound the buffer to {@value #COLUMN_LIMIT} floats.</li>
 * </ul>
 * Backward input multiplies by the weight's transpose and folds the columns back (col2im, a gather: no
 * atomics); backward weight accumulates {@code colsᵀ · dy} over chunks with beta = 1.
 */
final class ConvolutionOps {
    private static final long COLUMN_LIMIT = 32L << 20;
    /** The most blocks in a grid's y dimension. */
    private static final int MAX_GRID_Y = 65535;
    /** Blocks of the depthwise weight gradient: a few per multiprocessor on current GPUs (about 130 of them). */
    private static final int WEIGHT_GRADIENT_BLOCKS = 1024;

    private final CudaBackend backend;

    ConvolutionOps(CudaBackend backend) {
        this.backend = backend;
    }

    /** Sizes of one convolution; {@link #fields()} is the kernels' {@code VxConv} struct. */
    private record Geometry(int n, int h, int w, int cin, int kh, int kw, int cpg, int cout, int oh, int ow,
                            ConvSpec spec) {
        static Geometry of(Shape x, Shape weight, ConvSpec spec) {
            if (x.rank() != 4 || weight.rank() != 4) {
                throw new IllegalArgumentException("conv2d wants x [N, H, W, Cin] and w [KH, KW, Cin/groups, Cout], got "
                        + x + " and " + weight);
            }
            return new Geometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3), weight.dim(0), weight.dim(1), weight.dim(2),
                    weight.dim(3), spec.outHeight(x.dim(1), weight.dim(0)), spec.outWidth(x.dim(2), weight.dim(1)), spec);
        }

        int[] fields() {
            return new int[]{n, h, w, cin, kh, kw, cpg, cout, oh, ow, spec.strideH(), spec.strideW(), spec.padTop(),
                    spec.padLeft(), spec.dilationH(), spec.dilationW()};
        }

        int groups() {
            return spec.groups();
        }

        int coutPerGroup() {
            return cout / spec.groups();
        }

        /** Columns of the im2col matrix: one per (ky, kx, input channel of the group). */
        int columns() {
            return kh * kw * cpg;
        }

        boolean depthwise() {
            return spec.groups() > 1 && spec.groups() == cin && cpg == 1 && cout % cin == 0;
        }

        int sh() {
            return spec.strideH();
        }

        /**
         * True when the run kernels take this depthwise convolution at the given stride: 3×3 or 5×5, the same
         * stride (1 or 2) both ways, no dilation, no channel multiplier.
         */
        boolean runs(int stride) {
            return depthwise() && square3or5() && cout == cin && (stride == 1 || stride == 2)
                    && spec.strideH() == stride && spec.strideW() == stride && spec.dilationH() == 1
                    && spec.dilationW() == 1;
        }

        /** 3×3 or 5×5: the depthwise kernels with the weights in registers. */
        boolean square3or5() {
            return kh == kw && (kh == 3 || kh == 5);
        }

        /** Images per im2col chunk. */
        int chunk() {
            long perImage = Math.max(1L, (long) oh * ow * columns());
            return (int) Math.max(1, Math.min(n, COLUMN_LIMIT / perImage));
        }
    }

    /** Depthwise (one input channel per group, Cout a multiple of Cin) for weights [KH, KW, Cin/groups, Cout]. */
    static boolean depthwise(Shape w, ConvSpec spec) {
        return spec.groups() > 1 && w.rank() == 4 && w.dim(2) == 1 && w.dim(3) % spec.groups() == 0;
    }

    /** Blocks of 32 channels: the depthwise kernels' grid x. */
    private static int channelBlocks(int channels) {
        return (channels + 31) / 32;
    }

    /** One block per image row where the grid allows; the kernels stride over the rest. */
    private static int rowBlocks(int n, int rows) {
        return (int) Math.max(1, Math.min((long) n * rows, MAX_GRID_Y));
    }

    /**
     * True when the depthwise kernels take these operands as they are: float32, or one 16-bit type for both (summed
     * in float; a weight gradient comes back float32).
     */
    private static boolean depthwiseTypes(Tensor a, Tensor b) {
        return a.dtype() == b.dtype() && (a.dtype() == DType.FLOAT32 || KernelTypes.isLow(a));
    }

    private static void requireFloat(String op, Tensor... ts) {
        for (Tensor t : ts) {
            KernelTypes.suffix(op, t.dtype(), false);
        }
    }

    private void gemm(int m, int n, int k, Cublas.Operand a, Cublas.Operand b, double beta, long c, int ldc) {
        gemm(DType.FLOAT32, m, n, k, a, b, beta, c, ldc);
    }

    /** One row-major GEMM on float32 data, or on 16-bit data with float32 accumulation. */
    private void gemm(DType type, int m, int n, int k, Cublas.Operand a, Cublas.Operand b, double beta, long c,
                      int ldc) {
        MemorySegment handle = backend.blasHandle();
        backend.context().makeCurrent();
        if (type == DType.FLOAT32) {
            backend.cublas().gemm(handle, false, 1, m, n, k, 1, a, b, beta, c, ldc, 0);
        } else {
            backend.cublas().gemmHalf(handle, type == DType.BFLOAT16, 1, m, n, k, 1, a, b, beta, c, ldc, 0);
        }
    }

    /**
     * Whether {@code a} and {@code b} (the two data operands of a direction) with weights {@code w} run here as one
     * GEMM on the tensors as they are: a 1×1 convolution with stride 1, no padding and one group, both operands
     * float32, or both float16 or both bfloat16 (cuBLAS accumulates those in float32).
     */
    static boolean pointwise(Tensor a, Tensor b, Shape w, ConvSpec spec) {
        DType t = a.dtype();
        return t == b.dtype() && (t == DType.FLOAT32 || t == DType.FLOAT16 || t == DType.BFLOAT16) && a.rank() == 4
                && pointwise(w, spec);
    }

    /** 1×1, stride 1, no padding, one group (weights [1, 1, Cin, Cout]). */
    static boolean pointwise(Shape w, ConvSpec spec) {
        return w.rank() == 4 && w.dim(0) == 1 && w.dim(1) == 1 && spec.strideH() == 1 && spec.strideW() == 1
                && spec.padTop() == 0 && spec.padBottom() == 0 && spec.padLeft() == 0 && spec.padRight() == 0
                && spec.groups() == 1;
    }

    /**
     * One direction of a pointwise convolution as one GEMM on the tensors as they are: {@code out [m, n] = op(a) ·
     * op(b)} (row-major, {@code op(a)} {@code [m, k]}), written whole (beta = 0) into an uninitialised result of
     * {@code a}'s type; zeros when the inner dimension {@code k} is empty. With x {@code [M = N·H·W, Cin]}, w
     * {@code [Cin, Cout]}: forward y = x·w, data gradient dx = dy·wᵀ, weight gradient dw = xᵀ·dy.
     */
    private Tensor pointwiseGemm(Shape outShape, int m, int n, int k, Tensor a, boolean aTransposed, int lda, Tensor b,
                                 boolean bTransposed, int ldb) {
        DType type = a.dtype();
        if (outShape.numel() == 0 || k == 0) {
            return backend.zeros(outShape, type);
        }
        Tensor ad = backend.dense(a);
        Tensor bd = backend.dense(b);
        Tensor out = backend.empty(outShape, type);
        gemm(type, m, n, k, new Cublas.Operand(backend.address(ad), aTransposed, lda, 0),
                new Cublas.Operand(backend.address(bd), bTransposed, ldb, 0), 0, backend.address(out), n);
        return out;
    }

    Tensor forward(Tensor x, Tensor w, ConvSpec spec) {
        Geometry g = Geometry.of(x.shape(), w.shape(), spec);
        if (pointwise(x, w, w.shape(), spec)) {
            return pointwiseGemm(Shape.of(g.n(), g.oh(), g.ow(), g.cout()), g.n() * g.h() * g.w(), g.cout(), g.cin(),
                    x, false, g.cin(), w, false, g.cout());
        }
        boolean direct = g.depthwise() && depthwiseTypes(x, w);
        if (!direct) {
            requireFloat("conv2d", x, w);
        }
        Tensor xd = backend.dense(x);
        Tensor wd = backend.dense(w);
        Shape yShape = Shape.of(g.n(), g.oh(), g.ow(), g.cout());
        if (yShape.numel() == 0) {
            return backend.zeros(yShape, x.dtype());
        }
        long px = backend.address(xd);
        long pw = backend.address(wd);
        if (direct) {
            Tensor y = backend.empty(yShape, x.dtype());
            long py = backend.address(y);
            String type = KernelTypes.elementwiseSuffix("conv2d", x.dtype());
            if (backend.depthwiseRuns() && g.runs(g.sh())) {
                // out = y [n, oh, ow, c], in = x [n, h, w, c], the convolution's own pads.
                backend.kernels().launch("conv", "depthwise_run_k" + g.kh() + "_s" + g.sh() + "_" + type,
                        channelBlocks(g.cout()), rowBlocks(g.n(), g.oh()), 1, 32, 8, 0,
                        a -> a.pointer(py).pointer(px).pointer(pw).ints(g.n(), g.h(), g.w(), g.cin(), g.oh(), g.ow(),
                                g.spec().padTop(), g.spec().padLeft()));
                return y;
            }
            String kernel = g.square3or5() ? "depthwise_forward_k" + g.kh() + "_" + type : "depthwise_forward_" + type;
            backend.kernels().launch("conv", kernel, channelBlocks(g.cout()),
                    rowBlocks(g.n(), g.oh()), 1, 32, 8, 0, a -> a.pointer(py).pointer(px).pointer(pw).ints(g.fields()));
            return y;
        }
        Tensor y = backend.zeros(yShape, DType.FLOAT32);
        long py = backend.address(y);
        int k = g.columns();
        if (k == 0) {
            return y;
        }
        int chunk = g.chunk();
        Tensor cols = backend.empty(Shape.of(chunk * g.oh() * g.ow(), k), DType.FLOAT32);
        long pc = backend.address(cols);
        int cpgOut = g.coutPerGroup();
        for (int group = 0; group < g.groups(); group++) {
            int grp = group;
            for (int n0 = 0; n0 < g.n(); n0 += chunk) {
                int first = n0;
                int nb = Math.min(chunk, g.n() - n0);
                backend.kernels().launch1d("conv", "im2col_f32", (long) nb * g.oh() * g.ow() * k,
                        a -> a.pointer(pc).pointer(px).ints(g.fields()).i32(first).i32(nb).i32(grp));
                int rows = nb * g.oh() * g.ow();
                gemm(rows, cpgOut, k, new Cublas.Operand(pc, false, k, 0),
                        new Cublas.Operand(pw + 4L * group * cpgOut, false, g.cout(), 0), 0,
                        py + 4L * ((long) n0 * g.oh() * g.ow() * g.cout() + (long) group * cpgOut), g.cout());
            }
        }
        return y;
    }

    Tensor backwardInput(Tensor dy, Tensor w, Shape xShape, ConvSpec spec) {
        Geometry g = Geometry.of(xShape, w.shape(), spec);
        if (pointwise(dy, w, w.shape(), spec)) {
            return pointwiseGemm(xShape, g.n() * g.h() * g.w(), g.cin(), g.cout(), dy, false, g.cout(), w, true,
                    g.cout());
        }
        boolean direct = g.depthwise() && depthwiseTypes(dy, w);
        if (!direct) {
            requireFloat("conv2dBackwardInput", dy, w);
        }
        Tensor dyd = backend.dense(dy);
        Tensor wd = backend.dense(w);
        if (xShape.numel() == 0) {
            return backend.zeros(xShape, dy.dtype());
        }
        long pdy = backend.address(dyd);
        long pw = backend.address(wd);
        if (direct) {
            Tensor dx = backend.empty(xShape, dy.dtype());
            long pdx = backend.address(dx);
            String type = KernelTypes.elementwiseSuffix("conv2dBackwardInput", dy.dtype());
            if (backend.depthwiseRuns() && g.runs(1)) {
                // The stride-1 data gradient as a correlation of dy with the flipped taps: out = dx [n, h, w, c],
                // in = dy [n, oh, ow, c], pads K − 1 − the convolution's.
                backend.kernels().launch("conv", "depthwise_run_flip_k" + g.kh() + "_" + type,
                        channelBlocks(g.cin()), rowBlocks(g.n(), g.h()), 1, 32, 8, 0,
                        a -> a.pointer(pdx).pointer(pdy).pointer(pw).ints(g.n(), g.oh(), g.ow(), g.cin(), g.h(), g.w(),
                                g.kh() - 1 - g.spec().padTop(), g.kw() - 1 - g.spec().padLeft()));
                return dx;
            }
            String kernel = g.square3or5() && g.cout() == g.cin() ? "depthwise_backward_input_k" + g.kh() + "_" + type
                    : "depthwise_backward_input_" + type;
            backend.kernels().launch("conv", kernel, channelBlocks(g.cin()),
                    rowBlocks(g.n(), g.h()), 1, 32, 8, 0,
                    a -> a.pointer(pdx).pointer(pdy).pointer(pw).ints(g.fields()));
            return dx;
        }
        Tensor dx = backend.zeros(xShape, DType.FLOAT32);
        long pdx = backend.address(dx);
        int k = g.columns();
        if (k == 0 || g.oh() <= 0 || g.ow() <= 0 || g.cout() == 0) {
            return dx;
        }
        int chunk = g.chunk();
        Tensor dcols = backend.empty(Shape.of(chunk * g.oh() * g.ow(), k), DType.FLOAT32);
        long pc = backend.address(dcols);
        int cpgOut = g.coutPerGroup();
        for (int group = 0; group < g.groups(); group++) {
            int grp = group;
            for (int n0 = 0; n0 < g.n(); n0 += chunk) {
                int first = n0;
                int nb = Math.min(chunk, g.n() - n0);
                int rows = nb * g.oh() * g.ow();
                // dcols [rows, K] = dy_g [rows, Cout/g] × W_gᵀ, W_g = w[K, group's Cout/g columns].
                gemm(rows, k, cpgOut,
                        new Cublas.Operand(pdy + 4L * ((long) n0 * g.oh() * g.ow() * g.cout() + (long) group * cpgOut),
                                false, g.cout(), 0),
                        new Cublas.Operand(pw + 4L * group * cpgOut, true, g.cout(), 0), 0, pc, k);
                backend.kernels().launch1d("conv", "col2im_f32", (long) nb * g.h() * g.w() * g.cpg(),
                        a -> a.pointer(pdx).pointer(pc).ints(g.fields()).i32(first).i32(nb).i32(grp));
            }
        }
        return dx;
    }

    Tensor backwardWeight(Tensor x, Tensor dy, Shape wShape, ConvSpec spec) {
        Geometry g = Geometry.of(x.shape(), wShape, spec);
        if (pointwise(x, dy, wShape, spec)) {
            return pointwiseGemm(wShape, g.cin(), g.cout(), g.n() * g.h() * g.w(), x, true, g.cin(), dy, false,
                    g.cout());
        }
        boolean direct = g.depthwise() && depthwiseTypes(x, dy);
        if (!direct) {
            requireFloat("conv2dBackwardWeight", x, dy);
        }
        Tensor xd = backend.dense(x);
        Tensor dyd = backend.dense(dy);
        Tensor dw = backend.zeros(wShape, DType.FLOAT32);
        long positions = (long) g.n() * g.oh() * g.ow();
        if (wShape.numel() == 0 || positions <= 0) {
            return dw;
        }
        long px = backend.address(xd);
        long pdy = backend.address(dyd);
        long pdw = backend.address(dw);
        String type = KernelTypes.elementwiseSuffix("conv2dBackwardWeight", x.dtype());
        if (direct && g.square3or5()) {
            // Row slices: about WEIGHT_GRADIENT_BLOCKS blocks in all, each adding its partial sums once.
            int slices = (int) Math.min((long) g.n() * g.oh(),
                    Math.max(1, WEIGHT_GRADIENT_BLOCKS / channelBlocks(g.cout())));
            backend.kernels().launch("conv", "depthwise_backward_weight_k" + g.kh() + "_" + type,
                    channelBlocks(g.cout()), slices, 1, 32, 8, 0,
                    a -> a.pointer(pdw).pointer(px).pointer(pdy).ints(g.fields()));
            return dw;
        }
        if (direct) {
            int split = (int) Math.max(1, Math.min(64, (positions + 4095) / 4096));
            backend.kernels().launch("conv", "depthwise_backward_weight_" + type, (g.cout() + 31) / 32, g.kh() * g.kw(),
                    split, 32, 8, 0, a -> a.pointer(pdw).pointer(px).pointer(pdy).ints(g.fields()));
            return dw;
        }
        int k = g.columns();
        int chunk = g.chunk();
        Tensor cols = backend.empty(Shape.of(chunk * g.oh() * g.ow(), k), DType.FLOAT32);
        long pc = backend.address(cols);
        int cpgOut = g.coutPerGroup();
        for (int group = 0; group < g.groups(); group++) {
            int grp = group;
            for (int n0 = 0; n0 < g.n(); n0 += chunk) {
                int first = n0;
                int nb = Math.min(chunk, g.n() - n0);
                int rows = nb * g.oh() * g.ow();
                backend.kernels().launch1d("conv", "im2col_f32", (long) rows * k,
                        a -> a.pointer(pc).pointer(px).ints(g.fields()).i32(first).i32(nb).i32(grp));
                // dw_g [K, Cout/g] += colsᵀ [K, rows] × dy_g [rows, Cout/g].
                gemm(k, cpgOut, rows, new Cublas.Operand(pc, true, k, 0),
                        new Cublas.Operand(pdy + 4L * ((long) n0 * g.oh() * g.ow() * g.cout() + (long) group * cpgOut),
                                false, g.cout(), 0),
                        1, pdw + 4L * group * cpgOut, g.cout());
            }
        }
        return dw;
    }
}
