package dev.vertebra.nn;

import dev.vertebra.core.Activation;
import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

/**
 * 2-D convolution over NHWC input ({@code [N, H, W, Cin] → [N, H', W', Cout]}) with a square kernel. The weight
 * is held HWIO ({@code [K, K, Cin/groups, Cout]}) and saved OIHW as PyTorch's {@code weight}; the optional
 * {@code bias} is {@code [Cout]}. Weights start Kaiming-normal (fan-out), biases at zero, as in torchvision's
 * EfficientNet.
 *
 * <pre>{@code
 * Conv2d stem = new Conv2d(3, 32, 3, 2, Padding.of(1), 1, 1, false, gen);
 * Conv2d depthwise = new Conv2d(96, 96, 5, 2, Padding.same(), 1, 96, false, gen);
 * Tensor y = stem.forward(x);          // x: [N, 224, 224, 3] → [N, 112, 112, 32]
 * }</pre>
 */
public final class Conv2d extends Module {
    private final int inChannels;
    private final int outChannels;
    private final int kernel;
    private final int stride;
    private final Padding padding;
    private final int dilation;
    private final int groups;
    private final Parameter weight;
    private final Parameter bias;

    /** Stride 1, no padding, with bias. */
    public Conv2d(int inChannels, int outChannels, int kernel, Generator gen) {
        this(inChannels, outChannels, kernel, 1, Padding.of(0), 1, 1, true, gen);
    }

    public Conv2d(int inChannels, int outChannels, int kernel, int stride, Padding padding, int dilation, int groups,
                  boolean bias, Generator gen) {
        if (inChannels < 1 || outChannels < 1 || kernel < 1 || stride < 1 || dilation < 1 || groups < 1) {
            throw new IllegalArgumentException("Conv2d: channels, kernel, stride, dilation and groups must be ≥ 1, got in="
                    + inChannels + " out=" + outChannels + " kernel=" + kernel + " stride=" + stride + " dilation="
                    + dilation + " groups=" + groups);
        }
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("Conv2d: groups " + groups + " must divide in " + inChannels + " and out "
                    + outChannels);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.groups = groups;
        Device device = Backends.defaultDevice();
        this.weight = registerParameter("weight", new Parameter(
                Tensor.zeros(Shape.of(kernel, kernel, inChannels / groups, outChannels), DType.FLOAT32, device),
                FileLayout.CONV_HWIO_AS_OIHW));
        Initializers.kaimingNormalFanOut(weight, gen);
        this.bias = bias ? registerParameter("bias",
                new Parameter(Tensor.zeros(Shape.of(outChannels), DType.FLOAT32, device))) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.conv2d(x, weight.data(), bias == null ? null : bias.data(), spec(x));
    }

    /**
     * {@code activation(forward(x))}, as one op where no gradient is recorded ({@link Functional#conv2dActivation}:
     * the bias and the activation in the convolution's epilogue).
     */
    public Tensor forwardActivation(Tensor x, Activation activation) {
        return Functional.conv2dActivation(x, weight.data(), bias == null ? null : bias.data(), spec(x), activation);
    }

    /**
     * {@code forward(x · gate)}, {@code gate: [N, 1, 1, inChannels]} (a squeeze-and-excitation gate), as one op with
     * its own backward for an unbiased 1×1 convolution ({@link Functional#conv2dGated}): the backend need not store
     * {@code x · gate}. Other convolutions: the product, then {@link #forward}.
     */
    public Tensor forwardGated(Tensor x, Tensor gate) {
        return bias == null ? Functional.conv2dGated(x, gate, weight.data(), spec(x)) : forward(x.mul(gate));
    }

    /**
     * {@code activation(bn.forward(forward(x)))} for a batch norm in evaluation mode with running statistics, as
     * one fused op when no gradient is needed ({@link Functional#conv2dBatchNormEval}): what {@link Sequential}
     * runs for conv → batch norm (→ SiLU or ReLU) in evaluation.
     *
     * @throws IllegalStateException when {@code bn} is training or keeps no running statistics
     */
    public Tensor forwardBatchNorm(Tensor x, BatchNorm2d bn, Activation activation) {
        return forwardBatchNorm(x, null, bn, activation);
    }

    /**
     * {@link #forwardBatchNorm(Tensor, BatchNorm2d, Activation)} of {@code x · gate}, {@code gate} null or
     * {@code [N, 1, 1, inChannels]} (a squeeze-and-excitation gate): the backend may fold the gate into the weights
     * instead of scaling x.
     */
    public Tensor forwardBatchNorm(Tensor x, Tensor gate, BatchNorm2d bn, Activation activation) {
        ConvSpec spec = spec(x);
        return Functional.conv2dBatchNormEval(x, gate, withBatchNorm(spec, bn, activation));
    }

    /**
     * {@code forwardBatchNorm(x, gate, bn, Activation.NONE).add(residual)}: a projection and its skip connection in
     * evaluation, the residual added as each block of the output is finished where the backend can
     * ({@link Functional#conv2dBatchNormEvalResidual}).
     */
    public Tensor forwardBatchNormResidual(Tensor x, Tensor gate, BatchNorm2d bn, Tensor residual) {
        return Functional.conv2dBatchNormEvalResidual(x, gate, withBatchNorm(spec(x), bn, Activation.NONE), residual);
    }

    /**
     * This convolution followed by {@code bn} (evaluation mode, running statistics) and {@code activation}, for
     * inputs of {@code height × width} (TensorFlow "SAME" padding depends on the size): a layer of
     * {@link Functional#conv2dBatchNormEvalChain}.
     *
     * @throws IllegalStateException when {@code bn} is training or keeps no running statistics
     */
    public Functional.ConvBatchNorm withBatchNorm(int height, int width, BatchNorm2d bn, Activation activation) {
        return withBatchNorm(spec(height, width), bn, activation);
    }

    private Functional.ConvBatchNorm withBatchNorm(ConvSpec spec, BatchNorm2d bn, Activation activation) {
        if (!bn.foldsIntoConvolution()) {
            throw new IllegalStateException(bn + " folds into a convolution only in evaluation mode with running "
                    + "statistics");
        }
        if (bn.numFeatures() != outChannels) {
            throw new IllegalArgumentException(bn + " does not match the " + outChannels + " channels of " + this);
        }
        return new Functional.ConvBatchNorm(weight.data(), bias == null ? null : bias.data(), spec,
                bn.runningMean().data(), bn.runningVar().data(), bn.weight() == null ? null : bn.weight().data(),
                bn.bias() == null ? null : bn.bias().data(), bn.eps(), activation);
    }

    /**
     * The convolution's geometry for input {@code x} ({@code [N, H, W, inChannels]}): TensorFlow "SAME" padding
     * depends on its size.
     */
    public ConvSpec spec(Tensor x) {
        if (x.rank() != 4 || x.dim(3) != inChannels) {
            throw new IllegalArgumentException("Conv2d(" + inChannels + " → " + outChannels + ") needs [N, H, W, "
                    + inChannels + "] input, got " + x.describe());
        }
        return spec(x.dim(1), x.dim(2));
    }

    /** The convolution's geometry for an input of {@code height × width} pixels. */
    public ConvSpec spec(int height, int width) {
        return switch (padding) {
            case Padding.Fixed(int p) -> ConvSpec.of(stride, p, dilation, groups);
            case Padding.Same() -> ConvSpec.same(height, width, kernel, kernel, stride, dilation, groups);
        };
    }

    /** The weight, held HWIO {@code [K, K, Cin/groups, Cout]}. */
    public Parameter weight() {
        return weight;
    }

    /** The bias {@code [Cout]}, or null. */
    public Parameter bias() {
        return bias;
    }

    public int inChannels() {
        return inChannels;
    }

    public int outChannels() {
        return outChannels;
    }

    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    public Padding padding() {
        return padding;
    }

    public int dilation() {
        return dilation;
    }

    public int groups() {
        return groups;
    }

    @Override
    public String toString() {
        return "Conv2d(" + inChannels + ", " + outChannels + ", kernel=" + kernel + ", stride=" + stride + ", "
                + padding + ", dilation=" + dilation + ", groups=" + groups + ", bias=" + (bias != null) + ")";
    }
}
