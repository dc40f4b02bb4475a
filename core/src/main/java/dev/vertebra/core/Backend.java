package dev.vertebra.core;

import dev.vertebra.core.io.HostArray;

import java.util.List;
import java.util.Objects;

/**
 * The primitives a device implements. Everything else (SiLU's gradient, softmax, losses, SE blocks, …) is a
 * composite of these, so it runs — and gets autograd — on every backend.
 *
 * <p>Contract for every method: inputs may be any strided view on this backend (broadcast dimensions have stride
 * 0); outputs are new contiguous tensors made with {@link Tensor#wrap}. Backends never see gradients or the
 * autograd graph; shapes and dtypes are checked by {@link Tensor}'s ops before a backend is called.
 *
 * <p>Image ops use NHWC activations and HWIO weights ({@code [KH, KW, Cin/groups, Cout]}).
 */
public interface Backend {

    /** The device this instance serves. */
    Device device();

    /** Zero-filled storage of {@code size} elements. */
    Storage allocate(DType dtype, int size);

    /**
     * Storage of {@code size} elements that the caller overwrites entirely before anything reads it (the target of
     * a copy or a cast). Default: {@link #allocate}; accelerators skip the zero fill, a pass over the memory.
     */
    default Storage allocateForOverwrite(DType dtype, int size) {
        return allocate(dtype, size);
    }

    /** Copies host data into new storage on this device (CPU backends may wrap without copying). */
    Storage upload(HostArray data);

    /** A C-ordered host copy of {@code x}. */
    HostArray download(Tensor x);

    /**
     * Writes {@code src} into the view {@code dst} (same shape after broadcasting {@code src}), converting
     * dtypes. With {@link #accumulate} and {@link #scaleAdd}, the only primitives that write into existing storage:
     * contiguous copies, casts, concatenation and padding are made of it.
     */
    void copyInto(Tensor src, Tensor dst);

    /**
     * {@code dst += src} in place, {@code src} broadcast to {@code dst}'s shape; {@code dst} is contiguous, of the
     * same dtype, and shares no storage with {@code src}. What autograd sums gradients with, into buffers it owns;
     * a backend without an in-place kernel may keep this default (a new sum copied back).
     */
    default void accumulate(Tensor dst, Tensor src) {
        copyInto(binary(BinaryOp.ADD, dst, src), dst);
    }

    /**
     * {@code dst = alpha·dst + beta·src} in place, rounded as the separate ops would be: each product rounded to
     * {@code dst}'s type, then their sum (no fused multiply-add), so an optimiser step written with it gives the
     * same bits as one written with {@link #binaryScalar} and {@link #binary}. {@code dst} is contiguous; {@code src}
     * has its shape and dtype and shares no storage with it, or is {@code dst} itself. Default: the separate
     * primitives, copied back.
     */
    default void scaleAdd(Tensor dst, double alpha, Tensor src, double beta) {
        copyInto(binary(BinaryOp.ADD, binaryScalar(BinaryOp.MUL, dst, alpha), binaryScalar(BinaryOp.MUL, src, beta)),
                dst);
    }

    /**
     * {@link #scaleAdd} for each pair {@code (dsts[i], srcs[i])}, with the same rounding — an optimiser's update of
     * every parameter at once (PyTorch's "foreach" kernels). A backend can cover many tensors per launch instead
     * of one; no two pairs share storage. Default: one {@link #scaleAdd} per pair.
     */
    default void scaleAddAll(List<Tensor> dsts, double alpha, List<Tensor> srcs, double beta) {
        for (int i = 0; i < dsts.size(); i++) {
            scaleAdd(dsts.get(i), alpha, srcs.get(i), beta);
        }
    }

    /** A new tensor with every element {@code value}. */
    Tensor full(Shape shape, DType dtype, double value);

    /** {@code op(x)} elementwise. */
    Tensor unary(UnaryOp op, Tensor x);

    /** {@code op(a, b)} elementwise with broadcasting; {@code a} and {@code b} have the same dtype. */
    Tensor binary(BinaryOp op, Tensor a, Tensor b);

    /** {@code op(a, scalar)} elementwise. */
    Tensor binaryScalar(BinaryOp op, Tensor a, double scalar);

    /** Reduces {@code dims} (normalised, ascending, distinct), keeping them as size 1 when {@code keepDim}. */
    Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim);

    /**
     * {@code reduce(SUM, a·b, dims, keepDim)} for {@code a} and {@code b} of one shape, without the product tensor:
     * what the gradient of a broadcast multiplication (a squeeze-excitation gate) needs. Default: the two
     * primitives.
     */
    default Tensor mulSum(Tensor a, Tensor b, int[] dims, boolean keepDim) {
        return reduce(ReduceOp.SUM, binary(BinaryOp.MUL, a, b), dims, keepDim);
    }

    /**
     * Both gradients of a broadcast product {@code y = a·b} for an upstream gradient {@code g} of a's shape, where
     * b has a's shape with size 1 in {@code dims} (normalised, ascending): {@code [g·b, Σ_dims g·a]}, the second
     * with {@code dims} kept as size 1 — the backward of a squeeze-excitation's {@code x · gate}. Default:
     * {@link #binary} and {@link #mulSum}; a backend may compute both on one read of g.
     */
    default Tensor[] broadcastMulGradients(Tensor g, Tensor a, Tensor b, int[] dims) {
        return new Tensor[]{binary(BinaryOp.MUL, g, b), mulSum(g, a, dims, true)};
    }

    /**
     * Batched matrix product. {@code a: [B, M, K]}, {@code b: [B, K, N]} → {@code [B, M, N]}; either batch may
     * be a broadcast view (stride 0).
     */
    Tensor matmul(Tensor a, Tensor b);

    /** Convolution. {@code x: [N, H, W, Cin]}, {@code w: [KH, KW, Cin/groups, Cout]} → {@code [N, OH, OW, Cout]}. */
    Tensor conv2d(Tensor x, Tensor w, ConvSpec spec);

    /**
     * Convolution with a per-output-channel affine epilogue and an activation, for inference:
     * {@code activation(conv2d(x · inputScale, w)·scale + shift)} with {@code scale, shift: [Cout]} and
     * {@code inputScale} null or {@code [N, 1, 1, Cin]} (a squeeze-and-excitation gate, per image and input
     * channel). What an evaluation-mode convolution → batch norm (→ activation) runs as
     * ({@link Functional#conv2dBatchNormEval}); it has no backward. A backend can finish each block of the output
     * while it is still in cache instead of making three more passes over it, and fold the input scale into the
     * weights instead of scaling x. Default: the separate primitives.
     */
    default Tensor conv2dAffine(Tensor x, Tensor inputScale, Tensor w, ConvSpec spec, Tensor scale, Tensor shift,
                                Activation activation) {
        Tensor scaled = inputScale == null ? x : binary(BinaryOp.MUL, x, inputScale);
        Tensor y = binary(BinaryOp.ADD, binary(BinaryOp.MUL, conv2d(scaled, w, spec), scale), shift);
        return activation == Activation.NONE ? y : unary(activation.unaryOp(), y);
    }

    /**
     * {@link #conv2dAffine} of {@code layer} plus {@code residual}, which has the output's shape:
     * {@code activation(conv2d(x · inputScale, w)·scale + shift) + residual}, for inference (an inverted
     * bottleneck's projection and its skip connection). A backend can add the residual to each block of the output
     * while it is still in cache, instead of another pass over three tensors. Default: conv2dAffine, then the
     * addition (the bits a backend's fused op gives too).
     */
    default Tensor conv2dAffineResidual(Tensor x, Tensor inputScale, ConvAffine layer, Tensor residual) {
        return binary(BinaryOp.ADD, conv2dAffine(x, inputScale, layer.weight(), layer.spec(), layer.scale(),
                layer.shift(), layer.activation()), residual);
    }

    /**
     * Two {@link #conv2dAffine} convolutions in a row, for inference: {@code second} applied to the output of
     * {@code first} applied to {@code x} (an inverted bottleneck's 1×1 expansion, then its depthwise convolution,
     * each with its batch norm and activation folded in). A backend can compute the rows of the intermediate a band
     * of the output needs while they are in cache, and never write the intermediate, the widest activation of the
     * block. Default: the two calls.
     */
    default Tensor conv2dAffineChain(Tensor x, ConvAffine first, ConvAffine second) {
        Tensor middle = conv2dAffine(x, null, first.weight(), first.spec(), first.scale(), first.shift(),
                first.activation());
        return conv2dAffine(middle, null, second.weight(), second.spec(), second.scale(), second.shift(),
                second.activation());
    }

    /**
     * {@link #conv2dAffine} (no input scale) and its output's sums over H and W per image and channel: the bits of
     * {@code reduce(SUM, y, {1, 2}, true)}, which a backend may compute while each output row is still in cache (a
     * squeeze-excitation pools the depthwise output of an inverted bottleneck without expansion). Default: the two
     * ops.
     */
    default PooledOutput conv2dAffinePooled(Tensor x, ConvAffine layer) {
        Tensor y = conv2dAffine(x, null, layer.weight(), layer.spec(), layer.scale(), layer.shift(), layer.activation());
        return new PooledOutput(y, reduce(ReduceOp.SUM, y, new int[]{1, 2}, true));
    }

    /**
     * {@link #conv2dAffineChain} and its output's sums over H and W per image and channel: the bits of
     * {@code reduce(SUM, y, {1, 2}, true)}, which a backend may compute while each output row is still in cache
     * (a squeeze-excitation pools every inverted bottleneck's depthwise output). Default: the two ops.
     */
    default PooledOutput conv2dAffineChainPooled(Tensor x, ConvAffine first, ConvAffine second) {
        Tensor y = conv2dAffineChain(x, first, second);
        return new PooledOutput(y, reduce(ReduceOp.SUM, y, new int[]{1, 2}, true));
    }

    /**
     * {@code conv2d(x · gate, w)} for training, {@code gate: [N, 1, 1, Cin]} (a squeeze-and-excitation gate, per
     * image and input channel), where the convolution is 1×1, ungrouped, stride 1 and unpadded
     * ({@link Functional#conv2dGated} checks that). A backend need not store the product {@code x · gate}: it can
     * fold the gate into each image's weights, and {@link #conv2dGatedBackward} works from x and the gate. Default:
     * {@link #binary} then {@link #conv2d}.
     */
    default Tensor conv2dGated(Tensor x, Tensor gate, Tensor w, ConvSpec spec) {
        return conv2d(binary(BinaryOp.MUL, x, gate), w, spec);
    }

    /**
     * Gradients of {@link #conv2dGated} for an output gradient {@code dy}: with {@code d = dy · wᵀ} (the input
     * gradient of the plain convolution), {@code input = d · gate}, {@code gate = Σ_HW d · x} ([N, 1, 1, Cin]),
     * {@code weight = Σ_N,HW (x · gate)ᵀ · dy}. Default: through the product {@code x · gate}, as the separate ops'
     * backward computes them.
     */
    default GatedConvGrads conv2dGatedBackward(Tensor dy, Tensor x, Tensor gate, Tensor w, ConvSpec spec) {
        Tensor d = conv2dBackwardInput(dy, w, x.shape(), spec);
        Tensor dw = conv2dBackwardWeight(binary(BinaryOp.MUL, x, gate), dy, w.shape(), spec);
        Tensor[] g = broadcastMulGradients(d, x, gate, new int[]{1, 2});
        return new GatedConvGrads(g[0], g[1], dw);
    }

    /** Gradient of {@link #conv2d} with respect to its input, of shape {@code xShape}. */
    Tensor conv2dBackwardInput(Tensor dy, Tensor w, Shape xShape, ConvSpec spec);

    /** Gradient of {@link #conv2d} with respect to its weight, of shape {@code wShape}. */
    Tensor conv2dBackwardWeight(Tensor x, Tensor dy, Shape wShape, ConvSpec spec);

    /** Max or average pooling. {@code x: [N, H, W, C]} → {@code [N, OH, OW, C]}. */
    Tensor pool2d(Tensor x, PoolSpec spec);

    /** Gradient of {@link #pool2d} with respect to {@code x}. Max pooling sends each gradient to the first maximum. */
    Tensor pool2dBackward(Tensor x, Tensor dy, PoolSpec spec);

    /**
     * Batch-norm forward with batch statistics over all dimensions but the last (channels).
     * {@code x: [..., C]}, {@code weight, bias: [C]}.
     */
    BatchNormResult batchNorm(Tensor x, Tensor weight, Tensor bias, double eps);

    /** Gradients of {@link #batchNorm} given the saved mean and inverse standard deviation. */
    BatchNormGrads batchNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor invStd);

    /**
     * {@code silu(batchNorm(x))}: the statistics of {@link #batchNorm}, the activation as {@code output}. The
     * normalised values need not be stored: {@link #batchNormSiluBackward} recomputes them from {@code x}. Default:
     * the two primitives.
     */
    default BatchNormResult batchNormSilu(Tensor x, Tensor weight, Tensor bias, double eps) {
        BatchNormResult r = batchNorm(x, weight, bias, eps);
        return new BatchNormResult(unary(UnaryOp.SILU, r.output()), r.mean(), r.variance(), r.invStd());
    }

    /**
     * {@link #batchNormSilu} of a 4-D {@code x} and its output's sums over H and W ({@code [N, 1, 1, C]}): the bits
     * of {@code reduce(SUM, output, {1, 2}, true)}, which a backend may take while each output row is still in cache
     * (a squeeze-excitation pools every inverted bottleneck's depthwise output). Default: the two ops.
     */
    default PooledBatchNorm batchNormSiluPooled(Tensor x, Tensor weight, Tensor bias, double eps) {
        BatchNormResult r = batchNormSilu(x, weight, bias, eps);
        return new PooledBatchNorm(r, reduce(ReduceOp.SUM, r.output(), new int[]{1, 2}, true));
    }

    /**
     * Gradients of {@link #batchNormSilu} given the saved statistics. Default: y = (x − mean)·invStd·w + b
     * recomputed, {@link BinaryOp#SILU_GRAD}, then {@link #batchNormBackward}.
     */
    default BatchNormGrads batchNormSiluBackward(Tensor dz, Tensor x, Tensor weight, Tensor bias, Tensor mean,
                                                 Tensor invStd) {
        Tensor xhat = binary(BinaryOp.MUL, binary(BinaryOp.SUB, x, mean), invStd);
        Tensor y = binary(BinaryOp.ADD, binary(BinaryOp.MUL, xhat, weight), bias);
        return batchNormBackward(binary(BinaryOp.SILU_GRAD, y, dz), x, weight, mean, invStd);
    }

    /**
     * {@link #batchNormSiluBackward} for the output gradient {@code dz + dzPerImage}, {@code dzPerImage: [N, 1, 1, C]}
     * broadcast over H and W of a 4-D {@code x} (a squeeze-excitation pooling's part of the gradient, which autograd
     * hands the training batch norm + SiLU's rule unsummed), or {@code dz} alone when it is null. A backend may add it
     * where it reads dz instead of a pass over dz's size. Default: the sum, then {@link #batchNormSiluBackward}.
     */
    default BatchNormGrads batchNormSiluBackward(Tensor dz, Tensor dzPerImage, Tensor x, Tensor weight, Tensor bias,
                                                 Tensor mean, Tensor invStd) {
        Tensor sum = dzPerImage == null ? dz : binary(BinaryOp.ADD, dz, dzPerImage);
        return batchNormSiluBackward(sum, x, weight, bias, mean, invStd);
    }

    /**
     * Gradients of training-mode {@code z = silu(batchNorm(x))} ({@link #batchNormSiluBackward}) where z's only
     * consumer is the depthwise convolution {@code conv2d(z, w, spec)} and {@code dy} is that convolution's output
     * gradient: {@code batchNormSiluBackward(conv2dBackwardInput(dy, w, x.shape(), spec), ...)}. A backend may carry
     * each row of the convolution's input gradient through the batch norm's first backward pass while the row is
     * still in cache, instead of writing z's gradient out and reading it back; the batch norm's sums may then add
     * in another order. Default: the two calls.
     */
    default BatchNormGrads depthwiseBatchNormSiluBackward(Tensor dy, Tensor w, ConvSpec spec, Tensor x, Tensor weight,
                                                          Tensor bias, Tensor mean, Tensor invStd) {
        return batchNormSiluBackward(conv2dBackwardInput(dy, w, x.shape(), spec), x, weight, bias, mean, invStd);
    }

    /**
     * Training {@code y = conv2d(batchNormSilu(x, weight, bias, eps).output(), w, spec)} for a depthwise convolution,
     * for callers that will not need {@code z = silu(batchNorm(x))} again ({@link #recomputesDepthwiseInput}): y in
     * the result's {@code output}, with the batch norm's statistics. A backend can make z's rows as the convolution
     * reads them instead of writing z whole. Default: the two ops, z's memory then handed back at once.
     */
    default BatchNormResult batchNormSiluDepthwise(Tensor x, Tensor weight, Tensor bias, double eps, Tensor w,
                                                   ConvSpec spec) {
        BatchNormResult r = batchNormSilu(x, weight, bias, eps);
        Tensor y = conv2d(r.output(), w, spec);
        MemoryScope.recycle(r.output().storage());
        return new BatchNormResult(y, r.mean(), r.variance(), r.invStd());
    }

    /**
     * Training {@code x = conv2d(input, pointwise, pointwiseSpec)}, then {@link #batchNormSiluDepthwise} of x: an
     * inverted bottleneck's expansion, its batch norm + SiLU and its depthwise layer. x comes back with the result,
     * for the backward. Default: the two calls. A backend can gather x's batch statistics from each block of x as its
     * product writes the block, instead of reading x once more for them.
     */
    default PointwiseBatchNormResult pointwiseBatchNormSiluDepthwise(Tensor input, Tensor pointwise,
                                                                     ConvSpec pointwiseSpec, Tensor weight,
                                                                     Tensor bias, double eps, Tensor w,
                                                                     ConvSpec spec) {
        Tensor x = conv2d(input, pointwise, pointwiseSpec);
        return new PointwiseBatchNormResult(x, batchNormSiluDepthwise(x, weight, bias, eps, w, spec));
    }

    /**
     * {@link #depthwiseBatchNormSiluBackward} and the depthwise weight's gradient {@code conv2dBackwardWeight(z, dy,
     * w.shape(), spec)}, with the convolution's input {@code z = silu(batchNorm(x))} recomputed from x and the saved
     * statistics instead of kept from the forward (its bits may differ from the forward's by rounding). Default: z
     * recomputed by ops (y as {@link #batchNormSiluBackward} recomputes it), then the two gradients. A backend can
     * recompute each row of z in the input gradient's pass, where y and σ(y) are at hand, and take the weight
     * gradient from it there; {@link #recomputesDepthwiseInput} then tells callers not to keep z.
     */
    default DepthwiseBatchNormSiluGrads depthwiseBatchNormSiluGrads(Tensor dy, Tensor w, ConvSpec spec, Tensor x,
                                                                    Tensor weight, Tensor bias, Tensor mean,
                                                                    Tensor invStd) {
        Tensor xhat = binary(BinaryOp.MUL, binary(BinaryOp.SUB, x, mean), invStd);
        Tensor z = unary(UnaryOp.SILU, binary(BinaryOp.ADD, binary(BinaryOp.MUL, xhat, weight), bias));
        return new DepthwiseBatchNormSiluGrads(depthwiseBatchNormSiluBackward(dy, w, spec, x, weight, bias, mean,
                invStd), conv2dBackwardWeight(z, dy, w.shape(), spec));
    }

    /**
     * {@link #depthwiseBatchNormSiluGrads} carried on through the 1×1 convolution that made x, {@code x =
     * conv2d(input, pointwise, pointwiseSpec)} (an inverted bottleneck's expansion): the gradients of the
     * convolution's input and weight, of the batch norm's weight and bias, and of the depthwise weight. Default: the
     * batch norm's input gradient from {@link #depthwiseBatchNormSiluGrads}, then {@link #conv2dBackwardInput} and
     * {@link #conv2dBackwardWeight} of it, its memory then handed back. A backend can make that gradient a block of
     * rows at a time and feed both products from cache, never writing it whole.
     */
    default PointwiseBatchNormSiluDepthwiseGrads pointwiseBatchNormSiluDepthwiseGrads(
            Tensor dy, Tensor w, ConvSpec spec, Tensor x, Tensor weight, Tensor bias, Tensor mean, Tensor invStd,
            Tensor input, Tensor pointwise, ConvSpec pointwiseSpec) {
        DepthwiseBatchNormSiluGrads g = depthwiseBatchNormSiluGrads(dy, w, spec, x, weight, bias, mean, invStd);
        Tensor dx = g.batchNorm().input();
        Tensor dInput = conv2dBackwardInput(dx, pointwise, input.shape(), pointwiseSpec);
        Tensor dPointwise = conv2dBackwardWeight(input, dx, pointwise.shape(), pointwiseSpec);
        MemoryScope.recycle(dx.storage()); // consumed here, as autograd hands back a gradient it has used
        return new PointwiseBatchNormSiluDepthwiseGrads(dInput, dPointwise, g.batchNorm().weight(),
                g.batchNorm().bias(), g.depthwiseWeight());
    }

    /**
     * Whether {@link #depthwiseBatchNormSiluGrads} recomputes the depthwise input z for less than keeping it costs,
     * so that a training step never keeps z (an inverted bottleneck's widest tensor): it runs the forward as
     * {@link #batchNormSiluDepthwise} and asks for both gradients at once. Default false: callers keep z and use
     * {@link #depthwiseBatchNormSiluBackward} and {@link #conv2dBackwardWeight}.
     */
    default boolean recomputesDepthwiseInput() {
        return false;
    }

    /**
     * Batch norm with batch statistics of 16-bit {@code x} (bfloat16 or float16) with float32 {@code weight, bias}
     * — autocast's mixed batch norm, as cuDNN's: float32 statistics, the output ({@code silu(y)} when
     * {@code silu}) in x's dtype. Default: x widened to float32, {@link #batchNorm} or {@link #batchNormSilu}, the
     * output rounded to x's dtype; a backend can read and write the 16-bit values directly instead.
     */
    default BatchNormResult batchNormMixed(Tensor x, Tensor weight, Tensor bias, double eps, boolean silu) {
        Tensor wide = converted(x, DType.FLOAT32);
        BatchNormResult r = silu ? batchNormSilu(wide, weight, bias, eps) : batchNorm(wide, weight, bias, eps);
        return new BatchNormResult(converted(r.output(), x.dtype()), r.mean(), r.variance(), r.invStd());
    }

    /**
     * Gradients of {@link #batchNormMixed} for {@code dz} in x's dtype: the input's in x's dtype, the parameters'
     * in float32 ({@code bias} is read only with {@code silu}). Default: dz and x widened, the float32 backward,
     * the input's gradient rounded to x's dtype.
     */
    default BatchNormGrads batchNormMixedBackward(Tensor dz, Tensor x, Tensor weight, Tensor bias, Tensor mean,
                                                  Tensor invStd, boolean silu) {
        Tensor wideX = converted(x, DType.FLOAT32);
        Tensor wideDz = converted(dz, DType.FLOAT32);
        BatchNormGrads g = silu ? batchNormSiluBackward(wideDz, wideX, weight, bias, mean, invStd)
                : batchNormBackward(wideDz, wideX, weight, mean, invStd);
        return new BatchNormGrads(converted(g.input(), x.dtype()), g.weight(), g.bias());
    }

    /** {@code t} as a new contiguous tensor of {@code dtype} on this backend (rounded to nearest even). */
    private Tensor converted(Tensor t, DType dtype) {
        Tensor out = Tensor.wrap(allocateForOverwrite(dtype, t.numel()), t.shape(), this);
        copyInto(t, out);
        return out;
    }

    /** {@code out[i][j] = x[i][index[i][j]]} along {@code dim} (as torch.gather); {@code index} is INT64. */
    Tensor gather(Tensor x, int dim, Tensor index);

    /** Zeros of {@code shape} with {@code src} added at {@code index} along {@code dim} (gather's adjoint). */
    Tensor scatterAdd(Shape shape, int dim, Tensor index, Tensor src);

    /** Waits for queued work (accelerators); a no-op on the CPU. */
    default void synchronize() {
    }

    /**
     * One convolution of {@link #conv2dAffineChain}: {@code activation(conv2d(·, weight, spec)·scale + shift)}, with
     * {@code scale, shift: [Cout]} contiguous.
     */
    record ConvAffine(Tensor weight, ConvSpec spec, Tensor scale, Tensor shift, Activation activation) {
        public ConvAffine {
            Objects.requireNonNull(weight, "weight");
            Objects.requireNonNull(spec, "spec");
            Objects.requireNonNull(scale, "scale");
            Objects.requireNonNull(shift, "shift");
            Objects.requireNonNull(activation, "activation");
        }
    }

    /**
     * An evaluation-mode batch norm as the per-channel affine map of its input, {@code y = x·scale + shift}, a
     * preceding convolution's bias moved in: {@code scale = bnWeight·(runningVar + eps)^−½},
     * {@code shift = bnBias − (runningMean − convBias)·scale}, all {@code [C]}, float32, contiguous. Null
     * {@code bnWeight}, {@code bnBias} or {@code convBias}: 1, 0, 0. Default: those elementwise ops, in that order
     * ({@code eps} rounded to float32 first); a backend may compute the same bits in one pass. Called without
     * gradients (an inference layer's folding, once per call).
     */
    default ChannelAffine batchNormEvalAffine(Tensor runningMean, Tensor runningVar, Tensor bnWeight, Tensor bnBias,
                                              Tensor convBias, double eps) {
        Tensor scale = runningVar.add(eps).pow(-0.5);
        if (bnWeight != null) {
            scale = bnWeight.mul(scale);
        }
        Tensor centre = convBias == null ? runningMean : runningMean.sub(convBias);
        Tensor shift = centre.mul(scale).neg();
        if (bnBias != null) {
            shift = bnBias.add(shift);
        }
        return new ChannelAffine(scale.contiguous(), shift.contiguous());
    }

    /**
     * One Adam step on a parameter, in place, PyTorch's formulas: with weight decay λ, AdamW
     * ({@code decoupled}) first scales w by {@code 1 − lr·λ}, Adam adds {@code λ·w} to the gradient; then
     * {@code m = β1·m + (1 − β1)·g}, {@code v = β2·v + (1 − β2)·g²} and
     * {@code w −= lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps)}. Default: those elementwise ops on tensors, in that
     * order, each scalar rounded to w's dtype; a backend may compute the same bits in one pass over w, g, m and v.
     *
     * @param w the parameter's values; g its gradient; m, v the first and second moments (all of w's shape)
     */
    default void adamStep(Tensor w, Tensor g, Tensor m, Tensor v, AdamStep step) {
        Tensor grad = g;
        if (step.weightDecay() != 0) {
            if (step.decoupled()) {
                w.assign(w.mul(1 - step.lr() * step.weightDecay()));
            } else {
                grad = grad.add(w.mul(step.weightDecay()));
            }
        }
        m.scaleAddInPlace(step.beta1(), grad, 1 - step.beta1());
        v.scaleAddInPlace(step.beta2(), grad.mul(grad), 1 - step.beta2());
        Tensor denom = v.sqrt().div(step.correction2Sqrt()).add(step.eps());
        w.scaleAddInPlace(1, m.div(denom), -step.stepSize());
    }

    /**
     * The scalars of one {@link #adamStep}: the group's learning rate, β1, β2, eps and weight decay, whether the
     * decay is AdamW's, and the step number t (from 1).
     */
    record AdamStep(double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled,
                    long t) {
        public AdamStep {
            if (t < 1) {
                throw new IllegalArgumentException("Adam's step number starts at 1, got " + t);
            }
        }

        /** lr / (1 − β1ᵗ). */
        public double stepSize() {
            return lr / (1 - Math.pow(beta1, t));
        }

        /** √(1 − β2ᵗ). */
        public double correction2Sqrt() {
            return Math.sqrt(1 - Math.pow(beta2, t));
        }
    }

    /** A per-channel affine map {@code x·scale + shift}, both {@code [C]}. */
    record ChannelAffine(Tensor scale, Tensor shift) {
        public ChannelAffine {
            Objects.requireNonNull(scale, "scale");
            Objects.requireNonNull(shift, "shift");
        }
    }

    /** An output {@code [N, H, W, C]} and its sums over H and W, {@code [N, 1, 1, C]}. */
    record PooledOutput(Tensor output, Tensor channelSums) {
        public PooledOutput {
            Objects.requireNonNull(output, "output");
            Objects.requireNonNull(channelSums, "channelSums");
        }
    }

    /** Batch-norm forward outputs: normalised output, per-channel batch mean, biased variance and 1/sqrt(var+eps). */
    record BatchNormResult(Tensor output, Tensor mean, Tensor variance, Tensor invStd) {
    }

    /**
     * {@link #pointwiseBatchNormSiluDepthwise}'s result: the 1×1 convolution's output x, and the batch norm +
     * depthwise result over it.
     */
    record PointwiseBatchNormResult(Tensor expansion, BatchNormResult result) {
    }

    /** {@link #batchNormSiluPooled}'s result: the batch norm's, and the output's sums over H and W. */
    record PooledBatchNorm(BatchNormResult result, Tensor channelSums) {
    }

    /** Batch-norm gradients with respect to input, weight and bias. */
    record BatchNormGrads(Tensor input, Tensor weight, Tensor bias) {
    }

    /** {@link #depthwiseBatchNormSiluGrads}' result: the batch norm's gradients, and the depthwise weight's. */
    record DepthwiseBatchNormSiluGrads(BatchNormGrads batchNorm, Tensor depthwiseWeight) {
    }

    /**
     * {@link #pointwiseBatchNormSiluDepthwiseGrads}' result: the 1×1 convolution's input and weight gradients, the
     * batch norm's weight and bias gradients, and the depthwise weight's.
     */
    record PointwiseBatchNormSiluDepthwiseGrads(Tensor input, Tensor pointwiseWeight, Tensor batchNormWeight,
                                                Tensor batchNormBias, Tensor depthwiseWeight) {
    }

    /** Gradients of {@link #conv2dGated} with respect to x, the gate and the weight. */
    record GatedConvGrads(Tensor input, Tensor gate, Tensor weight) {
    }
}
