package dev.vertebra.nn;

import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.Tensor;

/**
 * Weight initialisers as torchvision's EfficientNet uses them, all drawn from a seeded {@link Generator}:
 * Kaiming-normal with fan-out for convolutions, uniform ±1/√out_features for linear weights, zeros for biases,
 * ones/zeros for batch-norm scale/shift.
 *
 * <pre>{@code
 * Initializers.kaimingNormalFanOut(conv.weight(), gen);
 * Initializers.uniform(fc.weight(), 1 / Math.sqrt(fc.outFeatures()), gen);
 * }</pre>
 */
public final class Initializers {

    private Initializers() {
    }

    /**
     * Kaiming-normal, fan-out mode, ReLU gain: std = √(2 / fan_out) for an HWIO convolution weight
     * {@code [KH, KW, Cin/groups, Cout]}. As in {@code torch.nn.init}, fan_out = Cout·KH·KW: the number of
     * groups does not enter (the weight's first PyTorch dimension is Cout whatever the grouping), so a depthwise
     * 3×3 conv with C channels gets std √(2 / 9C).
     */
    public static void kaimingNormalFanOut(Parameter convWeight, Generator gen) {
        Tensor w = convWeight.data();
        if (w.rank() != 4) {
            throw new IllegalArgumentException("kaimingNormalFanOut needs an HWIO conv weight, got " + w.describe());
        }
        double fanOut = (double) w.dim(3) * w.dim(0) * w.dim(1);
        normal(convWeight, 0, Math.sqrt(2 / fanOut), gen);
    }

    /** Fills with N(mean, std²). */
    public static void normal(Parameter p, double mean, double std, Generator gen) {
        p.copyFrom(Init.normal(gen, p.data().shape(), mean, std, p.data().device()));
    }

    /** Fills with U(-bound, bound). */
    public static void uniform(Parameter p, double bound, Generator gen) {
        p.copyFrom(Init.uniform(gen, p.data().shape(), -bound, bound, p.data().device()));
    }

    /** Fills with a constant. */
    public static void constant(Parameter p, double value) {
        p.copyFrom(Tensor.full(p.data().shape(), p.data().dtype(), p.data().device(), value));
    }
}
