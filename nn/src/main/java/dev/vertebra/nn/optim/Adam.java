package dev.vertebra.nn.optim;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Tensor;
import dev.vertebra.nn.Parameter;

import java.util.List;

/**
 * Adam with PyTorch's semantics. With {@code decoupled == false} (PyTorch's {@code Adam}) weight decay is added to
 * the gradient; {@link AdamW} decays the weights directly. Per step t:
 * {@code m = β1·m + (1 − β1)·g}, {@code v = β2·v + (1 − β2)·g²},
 * {@code p −= lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps)}.
 *
 * <pre>{@code
 * Optimizer adam = new Adam(List.of(ParamGroup.of(model.parameters(), 1e-3, 0)), 0.9, 0.999, 1e-8);
 * }</pre>
 */
public class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final boolean decoupled;

    public Adam(List<ParamGroup> groups, double beta1, double beta2, double eps) {
        this(groups, beta1, beta2, eps, false);
    }

    Adam(List<ParamGroup> groups, double beta1, double beta2, double eps, boolean decoupled) {
        super(groups);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps >= 0)) {
            throw new IllegalArgumentException("Adam needs betas in [0, 1) and eps ≥ 0, got " + beta1 + ", " + beta2
                    + ", " + eps);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.decoupled = decoupled;
    }

    @Override
    protected final void update(Parameter p, Tensor grad, ParamGroup group, ParamState state) {
        Tensor w = p.data();
        Tensor m = state.tensor("exp_avg", w);
        Tensor v = state.tensor("exp_avg_sq", w);
        // One backend op: a single pass over w, g, m and v where the backend has one (the CPU), the elementwise
        // ops otherwise, with the same results.
        w.backend().adamStep(w, grad, m, v, new Backend.AdamStep(group.lr(), beta1, beta2, eps, group.weightDecay(),
                decoupled, state.step()));
    }
}
