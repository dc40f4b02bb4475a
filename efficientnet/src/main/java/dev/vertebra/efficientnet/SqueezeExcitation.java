package dev.vertebra.efficientnet;

import dev.vertebra.core.Activation;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Tensor;
import dev.vertebra.nn.Conv2d;
import dev.vertebra.nn.Module;
import dev.vertebra.nn.Padding;

/**
 * Squeeze-and-excitation: each channel of the input is scaled by a gate computed from the global average of all
 * channels, {@code x · σ(fc2(SiLU(fc1(mean_HW(x)))))}, with 1×1 convolutions {@code fc1} (channels → squeeze) and
 * {@code fc2} (squeeze → channels), both with bias, named as torchvision's {@code SqueezeExcitation}.
 *
 * <pre>{@code
 * SqueezeExcitation se = new SqueezeExcitation(96, 4, gen);
 * Tensor y = se.forward(x);            // x: [N, H, W, 96] → [N, H, W, 96]
 * }</pre>
 */
public final class SqueezeExcitation extends Module {
    private final Conv2d fc1;
    private final Conv2d fc2;

    public SqueezeExcitation(int channels, int squeezeChannels, Generator gen) {
        fc1 = registerModule("fc1", new Conv2d(channels, squeezeChannels, 1, 1, Padding.of(0), 1, 1, true, gen));
        fc2 = registerModule("fc2", new Conv2d(squeezeChannels, channels, 1, 1, Padding.of(0), 1, 1, true, gen));
    }

    @Override
    public Tensor forward(Tensor x) {
        return x.mul(gate(x));
    }

    /** The gate {@code σ(fc2(SiLU(fc1(mean_HW(x)))))}: [N, 1, 1, C], what {@link #forward} multiplies x by. */
    public Tensor gate(Tensor x) {
        return gateOfMean(Functional.globalAvgPool(x));
    }

    /**
     * {@link #gate} from the input's mean over H and W ({@code [N, 1, 1, C]}), where the caller already has it. Each
     * convolution's bias and activation (fc1's SiLU, the sigmoid after fc2) go into its epilogue where no gradient
     * is recorded ({@link Conv2d#forwardActivation}).
     */
    public Tensor gateOfMean(Tensor mean) {
        return fc2.forwardActivation(fc1.forwardActivation(mean, Activation.SILU), Activation.SIGMOID);
    }

    public Conv2d fc1() {
        return fc1;
    }

    public Conv2d fc2() {
        return fc2;
    }
}
