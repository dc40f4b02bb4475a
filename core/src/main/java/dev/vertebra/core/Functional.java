package dev.vertebra.core;

import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Neural-network operations on tensors, the counterpart of {@code torch.nn.functional}. Image tensors are NHWC;
 * convolution weights are HWIO ({@code [KH, KW, Cin/groups, Cout]}).
 *
 * <pre>{@code
 * Tensor y = Functional.conv2d(x, w, b, ConvSpec.of(2, 1, 1, 1));   // x: [N, H, W, Cin]
 * Tensor loss = Functional.crossEntropy(logits, labels, 0.1, Reduction.MEAN);
 * }</pre>
 */
public final class Functional {

    private Functional() {
    }

    /** 2-D convolution; {@code bias} ({@code [Cout]}) may be null. Inside {@link Autocast}: in the low type. */
    public static Tensor conv2d(Tensor input, Tensor weightInput, Tensor biasInput, ConvSpec spec) {
        Tensor x = AutocastOp.CONV2D.input(input);
        Tensor weight = AutocastOp.CONV2D.input(weightInput);
        Tensor bias = AutocastOp.CONV2D.input(biasInput);
        checkConv(x, weight, spec);
        Backend b = x.backend();
        Tensor y = b.conv2d(x, weight, spec);
        y = Autograd.record("conv2d", y, g -> new Tensor[]{
                x.requiresGrad() ? b.conv2dBackwardInput(g, weight, x.shape(), spec) : null,
                weight.requiresGrad() ? b.conv2dBackwardWeight(x, g, weight.shape(), spec) : null}, x, weight);
        if (bias != null) {
            if (bias.rank() != 1 || bias.dim(0) != weight.dim(3)) {
                throw new IllegalArgumentException("conv2d: bias " + bias.describe() + " does not match "
                        + weight.dim(3) + " output channels");
            }
            y = y.add(bias);
        }
        return y;
    }

    /**
     * {@code activation(conv2d(x, w, bias))} ({@code bias: [Cout]} or null). Where no gradient is recorded (float32,
     * outside {@link Autocast}): one backend op with the bias and the activation in the convolution's epilogue
     * ({@link Backend#conv2dAffine} with a scale of ones), the same values as the separate ops (x·1 + b is x + b);
     * otherwise the separate ops and their backward. A squeeze-and-excitation's two small convolutions in inference:
     * the epilogue is code every evaluation-mode convolution runs, where a broadcast add and an activation of their
     * own are methods the JIT reaches late.
     */
    public static Tensor conv2dActivation(Tensor x, Tensor w, Tensor bias, ConvSpec spec, Activation activation) {
        Objects.requireNonNull(activation, "activation");
        boolean records = NoGrad.isGradEnabled() && (x.requiresGrad() || w.requiresGrad()
                || (bias != null && bias.requiresGrad()));
        boolean float32 = x.dtype() == DType.FLOAT32 && w.dtype() == DType.FLOAT32
                && (bias == null || bias.dtype() == DType.FLOAT32);
        if (records || !float32 || Autocast.isEnabled()) {
            Tensor y = conv2d(x, w, bias, spec);
            return activation == Activation.NONE ? y : MathOps.unary(activation.unaryOp(), y);
        }
        checkConv(x, w, spec);
        int c = w.dim(3);
        if (bias != null) {
            x.requireSameDevice("conv2d", bias);
            if (bias.rank() != 1 || bias.dim(0) != c) {
                throw new IllegalArgumentException("conv2d: bias " + bias.describe() + " does not match " + c
                        + " output channels");
            }
        }
        Backend b = x.backend();
        Tensor shift = bias != null ? bias : b.full(Shape.of(c), DType.FLOAT32, 0);
        return b.conv2dAffine(x, null, w, spec, b.full(Shape.of(c), DType.FLOAT32, 1), shift, activation);
    }

    /**
     * {@code conv2d(x · gate, w)}: a squeeze-and-excitation gate ({@code [N, 1, 1, Cin]}, per image and input
     * channel) applied to x, then a 1×1 convolution (ungrouped, stride 1, unpadded, no bias) — an inverted
     * bottleneck's projection. One op with its own backward ({@link Backend#conv2dGated},
     * {@link Backend#conv2dGatedBackward}), so a backend need not store the product {@code x · gate} nor its
     * gradient: the separate ops' values up to rounding. Any other convolution, a dtype other than float32 or an
     * {@link Autocast} scope: the separate ops.
     */
    public static Tensor conv2dGated(Tensor x, Tensor gate, Tensor w, ConvSpec spec) {
        boolean pointwise = w.rank() == 4 && w.dim(0) == 1 && w.dim(1) == 1 && spec.strideH() == 1
                && spec.strideW() == 1 && spec.padTop() == 0 && spec.padBottom() == 0 && spec.padLeft() == 0
                && spec.padRight() == 0 && spec.groups() == 1;
        boolean perImageGate = x.rank() == 4 && gate.rank() == 4 && gate.dim(0) == x.dim(0) && gate.dim(1) == 1
                && gate.dim(2) == 1 && gate.dim(3) == x.dim(3);
        boolean float32 = x.dtype() == DType.FLOAT32 && gate.dtype() == DType.FLOAT32 && w.dtype() == DType.FLOAT32;
        if (!pointwise || !perImageGate || !float32 || Autocast.isEnabled()) {
            return conv2d(x.mul(gate), w, null, spec);
        }
        x.requireSameDevice("conv2dGated", gate);
        checkConv(x, w, spec);
        Backend b = x.backend();
        Tensor y = b.conv2dGated(x, gate, w, spec);
        return Autograd.record("conv2d_gated", y, g -> {
            Backend.GatedConvGrads grads = b.conv2dGatedBackward(g, x, gate, w, spec);
            return new Tensor[]{grads.input(), grads.gate(), grads.weight()};
        }, x, gate, w);
    }

    /**
     * {@code activation(batchNorm(conv2d(x, w, convBias)))} in evaluation mode (running statistics), as one backend
     * op ({@link Backend#conv2dAffine}) when nothing needs a gradient: the batch norm folds into a per-channel
     * scale {@code bnWeight / sqrt(runningVar + eps)} and shift, which the backend applies with the activation to
     * each block of the convolution's output while it is in cache. The result equals the separate ops' up to
     * rounding (one fused multiply-add instead of a rounded product and sum).
     *
     * <p>When autograd would record (gradients enabled and an input or parameter requiring one), inside
     * {@link Autocast} or with a 16-bit {@code x}: the separate ops, with their usual gradients and precision.
     * {@code convBias}, {@code bnWeight} and {@code bnBias} may be null.
     */
    public static Tensor conv2dBatchNormEval(Tensor x, Tensor w, Tensor convBias, ConvSpec spec, Tensor runningMean,
                                             Tensor runningVar, Tensor bnWeight, Tensor bnBias, double eps,
                                             Activation activation) {
        return conv2dBatchNormEval(x, null, w, convBias, spec, runningMean, runningVar, bnWeight, bnBias, eps,
                activation);
    }

    /**
     * {@link #conv2dBatchNormEval} of {@code x · gate}, {@code gate} null or {@code [N, 1, 1, Cin]}: a
     * squeeze-and-excitation gate followed by the projection convolution. A backend may fold the gate into the
     * weights (per image) instead of scaling x, which for a 1×1 convolution saves a pass over x.
     */
    public static Tensor conv2dBatchNormEval(Tensor x, Tensor gate, Tensor w, Tensor convBias, ConvSpec spec,
                                             Tensor runningMean, Tensor runningVar, Tensor bnWeight, Tensor bnBias,
                                             double eps, Activation activation) {
        return conv2dBatchNormEval(x, gate, new ConvBatchNorm(w, convBias, spec, runningMean, runningVar, bnWeight,
                bnBias, eps, activation));
    }

    /** {@link #conv2dBatchNormEval(Tensor, Tensor, Tensor, Tensor, ConvSpec, Tensor, Tensor, Tensor, Tensor, double,
     * Activation)} with the layer's tensors in one record. */
    public static Tensor conv2dBatchNormEval(Tensor x, Tensor gate, ConvBatchNorm layer) {
        checkGate(x, gate);
        if (!layer.fusible(x, gate)) {
            Tensor input = gate == null ? x : x.mul(gate);
            Tensor y = batchNorm(conv2d(input, layer.weight(), layer.convBias(), layer.spec()), layer.runningMean(),
                    layer.runningVar(), layer.bnWeight(), layer.bnBias(), false, 0, layer.eps(),
                    layer.activation() == Activation.SILU, false).output();
            return layer.activation() == Activation.RELU || layer.activation() == Activation.SIGMOID
                    ? MathOps.unary(layer.activation().unaryOp(), y) : y;
        }
        if (gate != null) {
            x.requireSameDevice("conv2dBatchNormEval", gate);
        }
        checkConv(x, layer.weight(), layer.spec());
        Backend.ConvAffine folded = layer.folded(x);
        return x.backend().conv2dAffine(x, gate, folded.weight(), folded.spec(), folded.scale(), folded.shift(),
                folded.activation());
    }

    private static void checkGate(Tensor x, Tensor gate) {
        if (gate != null && (gate.rank() != 4 || x.rank() != 4 || gate.dim(0) != x.dim(0) || gate.dim(1) != 1
                || gate.dim(2) != 1 || gate.dim(3) != x.dim(3))) {
            throw new IllegalArgumentException("conv2dBatchNormEval: gate " + gate.describe() + " is not [N, 1, 1, C]"
                    + " for input " + x.describe());
        }
    }

    /**
     * {@code conv2dBatchNormEval(x, gate, layer).add(residual)}: an inverted bottleneck's projection and its skip
     * connection in evaluation, which the backend may add as each block of the output is finished
     * ({@link Backend#conv2dAffineResidual}), the same bits. Where a gradient is recorded, or the residual is not
     * float32 of the output's shape, the separate ops run.
     */
    public static Tensor conv2dBatchNormEvalResidual(Tensor x, Tensor gate, ConvBatchNorm layer, Tensor residual) {
        checkGate(x, gate);
        if (layer.fusible(x, gate) && !ConvBatchNorm.records(residual) && residual.dtype() == DType.FLOAT32
                && x.rank() == 4) {
            checkConv(x, layer.weight(), layer.spec());
            if (residual.shape().equals(layer.spec().outputShape(x.shape(), layer.weight().shape()))) {
                if (gate != null) {
                    x.requireSameDevice("conv2dBatchNormEval", gate);
                }
                x.requireSameDevice("conv2dBatchNormEval", residual);
                return x.backend().conv2dAffineResidual(x, gate, layer.folded(x), residual);
            }
        }
        return conv2dBatchNormEval(x, gate, layer).add(residual);
    }

    /**
     * {@link #conv2dBatchNormEval} (no gate) and its output's mean over H and W, the bits of
     * {@link #globalAvgPool}: a depthwise layer and its squeeze-excitation's pooling, which the backend may compute
     * while each output row is still in cache ({@link Backend#conv2dAffinePooled}).
     */
    public static OutputAndMean conv2dBatchNormEvalWithMean(Tensor x, ConvBatchNorm layer) {
        if (!layer.fusible(x, null)) {
            Tensor y = conv2dBatchNormEval(x, null, layer);
            return new OutputAndMean(y, globalAvgPool(y));
        }
        checkConv(x, layer.weight(), layer.spec());
        Backend.PooledOutput r = x.backend().conv2dAffinePooled(x, layer.folded(x));
        return withMean(r);
    }

    /** The output of a pooled backend op and its mean over H and W, as {@link #globalAvgPool} computes it. */
    private static OutputAndMean withMean(Backend.PooledOutput r) {
        Tensor y = r.output();
        return new OutputAndMean(y, r.channelSums().mul(1.0 / ((long) y.dim(1) * y.dim(2))));
    }

    /**
     * {@code conv2dBatchNormEval(conv2dBatchNormEval(x, first), second)} as one backend op
     * ({@link Backend#conv2dAffineChain}) when nothing needs a gradient: an inverted bottleneck's expansion and
     * depthwise layers in evaluation, whose backend may never write the expanded activation between them. The
     * values are those of the two calls.
     */
    public static Tensor conv2dBatchNormEvalChain(Tensor x, ConvBatchNorm first, ConvBatchNorm second) {
        if (!fusibleChain(x, first, second)) {
            return conv2dBatchNormEval(conv2dBatchNormEval(x, null, first), null, second);
        }
        return x.backend().conv2dAffineChain(x, first.folded(x), second.folded(x));
    }

    /**
     * {@link #conv2dBatchNormEvalChain} and its output's mean over H and W, the bits of {@link #globalAvgPool}: an
     * inverted bottleneck's depthwise output and its squeeze-excitation's pooling, which the backend may compute
     * while each output row is still in cache ({@link Backend#conv2dAffineChainPooled}).
     */
    public static OutputAndMean conv2dBatchNormEvalChainWithMean(Tensor x, ConvBatchNorm first,
                                                                 ConvBatchNorm second) {
        if (!fusibleChain(x, first, second)) {
            Tensor y = conv2dBatchNormEvalChain(x, first, second);
            return new OutputAndMean(y, globalAvgPool(y));
        }
        return withMean(x.backend().conv2dAffineChainPooled(x, first.folded(x), second.folded(x)));
    }

    /** An activation {@code [N, H, W, C]} and its mean over H and W, {@code [N, 1, 1, C]}. */
    public record OutputAndMean(Tensor output, Tensor mean) {
    }

    /** Whether the chain runs as one backend op (nothing records a gradient, float32); checks the shapes if so. */
    private static boolean fusibleChain(Tensor x, ConvBatchNorm first, ConvBatchNorm second) {
        if (!first.fusible(x, null) || second.anyRecordsOrLow()) {
            return false;
        }
        checkConv(x, first.weight(), first.spec());
        Shape middle = first.spec().outputShape(x.shape(), first.weight().shape());
        x.requireSameDevice("conv2d", second.weight());
        checkConvShape(middle, () -> "the first convolution's output " + middle, second.weight(), second.spec());
        return true;
    }

    /**
     * A convolution followed by an evaluation-mode batch norm (running statistics) and an activation: what
     * {@link #conv2dBatchNormEval} computes. {@code convBias}, {@code bnWeight} and {@code bnBias} may be null.
     */
    public record ConvBatchNorm(Tensor weight, Tensor convBias, ConvSpec spec, Tensor runningMean, Tensor runningVar,
                                Tensor bnWeight, Tensor bnBias, double eps, Activation activation) {
        public ConvBatchNorm {
            Objects.requireNonNull(weight, "weight");
            Objects.requireNonNull(spec, "spec");
            Objects.requireNonNull(activation, "activation");
            if (runningMean == null || runningVar == null) {
                throw new IllegalArgumentException("conv2dBatchNormEval needs running statistics");
            }
        }

        /**
         * Whether one backend op may compute this layer on x (gate null or x's gate): nothing records a gradient
         * (gradients enabled and an input or parameter requiring one), no {@link Autocast}, all float32. Otherwise
         * the separate ops run, with their usual gradients and precision.
         */
        private boolean fusible(Tensor x, Tensor gate) {
            return !anyRecordsOrLow() && !records(x) && !records(gate) && x.dtype() == DType.FLOAT32
                    && (gate == null || gate.dtype() == DType.FLOAT32);
        }

        private boolean anyRecordsOrLow() {
            if (Autocast.isEnabled()) {
                return true;
            }
            for (Tensor t : new Tensor[]{weight, convBias, runningMean, runningVar, bnWeight, bnBias}) {
                if (records(t) || (t != null && t.dtype() != DType.FLOAT32)) {
                    return true;
                }
            }
            return false;
        }

        private static boolean records(Tensor t) {
            return t != null && t.requiresGrad() && NoGrad.isGradEnabled();
        }

        /** The batch norm as the convolution's per-channel scale and shift, on x's device. */
        private Backend.ConvAffine folded(Tensor x) {
            int c = weight.dim(3);
            for (Tensor t : new Tensor[]{convBias, runningMean, runningVar, bnWeight, bnBias}) {
                if (t != null) {
                    x.requireSameDevice("conv2dBatchNormEval", t);
                    if (t.rank() != 1 || t.dim(0) != c) {
                        throw new IllegalArgumentException("conv2dBatchNormEval: parameter " + t.describe()
                                + " does not match " + c + " output channels");
                    }
                }
            }
            try (NoGrad _ = NoGrad.enter()) {
                // The same scale and shift as batchNorm's evaluation branch, with the convolution's bias moved in.
                Backend.ChannelAffine affine = x.backend().batchNormEvalAffine(runningMean, runningVar, bnWeight,
                        bnBias, convBias, eps);
                return new Backend.ConvAffine(weight, spec, affine.scale(), affine.shift(), activation);
            }
        }
    }

    private static void checkConv(Tensor x, Tensor w, ConvSpec spec) {
        x.requireSameDevice("conv2d", w);
        MathOps.requireFloating("conv2d", x);
        if (x.dtype() != w.dtype()) {
            throw new IllegalArgumentException("conv2d: dtypes differ: " + x.describe() + " and " + w.describe());
        }
        checkConvShape(x.shape(), x::describe, w, spec);
    }

    /**
     * The shape checks of {@link #checkConv} for an input of shape x, described as {@code described} gives (only
     * for an error: a description is a string built per call, and convolutions are many a step).
     */
    private static void checkConvShape(Shape x, Supplier<String> described, Tensor w, ConvSpec spec) {
        if (x.rank() != 4 || w.rank() != 4) {
            throw new IllegalArgumentException("conv2d needs x [N, H, W, Cin] and weight [KH, KW, Cin/groups, Cout], got "
                    + described.get() + " and " + w.describe());
        }
        int groups = spec.groups();
        if (x.dim(3) % groups != 0 || w.dim(3) % groups != 0 || w.dim(2) * groups != x.dim(3)) {
            throw new IllegalArgumentException("conv2d: input channels " + x.dim(3) + ", weight " + w.shape()
                    + " and groups " + groups + " do not fit (weight dim 2 must be Cin/groups)");
        }
        if (spec.outHeight(x.dim(1), w.dim(0)) < 1 || spec.outWidth(x.dim(2), w.dim(1)) < 1) {
            throw new IllegalArgumentException("conv2d: kernel " + w.dim(0) + "×" + w.dim(1) + " does not fit input "
                    + x + " with " + spec);
        }
    }

    /**
     * Fully connected layer with PyTorch's weight layout: {@code x [..., in] · weightᵀ [in, out] + bias}.
     *
     * <p>For x [N, in] one op with its own backward: the products and their bits are those of {@code matmul} with
     * {@code weight.transpose(0, 1)}, but the weight's gradient is computed as {@code gᵀ · x}, already [out, in],
     * where through the transposed view it came out [in, out] and was copied transposed into the weight's gradient
     * (a strided loop that a step runs once, compiled by C2 among the first steps: bench/NOTES.md, twenty-ninth
     * round). Each sum has the same terms in the same order either way.
     */
    public static Tensor linear(Tensor input, Tensor weightInput, Tensor biasInput) {
        Tensor x = AutocastOp.LINEAR.input(input);
        Tensor weight = AutocastOp.LINEAR.input(weightInput);
        Tensor bias = AutocastOp.LINEAR.input(biasInput);
        boolean plain = x.rank() == 2 && weight.rank() == 2 && x.dim(1) == weight.dim(1)
                && x.dtype() == weight.dtype() && x.dtype().isFloating() && x.device().equals(weight.device())
                && !Autocast.isEnabled();
        Tensor y = plain ? linear2d(x, weight) : x.matmul(weight.transpose(0, 1));
        return bias == null ? y : y.add(bias);
    }

    /** {@code x [N, in] · weightᵀ}, recorded as one op (see {@link #linear}). */
    private static Tensor linear2d(Tensor x, Tensor weight) {
        Backend b = x.backend();
        Tensor y;
        try (NoGrad _ = NoGrad.enter()) {
            // As matmul runs it: [1, N, in] × [1, in, out], weightᵀ a view.
            y = b.matmul(x.unsqueeze(0), weight.unsqueeze(0).transpose(1, 2)).squeeze(0);
        }
        // dx = g·W as matmul's backward makes it; dW = gᵀ·x, the transpose of its (xᵀ·g), sum for sum.
        return Autograd.record("linear", y, g -> new Tensor[]{
                x.requiresGrad() ? g.matmul(weight) : null,
                weight.requiresGrad() ? g.transpose(0, 1).matmul(x) : null}, x, weight);
    }

    /**
     * Batch normalisation over the channel (last) dimension. In training, normalises with the batch's biased
     * variance and updates the running statistics in place with {@code momentum} (PyTorch's convention:
     * {@code running = (1 - momentum)·running + momentum·batch}, the variance unbiased); in evaluation, uses the
     * running statistics. Running buffers may be null in training (no update).
     *
     * <p>Mixed precision ({@link AutocastOp#BATCH_NORM}): a float16/bfloat16 {@code x} with float32 parameters and
     * buffers (or none) is normalised in float32 — statistics, running buffers and parameter gradients float32 —
     * and the result rounded to {@code x}'s dtype, in or out of an autocast scope.
     */
    public static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps) {
        return batchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps, false, false).output();
    }

    /**
     * {@code batchNorm(...).silu()}, fused in training: the normalised tensor is never stored (the backward
     * recomputes it from x), which saves a tensor of x's size per call and a pass over it each way. Same arguments
     * and running-statistics update as {@link #batchNorm}.
     */
    public static Tensor batchNormSilu(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                       boolean training, double momentum, double eps) {
        return batchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps, true, false).output();
    }

    /**
     * {@link #batchNormSilu} and its output's mean over H and W, the values of {@link #globalAvgPool} of it, with
     * its gradient: an inverted bottleneck's depthwise layer and its squeeze-excitation's pooling, which the backend
     * may sum in training while each output row is still in cache ({@link Backend#batchNormSiluPooled}). Elsewhere
     * (evaluation, 16-bit x, not 4-D) the two calls.
     */
    public static OutputAndMean batchNormSiluWithMean(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight,
                                                      Tensor bias, boolean training, double momentum, double eps) {
        if (training && x.rank() == 4 && !AutocastOp.isLow(x.dtype())) {
            return batchNorm(x, runningMean, runningVar, weight, bias, true, momentum, eps, true, true);
        }
        Tensor z = batchNormSilu(x, runningMean, runningVar, weight, bias, training, momentum, eps);
        return new OutputAndMean(z, globalAvgPool(z));
    }

    /** The batch norm's output, and when {@code pooled} (training, SiLU, 4-D float x) its mean over H and W. */
    private static OutputAndMean batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight,
                                           Tensor bias, boolean training, double momentum, double eps, boolean silu,
                                           boolean pooled) {
        int c = x.dim(-1);
        DType paramType = checkedParameterType(x, runningMean, runningVar, weight, bias);
        // 16-bit x with float32 parameters (autocast): in training the backend's mixed batch norm, which keeps
        // float32 statistics and can read and write x's dtype without casting passes; in evaluation, float32.
        boolean mixed = AutocastOp.isLow(x.dtype()) && paramType != x.dtype();
        if (mixed && !training) {
            Tensor wide = batchNorm(x.to(DType.FLOAT32), runningMean, runningVar, weight, bias, false, momentum, eps,
                    silu, false).output();
            return new OutputAndMean(wide.to(x.dtype()), null);
        }
        Backend b = x.backend();
        DType parameters = mixed ? DType.FLOAT32 : x.dtype();
        Tensor w = weight != null ? weight : b.full(Shape.of(c), parameters, 1);
        Tensor bb = bias != null ? bias : b.full(Shape.of(c), parameters, 0);
        if (!training) {
            if (runningMean == null || runningVar == null) {
                throw new IllegalArgumentException("batchNorm in evaluation mode needs running statistics");
            }
            Tensor scale = w.mul(runningVar.add(eps).pow(-0.5));
            Tensor y = x.mul(scale).add(bb.sub(runningMean.mul(scale)));
            return new OutputAndMean(silu ? y.silu() : y, null);
        }
        int count = valuesPerChannel(x);
        Backend.PooledBatchNorm withSums = pooled ? b.batchNormSiluPooled(x, w, bb, eps) : null;
        Backend.BatchNormResult r = pooled ? withSums.result() : mixed ? b.batchNormMixed(x, w, bb, eps, silu)
                : silu ? b.batchNormSilu(x, w, bb, eps) : b.batchNorm(x, w, bb, eps);
        updateRunningStatistics(runningMean, runningVar, r, momentum, count);
        if (silu && !mixed) {
            Tensor z = Autograd.record("batch_norm_silu", r.output(),
                    new BatchNormSiluBackward(x, w, bb, r.mean(), r.invStd()), x, w, bb);
            return new OutputAndMean(z, pooled ? meanOverPixels(z, withSums.channelSums()) : null);
        }
        return new OutputAndMean(Autograd.record(silu ? "batch_norm_silu" : "batch_norm", r.output(), g -> {
            Backend.BatchNormGrads grads = mixed ? b.batchNormMixedBackward(g, x, w, bb, r.mean(), r.invStd(), silu)
                    : silu ? b.batchNormSiluBackward(g, x, w, bb, r.mean(), r.invStd())
                    : b.batchNormBackward(g, x, w, r.mean(), r.invStd());
            return new Tensor[]{grads.input(), grads.weight(), grads.bias()};
        }, x, w, bb), null);
    }

    /**
     * The dtype of the batch norm parameters and buffers given (null when none is), after checking that each is
     * {@code [C]} on x's device, of x's dtype or float32 for 16-bit x, all of one dtype.
     */
    private static DType checkedParameterType(Tensor x, Tensor... parameters) {
        return checkedParameterType(x, x.dim(-1), x::describe, parameters);
    }

    /**
     * {@link #checkedParameterType(Tensor, Tensor...)} for a batch norm's x of {@code c} channels (described as
     * {@code described} gives) not made yet, of the dtype and on the device of {@code like}.
     */
    private static DType checkedParameterType(Tensor like, int c, Supplier<String> described, Tensor... parameters) {
        MathOps.requireFloating("batchNorm", like);
        DType paramType = null;
        for (Tensor t : parameters) {
            if (t == null) {
                continue;
            }
            // Backends read every parameter as x's dtype on x's device; anything else must not reach them.
            like.requireSameDevice("batchNorm", t);
            boolean mixed = t.dtype() == DType.FLOAT32 && AutocastOp.isLow(like.dtype());
            if ((t.dtype() != like.dtype() && !mixed) || (paramType != null && t.dtype() != paramType)) {
                throw new IllegalArgumentException("batchNorm: dtypes differ: " + described.get() + " and parameter "
                        + t.describe());
            }
            paramType = t.dtype();
            if (t.rank() != 1 || t.dim(0) != c) {
                throw new IllegalArgumentException("batchNorm: parameter " + t.describe() + " does not match "
                        + c + " channels of " + described.get());
            }
        }
        return paramType;
    }

    /** Values per channel of a batch norm's x in training: at least two, or the variance is undefined. */
    private static int valuesPerChannel(Tensor x) {
        return valuesPerChannel(x.shape(), x::describe);
    }

    private static int valuesPerChannel(Shape x, Supplier<String> described) {
        int count = x.numel() / x.dim(-1);
        if (count < 2) {
            throw new IllegalArgumentException("batchNorm in training needs more than one value per channel, got "
                    + described.get());
        }
        return count;
    }

    /** The running buffers (when given) moved toward this batch's statistics, as PyTorch does (unbiased variance). */
    private static void updateRunningStatistics(Tensor runningMean, Tensor runningVar, Backend.BatchNormResult r,
                                                double momentum, int count) {
        if (runningMean != null && runningVar != null) {
            // In place with the rounding of assign(running.mul(1 − m).add(batch.mul(m))), one kernel each on a GPU.
            try (NoGrad _ = NoGrad.enter()) {
                runningMean.scaleAddInPlace(1 - momentum, r.mean(), momentum);
                runningVar.scaleAddInPlace(1 - momentum, r.variance(), momentum * count / (count - 1.0));
            }
        }
    }

    /**
     * {@code conv2d(batchNormSilu(x, ..., training = true, ...), dwWeight, null, spec)} for a depthwise convolution
     * ({@code dwWeight: [KH, KW, 1, C]}, {@code spec.groups() = C}): an inverted bottleneck's expansion batch norm
     * and the depthwise layer that reads its output, in training. One op, whose backward hands the convolution's
     * output gradient to {@link Backend#depthwiseBatchNormSiluBackward}, so a backend can carry each row of the
     * convolution's input gradient through the batch norm while it is in cache. The batch norm + SiLU output is
     * kept for the depthwise weight gradient, as the two ops keep it, unless the backend
     * {@linkplain Backend#recomputesDepthwiseInput() recomputes it} in that pass: the forward is then
     * {@link Backend#batchNormSiluDepthwise}, which need not write it, and the backward takes both gradients from
     * {@link Backend#depthwiseBatchNormSiluGrads}. Same values and running-statistics update as the two calls (the
     * gradients' sums may add in another order, and a recomputed output round differently from the forward's). A
     * dtype other than float32, an {@link Autocast} scope, x not 4-D or a convolution that is not depthwise: the two
     * calls.
     */
    public static Tensor batchNormSiluDepthwise(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight,
                                                Tensor bias, double momentum, double eps, Tensor dwWeight,
                                                ConvSpec spec) {
        return batchNormSiluDepthwise(x, runningMean, runningVar, weight, bias, momentum, eps, dwWeight, spec, null);
    }

    /**
     * {@code batchNormSiluDepthwise(conv2d(input, pointwise, null, pointwiseSpec), ...)}: an inverted bottleneck's
     * expansion (a 1×1 convolution, no bias), its batch norm + SiLU and its depthwise layer, in training. Where the
     * backend {@linkplain Backend#recomputesDepthwiseInput() recomputes the depthwise input} and both convolution
     * weights take gradients, one op: its forward is {@link Backend#pointwiseBatchNormSiluDepthwise} (a backend can
     * take the batch statistics from the product as it writes x) and its backward takes every gradient from
     * {@link Backend#pointwiseBatchNormSiluDepthwiseGrads}, so that a backend need not write the batch norm's input
     * gradient whole: the same values as the two calls. Otherwise, or for what {@link #batchNormSiluDepthwise} does
     * not fuse: the two calls.
     */
    public static Tensor pointwiseBatchNormSiluDepthwise(Tensor input, Tensor pointwise, ConvSpec pointwiseSpec,
                                                         Tensor runningMean, Tensor runningVar, Tensor weight,
                                                         Tensor bias, double momentum, double eps, Tensor dwWeight,
                                                         ConvSpec spec) {
        Backend b = input.backend();
        boolean fused = b.recomputesDepthwiseInput() && pointwise.requiresGrad() && dwWeight.requiresGrad()
                && input.dtype() == DType.FLOAT32 && pointwise.dtype() == DType.FLOAT32 && input.rank() == 4
                && pointwise.rank() == 4 && !Autocast.isEnabled();
        if (fused) {
            checkConv(input, pointwise, pointwiseSpec);
        }
        Shape x = fused ? pointwiseSpec.outputShape(input.shape(), pointwise.shape()) : null;
        if (!fused || !fusesWithDepthwise(x, input.dtype(), dwWeight, spec)) {
            return batchNormSiluDepthwise(conv2d(input, pointwise, null, pointwiseSpec), runningMean, runningVar,
                    weight, bias, momentum, eps, dwWeight, spec);
        }
        // x is made by the backend's one call below; check against its shape what the call would check against x.
        Supplier<String> described = () -> "the 1×1 convolution's output " + x;
        checkConvShape(x, described, dwWeight, spec);
        checkedParameterType(input, x.dim(3), described, runningMean, runningVar, weight, bias);
        valuesPerChannel(x, described);
        Tensor w = weight != null ? weight : b.full(Shape.of(x.dim(3)), input.dtype(), 1);
        Tensor bb = bias != null ? bias : b.full(Shape.of(x.dim(3)), input.dtype(), 0);
        Backend.PointwiseBatchNormResult r = b.pointwiseBatchNormSiluDepthwise(input, pointwise, pointwiseSpec, w,
                bb, eps, dwWeight, spec);
        return batchNormSiluDepthwise(r.expansion(), runningMean, runningVar, w, bb, momentum, eps, dwWeight, spec,
                new Expansion(input, pointwise, pointwiseSpec, r.result()));
    }

    /**
     * The 1×1 convolution whose output a {@link #pointwiseBatchNormSiluDepthwise} normalises, and the batch norm +
     * depthwise result the backend made with it.
     */
    private record Expansion(Tensor input, Tensor weight, ConvSpec spec, Backend.BatchNormResult result) {
    }

    /** Whether {@link #batchNormSiluDepthwise} runs as one op for an x of this shape and dtype. */
    private static boolean fusesWithDepthwise(Shape x, DType dtype, Tensor dwWeight, ConvSpec spec) {
        return x.rank() == 4 && dtype == DType.FLOAT32 && dwWeight.dtype() == DType.FLOAT32 && !Autocast.isEnabled()
                && dwWeight.rank() == 4 && dwWeight.dim(2) == 1 && dwWeight.dim(3) == x.dim(3)
                && spec.groups() == x.dim(3);
    }

    /**
     * {@link #batchNormSiluDepthwise}, whose x is {@code expansion}'s output (not recorded) when that is not null,
     * its forward already done by the backend: the backward then carries the gradients on through it. Only
     * {@link #pointwiseBatchNormSiluDepthwise} passes an expansion, and only where the backend recomputes the
     * depthwise input and x fuses (the branch that records it).
     */
    private static Tensor batchNormSiluDepthwise(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight,
                                                 Tensor bias, double momentum, double eps, Tensor dwWeight,
                                                 ConvSpec spec, Expansion expansion) {
        if (!fusesWithDepthwise(x.shape(), x.dtype(), dwWeight, spec)) {
            return conv2d(batchNormSilu(x, runningMean, runningVar, weight, bias, true, momentum, eps), dwWeight, null,
                    spec);
        }
        checkedParameterType(x, runningMean, runningVar, weight, bias);
        checkConv(x, dwWeight, spec);
        int count = valuesPerChannel(x);
        Backend b = x.backend();
        Shape channels = Shape.of(x.dim(3));
        Tensor w = weight != null ? weight : b.full(channels, x.dtype(), 1);
        Tensor bb = bias != null ? bias : b.full(channels, x.dtype(), 0);
        if (b.recomputesDepthwiseInput()) {
            // z is never kept (nor, on the CPU, written): the backward recomputes it from x and the statistics.
            Backend.BatchNormResult r = expansion != null ? expansion.result()
                    : b.batchNormSiluDepthwise(x, w, bb, eps, dwWeight, spec);
            updateRunningStatistics(runningMean, runningVar, r, momentum, count);
            Tensor mean = r.mean();
            Tensor invStd = r.invStd();
            if (expansion != null) {
                return Autograd.record("pointwise_batch_norm_silu_depthwise", r.output(), g -> {
                    Backend.PointwiseBatchNormSiluDepthwiseGrads grads = b.pointwiseBatchNormSiluDepthwiseGrads(g,
                            dwWeight, spec, x, w, bb, mean, invStd, expansion.input(), expansion.weight(),
                            expansion.spec());
                    return new Tensor[]{grads.input(), grads.pointwiseWeight(), grads.batchNormWeight(),
                            grads.batchNormBias(), grads.depthwiseWeight()};
                }, expansion.input(), expansion.weight(), w, bb, dwWeight);
            }
            return Autograd.record("batch_norm_silu_depthwise", r.output(), g -> {
                if (!dwWeight.requiresGrad()) {
                    Backend.BatchNormGrads grads = b.depthwiseBatchNormSiluBackward(g, dwWeight, spec, x, w, bb, mean,
                            invStd);
                    return new Tensor[]{grads.input(), grads.weight(), grads.bias(), null};
                }
                Backend.DepthwiseBatchNormSiluGrads grads = b.depthwiseBatchNormSiluGrads(g, dwWeight, spec, x, w, bb,
                        mean, invStd);
                Backend.BatchNormGrads bn = grads.batchNorm();
                return new Tensor[]{bn.input(), bn.weight(), bn.bias(), grads.depthwiseWeight()};
            }, x, w, bb, dwWeight);
        }
        Backend.BatchNormResult r = b.batchNormSilu(x, w, bb, eps);
        updateRunningStatistics(runningMean, runningVar, r, momentum, count);
        Tensor z = r.output();
        Tensor y = b.conv2d(z, dwWeight, spec);
        return Autograd.record("batch_norm_silu_depthwise", y, g -> {
            Backend.BatchNormGrads grads = x.requiresGrad() || w.requiresGrad() || bb.requiresGrad()
                    ? b.depthwiseBatchNormSiluBackward(g, dwWeight, spec, x, w, bb, r.mean(), r.invStd()) : null;
            return new Tensor[]{
                    grads == null ? null : grads.input(),
                    grads == null ? null : grads.weight(),
                    grads == null ? null : grads.bias(),
                    dwWeight.requiresGrad() ? b.conv2dBackwardWeight(z, g, dwWeight.shape(), spec) : null};
        }, x, w, bb, dwWeight);
    }

    /**
     * {@code z.mean(true, 1, 2)} from the backend's sums of z over H and W ({@code [N, 1, 1, C]}): recorded as that
     * sum (its gradient broadcast back over z), then scaled by 1/(H·W), as {@link #globalAvgPool} computes it.
     */
    private static Tensor meanOverPixels(Tensor z, Tensor sums) {
        Shape shape = z.shape();
        Tensor summed = Autograd.record(ReduceOp.SUM.kernel(), sums, g -> new Tensor[]{g.expand(shape)}, z);
        return summed.mul(1.0 / ((long) shape.dim(1) * shape.dim(2)));
    }

    /**
     * The backward of training-mode {@code silu(batchNorm(x))} for float parameters of x's dtype. A part of the
     * gradient that is the same for every pixel of an image and channel (a squeeze-excitation's pooling sends
     * such a part) is passed on unsummed, for the backend to add as it reads the rest
     * ({@link Backend#batchNormSiluBackward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)}).
     */
    private record BatchNormSiluBackward(Tensor x, Tensor weight, Tensor bias, Tensor mean, Tensor invStd)
            implements GradNode.AddendRule {

        @Override
        public boolean acceptsAddend(Tensor part) {
            Layout l = part.layout();
            return x.rank() == 4 && part.dtype() == x.dtype() && part.shape().equals(x.shape())
                    && l.stride(1) == 0 && l.stride(2) == 0;
        }

        @Override
        public Tensor[] apply(Tensor g, Tensor addend) {
            // [N, H, W, C] with H and W broadcast → its [N, 1, 1, C] values, a view.
            Tensor perImage = addend == null ? null : addend.narrow(1, 0, 1).narrow(2, 0, 1);
            Backend.BatchNormGrads grads = x.backend().batchNormSiluBackward(g, perImage, x, weight, bias, mean,
                    invStd);
            return new Tensor[]{grads.input(), grads.weight(), grads.bias()};
        }
    }

    /** Max or average pooling over H and W of an NHWC tensor. */
    public static Tensor pool2d(Tensor x, PoolSpec spec) {
        MathOps.requireFloating("pool2d", x);
        if (x.rank() != 4) {
            throw new IllegalArgumentException("pool2d needs x [N, H, W, C], got " + x.describe());
        }
        if (spec.outHeight(x.dim(1)) < 1 || spec.outWidth(x.dim(2)) < 1) {
            throw new IllegalArgumentException("pool2d: window " + spec + " does not fit " + x.describe());
        }
        Tensor y = x.backend().pool2d(x, spec);
        return Autograd.record(spec.max() ? "max_pool2d" : "avg_pool2d", y,
                g -> new Tensor[]{x.backend().pool2dBackward(x, g, spec)}, x);
    }

    /** Mean over H and W: {@code [N, H, W, C] → [N, 1, 1, C]}. */
    public static Tensor globalAvgPool(Tensor x) {
        return x.mean(true, 1, 2);
    }

    /** log(softmax(x)) along {@code dim}, computed stably. */
    public static Tensor logSoftmax(Tensor input, int dim) {
        Tensor x = AutocastOp.LOG_SOFTMAX.input(input);
        Tensor shifted = x.sub(x.max(true, dim).detach());
        return shifted.sub(shifted.exp().sum(true, dim).log());
    }

    /** softmax along {@code dim}. */
    public static Tensor softmax(Tensor x, int dim) {
        return logSoftmax(AutocastOp.SOFTMAX.input(x), dim).exp();
    }

    /** Zeroes elements with probability {@code p} and scales the rest by 1/(1-p), in training only. */
    public static Tensor dropout(Tensor x, double p, boolean training, Generator gen) {
        checkProbability(p);
        if (!training || p == 0) {
            return x;
        }
        Tensor mask = Init.bernoulli(gen, x.shape(), 1 - p, x.dtype(), x.device());
        return x.mul(mask.mul(1 / (1 - p)));
    }

    /**
     * Stochastic depth: drops whole samples (dimension 0) with probability {@code p} and scales the kept ones by
     * 1/(1-p), in training only (timm's drop_path, torchvision's StochasticDepth "row" mode).
     */
    public static Tensor dropPath(Tensor x, double p, boolean training, Generator gen) {
        checkProbability(p);
        if (!training || p == 0) {
            return x;
        }
        int[] maskShape = new int[x.rank()];
        java.util.Arrays.fill(maskShape, 1);
        maskShape[0] = x.dim(0);
        Tensor mask = Init.bernoulli(gen, Shape.of(maskShape), 1 - p, x.dtype(), x.device());
        return x.mul(mask.mul(1 / (1 - p)));
    }

    private static void checkProbability(double p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("drop probability must be in [0, 1), got " + p);
        }
    }

    /**
     * Binary cross-entropy on logits, stable for large |x|. {@code weight} (per element, broadcast) and
     * {@code posWeight} (weight of positive targets, broadcast over the last dimension) may be null.
     */
    public static Tensor binaryCrossEntropyWithLogits(Tensor logitsInput, Tensor targetsInput, Tensor weightInput,
                                                      Tensor posWeightInput, Reduction reduction) {
        AutocastOp policy = AutocastOp.BCE_WITH_LOGITS;
        Tensor logits = policy.input(logitsInput);
        Tensor targets = policy.input(targetsInput);
        Tensor weight = policy.input(weightInput);
        Tensor posWeight = policy.input(posWeightInput);
        if (!logits.shape().equals(targets.shape())) {
            throw new IllegalArgumentException("BCE: logits " + logits.describe() + " and targets " + targets.describe()
                    + " differ in shape");
        }
        Tensor loss;
        if (posWeight == null) {
            loss = logits.softplus().sub(logits.mul(targets));
        } else {
            // -[pw·y·log σ(x) + (1-y)·log(1-σ(x))] = pw·y·softplus(-x) + (1-y)·softplus(x)
            loss = targets.mul(posWeight).mul(logits.neg().softplus())
                    .add(targets.neg().add(1).mul(logits.softplus()));
        }
        if (weight != null) {
            loss = loss.mul(weight);
        }
        return reduction.apply(loss);
    }

    /**
     * Cross-entropy of {@code logits [B, C]} against INT64 class {@code labels [B]}, with label smoothing ε:
     * per sample (1-ε)·(−log p[label]) + ε·mean over classes of (−log p).
     */
    public static Tensor crossEntropy(Tensor logitsInput, Tensor labels, double labelSmoothing, Reduction reduction) {
        Tensor logits = AutocastOp.CROSS_ENTROPY.input(logitsInput);
        if (logits.rank() != 2 || labels.rank() != 1 || labels.dim(0) != logits.dim(0)) {
            throw new IllegalArgumentException("crossEntropy needs logits [B, C] and labels [B], got "
                    + logits.describe() + " and " + labels.describe());
        }
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1], got " + labelSmoothing);
        }
        checkLabels(labels, logits.dim(1));
        Tensor logp = logSoftmax(logits, 1);
        Tensor nll = logp.gather(1, labels.reshape(-1, 1)).reshape(-1).neg();
        Tensor loss = nll.mul(1 - labelSmoothing);
        if (labelSmoothing > 0) {
            loss = loss.add(logp.mean(false, 1).neg().mul(labelSmoothing));
        }
        return reduction.apply(loss);
    }

    private static void checkLabels(Tensor labels, int classes) {
        if (labels.dtype() != DType.INT64) {
            throw new IllegalArgumentException("labels must be int64, got " + labels.describe());
        }
        long[] values = (long[]) labels.contiguous().toHost().data();
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0 || values[i] >= classes) {
                throw new IllegalArgumentException("label " + values[i] + " at index " + i + " is outside 0.." + (classes - 1));
            }
        }
    }

    /** Mean squared error. */
    public static Tensor mseLoss(Tensor prediction, Tensor targetInput, Reduction reduction) {
        Tensor input = AutocastOp.MSE_LOSS.input(prediction);
        Tensor target = AutocastOp.MSE_LOSS.input(targetInput);
        if (!input.shape().equals(target.shape())) {
            throw new IllegalArgumentException("mseLoss: " + input.describe() + " and " + target.describe() + " differ in shape");
        }
        Tensor d = input.sub(target);
        return reduction.apply(d.mul(d));
    }

    /** Constant padding: {@code before[d]} / {@code after[d]} elements along each dimension. */
    public static Tensor pad(Tensor x, int[] before, int[] after, double value) {
        return Views.pad(x, before, after, value);
    }

    /** Concatenation along an existing dimension. */
    public static Tensor concat(List<Tensor> parts, int dim) {
        return Views.concat(parts, dim);
    }

    /** Stacking along a new dimension. */
    public static Tensor stack(List<Tensor> parts, int dim) {
        return Views.stack(parts, dim);
    }
}
