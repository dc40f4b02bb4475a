package dev.vertebra.nn;

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

    /** Applies the layers in order; a {@link BatchNorm2d} directly followed by a {@link SiLU} runs as one fused op. */
    @Override
    public Tensor forward(Tensor x) {
        Tensor y = x;
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof BatchNorm2d bn && i + 1 < layers.size() && layers.get(i + 1) instanceof SiLU) {
                y = bn.forwardSilu(y);
                i++;
            } else {
                y = layers.get(i).forward(y);
            }
        }
        return y;
    }
}
