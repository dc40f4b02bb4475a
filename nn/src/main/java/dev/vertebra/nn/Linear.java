package dev.vertebra.nn;

import dev.vertebra.core.Backends;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

/**
 * Fully connected layer {@code y = x·Wᵀ + b} with PyTorch's layout: {@code weight [out, in]}, {@code bias [out]}.
 * Initialised as torchvision's EfficientNet classifier: weight uniform ±1/√out_features, bias zero.
 *
 * <pre>{@code
 * Linear fc = new Linear(1280, 7, true, gen);
 * Tensor logits = fc.forward(features);     // [N, 1280] → [N, 7]
 * }</pre>
 */
public final class Linear extends Module {
    private final int inFeatures;
    private final int outFeatures;
    private final Parameter weight;
    private final Parameter bias;

    public Linear(int inFeatures, int outFeatures, boolean bias, Generator gen) {
        if (inFeatures < 1 || outFeatures < 1) {
            throw new IllegalArgumentException("Linear needs positive sizes, got " + inFeatures + " → " + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        Device device = Backends.defaultDevice();
        weight = registerParameter("weight",
                new Parameter(Tensor.zeros(Shape.of(outFeatures, inFeatures), DType.FLOAT32, device)));
        Initializers.uniform(weight, 1 / Math.sqrt(outFeatures), gen);
        this.bias = bias ? registerParameter("bias",
                new Parameter(Tensor.zeros(Shape.of(outFeatures), DType.FLOAT32, device))) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() < 1 || x.dim(-1) != inFeatures) {
            throw new IllegalArgumentException("Linear(" + inFeatures + " → " + outFeatures + ") needs [..., "
                    + inFeatures + "] input, got " + x.describe());
        }
        return Functional.linear(x, weight.data(), bias == null ? null : bias.data());
    }

    /** The weight {@code [out, in]}. */
    public Parameter weight() {
        return weight;
    }

    /** The bias {@code [out]}, or null. */
    public Parameter bias() {
        return bias;
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    @Override
    public String toString() {
        return "Linear(" + inFeatures + " → " + outFeatures + ", bias=" + (bias != null) + ")";
    }
}
