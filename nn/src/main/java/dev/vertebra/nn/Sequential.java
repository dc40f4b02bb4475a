package dev.vertebra.nn;

import dev.vertebra.core.Activation;
import dev.vertebra.core.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Applies its children in order; children are named "0", "1", … as in PyTorch, so a Sequential registered as
 * {@code features} yields names like {@code features.0.weight}.
 *
 * <pre>{@code
 * Sequential head = new Sequential(new AdaptiveAvgPool2d(), new Flatten(), new Dropout(0.2, gen),
 *         new Linear(1280, 7, true, gen));
 * Tensor logits = head.forward(x);
 * }</pre>
 */
public final class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... layers) {
        for (Module layer : layers) {
            add(layer);
        }
    }

    /** Appends a layer under the next index; returns this. */
    public Sequential add(Module layer) {
        layers.add(registerModule(Integer.toString(layers.size()), layer));
        return this;
    }

    /** The layer at {@code index}. */
    public Module get(int index) {
        if (index < 0 || index >= layers.size()) {
            throw new IndexOutOfBoundsException("Sequential has " + layers.size() + " layers, no index " + index);
        }
        return layers.get(index);
    }

    /** Number of layers. */
    public int size() {
        return layers.size();
    }

    /**
     * Applies the layers in order, fusing neighbours that have a fused op: a {@link Conv2d} followed by a
     * {@link BatchNorm2d} in evaluation mode (and a {@link SiLU} or {@link ReLU}) runs as one convolution with the
     * batch norm and activation in its epilogue ({@link Conv2d#forwardBatchNorm}); a {@link BatchNorm2d} followed
     * by a {@link SiLU}, as one batch norm + SiLU.
     */
    @Override
    public Tensor forward(Tensor x) {
        Tensor y = x;
        for (int i = 0; i < layers.size(); i++) {
            Module layer = layers.get(i);
            if (layer instanceof Conv2d conv && layerAt(i + 1) instanceof BatchNorm2d bn && bn.foldsIntoConvolution()) {
                Activation activation = switch (layerAt(i + 2)) {
                    case SiLU _ -> Activation.SILU;
                    case ReLU _ -> Activation.RELU;
                    case null, default -> Activation.NONE;
                };
                y = conv.forwardBatchNorm(y, bn, activation);
                i += activation == Activation.NONE ? 1 : 2;
            } else if (layer instanceof BatchNorm2d bn && layerAt(i + 1) instanceof SiLU) {
                y = bn.forwardSilu(y);
                i++;
            } else {
                y = layer.forward(y);
            }
        }
        return y;
    }

    private Module layerAt(int index) {
        return index < layers.size() ? layers.get(index) : null;
    }
}
