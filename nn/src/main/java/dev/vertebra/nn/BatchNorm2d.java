package dev.vertebra.nn;

import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

/**
 * Batch normalisation over the channel (last) dimension of NHWC input. Parameters {@code weight}/{@code bias}
 * ({@code [C]}, ones/zeros) when affine; buffers {@code running_mean}, {@code running_var} ({@code [C]},
 * zeros/ones) and {@code num_batches_tracked} (0-d INT64) when tracking running statistics, as in PyTorch.
 *
 * <p>In training, normalises with the batch's biased variance and updates the running statistics with PyTorch's
 * momentum convention ({@code running = (1 − momentum)·running + momentum·batch}, unbiased variance), and counts
 * the batch in {@code num_batches_tracked}. In evaluation, uses the running statistics; without them, the batch
 * statistics. (TensorFlow's momentum m corresponds to PyTorch's 1 − m: torchvision's EfficientNet uses 0.01.)
 *
 * <pre>{@code
 * BatchNorm2d bn = new BatchNorm2d(32, 1e-3, 0.01);
 * Tensor y = bn.forward(x);            // x: [N, H, W, 32]
 * }</pre>
 */
public final class BatchNorm2d extends Module {
    private final int numFeatures;
    private final double eps;
    private final double momentum;
    private final Parameter weight;
    private final Parameter bias;
    private final Buffer runningMean;
    private final Buffer runningVar;
    private final Buffer numBatchesTracked;

    /** PyTorch's defaults: eps 1e-5, momentum 0.1, affine, tracking running statistics. */
    public BatchNorm2d(int numFeatures) {
        this(numFeatures, 1e-5, 0.1);
    }

    /** Affine, tracking running statistics. */
    public BatchNorm2d(int numFeatures, double eps, double momentum) {
        this(numFeatures, eps, momentum, true, true);
    }

    public BatchNorm2d(int numFeatures, double eps, double momentum, boolean affine, boolean trackRunningStats) {
        if (numFeatures < 1 || !(eps > 0) || !(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("BatchNorm2d needs numFeatures ≥ 1, eps > 0 and momentum in [0, 1], got "
                    + numFeatures + ", " + eps + ", " + momentum);
        }
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        Device device = Backends.defaultDevice();
        Shape c = Shape.of(numFeatures);
        weight = affine ? registerParameter("weight", new Parameter(Tensor.full(c, DType.FLOAT32, device, 1))) : null;
        bias = affine ? registerParameter("bias", new Parameter(Tensor.full(c, DType.FLOAT32, device, 0))) : null;
        if (trackRunningStats) {
            runningMean = registerBuffer("running_mean", Tensor.full(c, DType.FLOAT32, device, 0));
            runningVar = registerBuffer("running_var", Tensor.full(c, DType.FLOAT32, device, 1));
            numBatchesTracked = registerBuffer("num_batches_tracked",
                    Tensor.full(Shape.scalar(), DType.INT64, device, 0));
        } else {
            runningMean = null;
            runningVar = null;
            numBatchesTracked = null;
        }
    }

    /**
     * {@code silu(forward(x))} in one fused op ({@link Functional#batchNormSilu}); what {@link Sequential} runs for
     * a batch norm followed by a {@link SiLU}.
     */
    public Tensor forwardSilu(Tensor x) {
        return forward(x, true, false).output();
    }

    /**
     * {@link #forwardSilu} and its output's mean over H and W ({@code [N, 1, 1, C]}, what
     * {@link Functional#globalAvgPool} gives), which a squeeze-excitation pools: in training the backend may sum the
     * output while writing it ({@link Functional#batchNormSiluWithMean}).
     */
    public Functional.OutputAndMean forwardSiluWithMean(Tensor x) {
        return forward(x, true, true);
    }

    /**
     * {@code depthwise.forward(forwardSilu(x))}: for an unbiased depthwise {@code depthwise} in training one op
     * ({@link Functional#batchNormSiluDepthwise}), whose backward carries the convolution's input gradient through
     * this batch norm + SiLU while it is in cache (an inverted bottleneck's expansion, then its depthwise layer); on
     * the CPU the batch norm + SiLU output is then neither kept nor written whole. Otherwise the two calls.
     */
    public Tensor forwardSiluThenDepthwise(Tensor x, Conv2d depthwise) {
        if (!fusesWith(depthwise)) {
            return depthwise.forward(forwardSilu(x));
        }
        checkInput(x);
        boolean tracking = runningMean != null;
        Tensor y = Functional.batchNormSiluDepthwise(x, tracking ? runningMean.data() : null,
                tracking ? runningVar.data() : null, weight == null ? null : weight.data(),
                bias == null ? null : bias.data(), momentum, eps, depthwise.weight().data(), depthwise.spec(x));
        return tracked(y);
    }

    /**
     * {@code forwardSiluThenDepthwise(pointwise.forward(input), depthwise)}: for an unbiased {@code pointwise} (an
     * inverted bottleneck's expansion) in training one op ({@link Functional#pointwiseBatchNormSiluDepthwise}),
     * whose backward carries the gradients on through the expansion, so that a backend need not write this batch
     * norm's input gradient whole. Otherwise the calls one after another.
     */
    public Tensor forwardSiluThenDepthwise(Conv2d pointwise, Tensor input, Conv2d depthwise) {
        if (!fusesWith(depthwise) || pointwise.bias() != null || pointwise.outChannels() != numFeatures) {
            return forwardSiluThenDepthwise(pointwise.forward(input), depthwise);
        }
        boolean tracking = runningMean != null;
        ConvSpec pointwiseSpec = pointwise.spec(input);
        int k = pointwise.kernel();
        ConvSpec depthwiseSpec = depthwise.spec(pointwiseSpec.outHeight(input.dim(1), k),
                pointwiseSpec.outWidth(input.dim(2), k));
        Tensor y = Functional.pointwiseBatchNormSiluDepthwise(input, pointwise.weight().data(), pointwiseSpec,
                tracking ? runningMean.data() : null, tracking ? runningVar.data() : null,
                weight == null ? null : weight.data(), bias == null ? null : bias.data(), momentum, eps,
                depthwise.weight().data(), depthwiseSpec);
        return tracked(y);
    }

    private boolean fusesWith(Conv2d depthwise) {
        return isTraining() && depthwise.bias() == null && depthwise.inChannels() == numFeatures
                && depthwise.groups() == numFeatures && depthwise.outChannels() == numFeatures;
    }

    private Tensor tracked(Tensor y) {
        if (runningMean != null) {
            numBatchesTracked.increment(1);
        }
        return y;
    }

    @Override
    public Tensor forward(Tensor x) {
        return forward(x, false, false).output();
    }

    private void checkInput(Tensor x) {
        if (x.rank() < 2 || x.dim(-1) != numFeatures) {
            throw new IllegalArgumentException("BatchNorm2d(" + numFeatures + ") needs channels-last input with "
                    + numFeatures + " channels, got " + x.describe());
        }
    }

    private Functional.OutputAndMean forward(Tensor x, boolean silu, boolean withMean) {
        checkInput(x);
        boolean tracking = runningMean != null;
        boolean useBatchStats = isTraining() || !tracking;
        boolean update = isTraining() && tracking;
        // Running statistics are passed when they are updated (training) or used (evaluation).
        Tensor mean = tracking ? runningMean.data() : null;
        Tensor var = tracking ? runningVar.data() : null;
        Tensor w = weight == null ? null : weight.data();
        Tensor b = bias == null ? null : bias.data();
        Functional.OutputAndMean out;
        if (withMean) {
            out = Functional.batchNormSiluWithMean(x, mean, var, w, b, useBatchStats, momentum, eps);
        } else {
            Tensor y = silu ? Functional.batchNormSilu(x, mean, var, w, b, useBatchStats, momentum, eps)
                    : Functional.batchNorm(x, mean, var, w, b, useBatchStats, momentum, eps);
            out = new Functional.OutputAndMean(y, null); // no mean asked for
        }
        if (update) {
            // On the host until the buffer is read (a checkpoint): no device work per layer and step.
            numBatchesTracked.increment(1);
        }
        return out;
    }

    /**
     * True when this batch norm is a fixed per-channel affine map (evaluation mode with running statistics), so a
     * preceding convolution can apply it in its epilogue ({@link Conv2d#forwardBatchNorm}).
     */
    public boolean foldsIntoConvolution() {
        return !isTraining() && runningMean != null;
    }

    /** The scale {@code [C]}, or null when not affine. */
    public Parameter weight() {
        return weight;
    }

    /** The shift {@code [C]}, or null when not affine. */
    public Parameter bias() {
        return bias;
    }

    /** Running mean {@code [C]}, or null when not tracking. */
    public Buffer runningMean() {
        return runningMean;
    }

    /** Running (unbiased) variance {@code [C]}, or null when not tracking. */
    public Buffer runningVar() {
        return runningVar;
    }

    /** Number of training batches seen (0-d INT64), or null when not tracking. */
    public Buffer numBatchesTracked() {
        return numBatchesTracked;
    }

    public int numFeatures() {
        return numFeatures;
    }

    public double eps() {
        return eps;
    }

    public double momentum() {
        return momentum;
    }

    @Override
    public String toString() {
        return "BatchNorm2d(" + numFeatures + ", eps=" + eps + ", momentum=" + momentum + ")";
    }
}
