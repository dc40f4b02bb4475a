package dev.vertebra.cuda;

import dev.vertebra.core.Backend.BatchNormGrads;
import dev.vertebra.core.Backend.BatchNormResult;
import dev.vertebra.core.DType;
import dev.vertebra.core.PoolSpec;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

import java.lang.ref.Reference;
import java.util.function.Consumer;

/**
 * Per-channel ops over NHWC activations on the GPU: pooling (float32, forward and backward) and batch norm with
 * batch statistics (forward and backward, alone or fused with the SiLU after it) on the column kernels
 * ({@link ColumnSums}: float32 or 16-bit activations, float32 statistics and parameters, sums in double), or on the
 * legacy two-pass kernels with atomics when those are switched on for an A/B. On the column kernels, batch norm's
 * per-element passes come in two kinds: double arithmetic around correctly rounded float SiLUs (the default), or float
 * arithmetic with CUDA's fast-math e^x and division ({@link CudaBackend#fastBatchNorm}, the CPU backend's fast path).
 */
final class ChannelOps {
    private final CudaBackend backend;
    private final ColumnSums columns;

    ChannelOps(CudaBackend backend) {
        this.backend = backend;
        this.columns = new ColumnSums(backend);
    }

    private static int[] poolFields(Shape x, PoolSpec s) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException("pooling wants x [N, H, W, C], got " + x);
        }
        return new int[]{x.dim(0), x.dim(1), x.dim(2), x.dim(3), s.outHeight(x.dim(1)), s.outWidth(x.dim(2)),
                s.kernelH(), s.kernelW(), s.strideH(), s.strideW(), s.padTop(), s.padLeft(),
                s.countIncludePad() ? 1 : 0, s.max() ? 1 : 0};
    }

    Tensor pool(Tensor x, PoolSpec spec) {
        KernelTypes.suffix("pool2d", x.dtype(), false);
        int[] f = poolFields(x.shape(), spec);
        Shape yShape = Shape.of(f[0], f[4], f[5], f[3]);
        Tensor y = backend.empty(yShape, DType.FLOAT32);
        Tensor xd = backend.dense(x);
        long py = backend.address(y);
        long px = yShape.numel() == 0 ? 0 : backend.address(xd);
        backend.kernels().launch1d("pool", "pool_forward_f32", yShape.numel(), a -> a.pointer(py).pointer(px).ints(f));
        return y;
    }

    Tensor poolBackward(Tensor x, Tensor dy, PoolSpec spec) {
        KernelTypes.suffix("pool2dBackward", x.dtype(), false);
        KernelTypes.suffix("pool2dBackward", dy.dtype(), false);
        int[] f = poolFields(x.shape(), spec);
        Tensor dx = backend.empty(x.shape(), DType.FLOAT32);
        if (x.numel() == 0) {
            return dx;
        }
        Tensor xd = backend.dense(x);
        Tensor dyd = backend.dense(dy);
        long pdx = backend.address(dx);
        long px = backend.address(xd);
        long pdy = dy.numel() == 0 ? px : backend.address(dyd);
        backend.kernels().launch1d("pool", "pool_backward_f32", x.numel(),
                a -> a.pointer(pdx).pointer(px).pointer(pdy).ints(f));
        return dx;
    }

    /** Blocks of 32 channels × as many row slices as keep the GPU busy (partial sums meet in atomics). */
    private static int rowSplits(int rows) {
        return Math.max(1, Math.min(1024, (rows + 255) / 256));
    }

    /** True when the column kernels take a batch norm of x (float32 or 16-bit, with float32 parameters). */
    boolean columnBatchNorm(Tensor x) {
        return backend.columnKernels() && x.numel() > 0
                && (x.dtype() == DType.FLOAT32 || KernelTypes.isLow(x));
    }

    /**
     * Batch norm with batch statistics; {@code silu}: the output is silu(y) (statistics unchanged). x float32, or
     * 16-bit on the column kernels (the output in x's dtype); weight and bias float32.
     */
    BatchNormResult batchNorm(Tensor x, Tensor weight, Tensor bias, double eps, boolean silu) {
        for (Tensor t : new Tensor[]{weight, bias}) {
            KernelTypes.suffix("batchNorm", t.dtype(), false);
        }
        if (!columnBatchNorm(x)) {
            KernelTypes.suffix("batchNorm", x.dtype(), false);
            return legacyBatchNorm(x, weight, bias, eps, silu);
        }
        String type = KernelTypes.elementwiseSuffix("batchNorm", x.dtype());
        int c = x.dim(-1);
        int rows = x.numel() / c;
        Shape cs = Shape.of(c);
        Tensor xd = backend.dense(x);
        Tensor wd = backend.dense(weight);
        Tensor bd = backend.dense(bias);
        Tensor mean = backend.empty(cs, DType.FLOAT32);
        Tensor var = backend.empty(cs, DType.FLOAT32);
        Tensor invStd = backend.empty(cs, DType.FLOAT32);
        Tensor meanD = backend.empty(cs, DType.FLOAT64);
        Tensor invStdD = backend.empty(cs, DType.FLOAT64);
        Tensor y = backend.empty(x.shape(), x.dtype());
        long px = backend.address(xd);
        long py = backend.address(y);
        // x: [rows, c]; one pass for the moments, one to normalise.
        ColumnSums.Grid g = ColumnSums.Grid.of(1, rows, c, ColumnSums.aligned(px, py));
        Tensor partial = columns.partials(1, g, 2, c);
        long pp = backend.address(partial);
        columns.launch("batch_norm_moments_" + type, g, 1, rows, c, pp, a -> a.pointer(px), a -> { });
        long pMeanD = backend.address(meanD);
        long pInvD = backend.address(invStdD);
        long pw = backend.address(wd);
        long pb = backend.address(bd);
        Consumer<KernelArgs> statistics = a -> a.pointer(backend.address(mean)).pointer(backend.address(var))
                .pointer(backend.address(invStd)).pointer(pMeanD).pointer(pInvD).pointer(pp).pointer(px)
                .i32(g.slices()).i32(rows).i32(c).f64(eps);
        int v = g.vector();
        long vectors = x.numel() / v;
        int fused = silu ? 1 : 0;
        // The fast kernels: the finishing kernel also gives the float map y = x · scale + shift, [scale | shift].
        Tensor affine = backend.fastBatchNorm() ? backend.empty(Shape.of(2 * c), DType.FLOAT32) : null;
        if (affine != null) {
            long pScale = backend.address(affine);
            long pShift = pScale + (long) Float.BYTES * c;
            columns.finish("batch_norm_moments_finish_affine_" + type, 1, c,
                    statistics.andThen(a -> a.pointer(pw).pointer(pb).pointer(pScale).pointer(pShift)));
            columns.launchApply("batch_norm_apply_fast_" + type + "_v" + v, vectors, a -> a.pointer(py).pointer(px)
                    .pointer(pScale).pointer(pShift).i64(vectors).i32(c / v).i32(fused));
        } else {
            columns.finish("batch_norm_moments_finish_" + type, 1, c, statistics);
            columns.launchApply("batch_norm_apply_" + type + "_v" + v, vectors, a -> a.pointer(py).pointer(px)
                    .pointer(pMeanD).pointer(pInvD).pointer(pw).pointer(pb).i64(vectors).i32(c / v).i32(fused));
        }
        // The launches took raw addresses: no buffer may go back to the allocator before they are queued.
        Reference.reachabilityFence(xd);
        Reference.reachabilityFence(wd);
        Reference.reachabilityFence(bd);
        Reference.reachabilityFence(partial);
        Reference.reachabilityFence(meanD);
        Reference.reachabilityFence(invStdD);
        Reference.reachabilityFence(affine);
        return new BatchNormResult(y, mean, var, invStd);
    }

    private BatchNormResult legacyBatchNorm(Tensor x, Tensor weight, Tensor bias, double eps, boolean silu) {
        int c = x.dim(-1);
        int rows = c == 0 ? 0 : x.numel() / c;
        Shape cs = Shape.of(c);
        Tensor xd = backend.dense(x);
        Tensor wd = backend.dense(weight);
        Tensor bd = backend.dense(bias);
        Tensor meanD = backend.zeros(cs, DType.FLOAT64);
        Tensor squares = backend.zeros(cs, DType.FLOAT64);
        Tensor invStdD = backend.empty(cs, DType.FLOAT64);
        Tensor mean = backend.empty(cs, DType.FLOAT32);
        Tensor var = backend.empty(cs, DType.FLOAT32);
        Tensor invStd = backend.empty(cs, DType.FLOAT32);
        Tensor y = backend.empty(x.shape(), DType.FLOAT32);
        if (c == 0) {
            return new BatchNormResult(y, mean, var, invStd);
        }
        long px = rows == 0 ? 0 : backend.address(xd);
        long pMean = backend.address(meanD);
        long pSq = backend.address(squares);
        int gx = (c + 31) / 32;
        int gy = rowSplits(rows);
        KernelLibrary k = backend.kernels();
        if (rows > 0) {
            k.launch("norm", "channel_sums_f32", gx, gy, 1, 32, 8, 0,
                    a -> a.pointer(pMean).pointer(px).pointer(0).i32(rows).i32(c).i32(0));
        }
        k.launch1d("norm", "divide_f64", c, a -> a.pointer(pMean).i32(c).f64(rows));
        if (rows > 0) {
            k.launch("norm", "channel_sums_f32", gx, gy, 1, 32, 8, 0,
                    a -> a.pointer(pSq).pointer(px).pointer(pMean).i32(rows).i32(c).i32(1));
        }
        long pInvD = backend.address(invStdD);
        k.launch1d("norm", "batch_norm_stats_f32", c, a -> a.pointer(backend.address(mean)).pointer(backend.address(var))
                .pointer(backend.address(invStd)).pointer(pInvD).pointer(pMean).pointer(pSq).i32(rows).i32(c).f64(eps));
        if (rows > 0) {
            long total = x.numel();
            k.launch1d("norm", "batch_norm_apply_f32", total, a -> a.pointer(backend.address(y)).pointer(px)
                    .pointer(pMean).pointer(pInvD).pointer(backend.address(wd)).pointer(backend.address(bd))
                    .i64(total).i32(c).i32(silu ? 1 : 0));
        }
        return new BatchNormResult(y, mean, var, invStd);
    }

    /**
     * Gradients of {@link #batchNorm}; with {@code silu}, {@code dy} is the gradient of the SiLU's output and the
     * SiLU's derivative is recomputed from {@code x} inside the two passes ({@code bias} is needed only then, and
     * may be null otherwise).
     */
    BatchNormGrads batchNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor bias, Tensor mean, Tensor invStd,
                                     boolean silu) {
        for (Tensor t : new Tensor[]{weight, mean, invStd}) {
            KernelTypes.suffix("batchNormBackward", t.dtype(), false);
        }
        if (silu) {
            KernelTypes.suffix("batchNormBackward", bias.dtype(), false);
        }
        if (!columnBatchNorm(x) || dy.dtype() != x.dtype()) {
            KernelTypes.suffix("batchNormBackward", x.dtype(), false);
            KernelTypes.suffix("batchNormBackward", dy.dtype(), false);
            return legacyBatchNormBackward(dy, x, weight, bias, mean, invStd, silu);
        }
        String type = KernelTypes.elementwiseSuffix("batchNormBackward", x.dtype());
        int c = x.dim(-1);
        int rows = x.numel() / c;
        Shape cs = Shape.of(c);
        Tensor dx = backend.empty(x.shape(), x.dtype());
        Tensor dWeight = backend.empty(cs, DType.FLOAT32);
        Tensor dBias = backend.empty(cs, DType.FLOAT32);
        Tensor[] inputs = {backend.dense(dy), backend.dense(x), backend.dense(mean), backend.dense(invStd),
                backend.dense(weight), silu ? backend.dense(bias) : null};
        long pdy = backend.address(inputs[0]);
        long px = backend.address(inputs[1]);
        long pdx = backend.address(dx);
        long pMean = backend.address(inputs[2]);
        long pInv = backend.address(inputs[3]);
        long pw = backend.address(inputs[4]);
        long pb = silu ? backend.address(inputs[5]) : 0;
        int fused = silu ? 1 : 0;
        // dy, x: [rows, c]; one pass for the two sums, one for the data gradient.
        ColumnSums.Grid g = ColumnSums.Grid.of(1, rows, c, ColumnSums.aligned(pdy, px, pdx));
        Tensor partial = columns.partials(1, g, 2, c);
        long pp = backend.address(partial);
        boolean fast = backend.fastBatchNorm();
        columns.launch((fast ? "batch_norm_grad_sums_fast_" : "batch_norm_grad_sums_") + type, g, 1, rows, c, pp,
                a -> a.pointer(pdy).pointer(px).pointer(pMean).pointer(pInv).pointer(pw).pointer(pb),
                a -> a.i32(fused));
        int v = g.vector();
        long vectors = x.numel() / v;
        Tensor[] terms;
        if (fast) {
            // [weight · inv_std | Σg / rows | Σg·xhat / rows], float32.
            terms = new Tensor[]{backend.empty(Shape.of(3 * c), DType.FLOAT32)};
            long pTerms = backend.address(terms[0]);
            columns.finish("batch_norm_grad_finish_fast_f32", 1, c, a -> a.pointer(backend.address(dWeight))
                    .pointer(backend.address(dBias)).pointer(pTerms).pointer(pp).i32(g.slices()).i32(rows).i32(c)
                    .pointer(pw).pointer(pInv));
            columns.launchApply("batch_norm_grad_apply_fast_" + type + "_v" + v, vectors, a -> a.pointer(pdx)
                    .pointer(pdy).pointer(px).pointer(pw).pointer(pb).pointer(pMean).pointer(pInv).pointer(pTerms)
                    .i64(vectors).i32(c / v).i32(fused));
        } else {
            terms = new Tensor[]{backend.empty(cs, DType.FLOAT64), backend.empty(cs, DType.FLOAT64)};
            long pMeanG = backend.address(terms[0]);
            long pMeanGx = backend.address(terms[1]);
            columns.finish("batch_norm_grad_finish_f32", 1, c, a -> a.pointer(backend.address(dWeight))
                    .pointer(backend.address(dBias)).pointer(pMeanG).pointer(pMeanGx).pointer(pp).i32(g.slices())
                    .i32(rows).i32(c));
            columns.launchApply("batch_norm_grad_apply_" + type + "_v" + v, vectors, a -> a.pointer(pdx)
                    .pointer(pdy).pointer(px).pointer(pw).pointer(pb).pointer(pMean).pointer(pInv).pointer(pMeanG)
                    .pointer(pMeanGx).i64(vectors).i32(c / v).i32(fused));
        }
        Reference.reachabilityFence(inputs);
        Reference.reachabilityFence(partial);
        Reference.reachabilityFence(terms);
        return new BatchNormGrads(dx, dWeight, dBias);
    }

    private BatchNormGrads legacyBatchNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor bias, Tensor mean,
                                                   Tensor invStd, boolean silu) {
        int c = x.dim(-1);
        int rows = c == 0 ? 0 : x.numel() / c;
        Shape cs = Shape.of(c);
        Tensor sumDy = backend.zeros(cs, DType.FLOAT64);
        Tensor sumDyXhat = backend.zeros(cs, DType.FLOAT64);
        Tensor dx = backend.empty(x.shape(), DType.FLOAT32);
        if (rows > 0) {
            Tensor dyd = backend.dense(dy);
            Tensor xd = backend.dense(x);
            long pdy = backend.address(dyd);
            long px = backend.address(xd);
            long pMean = backend.address(backend.dense(mean));
            long pInv = backend.address(backend.dense(invStd));
            long pS1 = backend.address(sumDy);
            long pS2 = backend.address(sumDyXhat);
            long pw = backend.address(backend.dense(weight));
            long pb = silu ? backend.address(backend.dense(bias)) : 0;
            int fused = silu ? 1 : 0;
            KernelLibrary k = backend.kernels();
            k.launch("norm", "batch_norm_backward_sums_f32", (c + 31) / 32, rowSplits(rows), 1, 32, 8, 0,
                    a -> a.pointer(pS1).pointer(pS2).pointer(pdy).pointer(px).pointer(pMean).pointer(pInv)
                            .pointer(pw).pointer(pb).i32(rows).i32(c).i32(fused));
            long total = x.numel();
            k.launch1d("norm", "batch_norm_backward_apply_f32", total, a -> a.pointer(backend.address(dx)).pointer(pdy)
                    .pointer(px).pointer(pw).pointer(pb).pointer(pMean).pointer(pInv).pointer(pS1).pointer(pS2)
                    .i64(total).i32(c).i32(rows).i32(fused));
        }
        Tensor dWeight = backend.empty(cs, DType.FLOAT32);
        Tensor dBias = backend.empty(cs, DType.FLOAT32);
        backend.copyInto(sumDyXhat, dWeight);
        backend.copyInto(sumDy, dBias);
        return new BatchNormGrads(dx, dWeight, dBias);
    }
}
