package dev.vertebra.nn.optim;

import java.util.List;

/**
 * Adam with decoupled weight decay (Loshchilov &amp; Hutter), PyTorch's {@code AdamW}: before the Adam update,
 * {@code p *= 1 − lr·weight_decay}; the gradient itself is not decayed.
 *
 * <pre>{@code
 * Optimizer opt = new AdamW(ParamGroup.decayExceptNormAndBias(model, 1e-3, 0.05), 0.9, 0.999, 1e-8);
 * }</pre>
 */
public final class AdamW extends Adam {

    public AdamW(List<ParamGroup> groups, double beta1, double beta2, double eps) {
        super(groups, beta1, beta2, eps, true);
    }
}
