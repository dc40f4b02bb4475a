package dev.vertebra.nn.optim;

import dev.vertebra.core.Tensor;
import dev.vertebra.nn.Parameter;

import java.util.List;

/**
 * RMSprop as TensorFlow computes it ({@code tf.compat.v1.train.RMSPropOptimizer}, the optimiser EfficientNet was
 * trained with: decay ρ 0.9, momentum 0.9, eps 1e-3). It differs from PyTorch's {@link RmsProp} in three ways:
 * eps is inside the square root, the learning rate enters the momentum buffer (so a schedule's change acts
 * smoothly), and the mean square starts at one, not zero — TensorFlow's slot initialiser, which keeps the first
 * steps from being huge when eps is small. Weight decay, which TensorFlow adds to the loss as an L2 term, is
 * added to the gradient ({@code g += wd·p}):
 * <pre>
 * ms  = ρ·ms + (1 − ρ)·g²                ms starts at 1
 * mg  = ρ·mg + (1 − ρ)·g                 centered only, starts at 0
 * mom = μ·mom + lr·g / √(ms − mg² + eps)  (mg² only when centered)
 * p  −= mom
 * </pre>
 *
 * <pre>{@code
 * Optimizer opt = new RmsPropTf(ParamGroup.decayExceptNormAndBias(model, 0.016, 1e-5), 0.9, 0.9, 1e-3, false);
 * }</pre>
 */
public final class RmsPropTf extends Optimizer {
    private final double rho;
    private final double momentum;
    private final double eps;
    private final boolean centered;

    public RmsPropTf(List<ParamGroup> groups, double rho, double momentum, double eps, boolean centered) {
        super(groups);
        if (!(rho >= 0 && rho <= 1) || !(eps > 0) || !(momentum >= 0)) {
            throw new IllegalArgumentException("TF RMSprop needs rho in [0, 1], eps > 0 and momentum ≥ 0, got " + rho
                    + ", " + eps + ", " + momentum);
        }
        this.rho = rho;
        this.momentum = momentum;
        this.eps = eps;
        this.centered = centered;
    }

    @Override
    protected void update(Parameter p, Tensor grad, ParamGroup group, ParamState state) {
        Tensor w = p.data();
        Tensor g = group.weightDecay() != 0 ? grad.add(w.mul(group.weightDecay())) : grad;
        Tensor ms = state.tensor("ms", w, 1);
        ms.assign(ms.mul(rho).add(g.mul(g).mul(1 - rho)));
        Tensor denom = ms;
        if (centered) {
            Tensor mg = state.tensor("mg", w);
            mg.assign(mg.mul(rho).add(g.mul(1 - rho)));
            denom = ms.sub(mg.mul(mg));
        }
        Tensor step = g.mul(group.lr()).div(denom.add(eps).sqrt());
        Tensor mom = state.tensor("mom", w);
        mom.assign(mom.mul(momentum).add(step));
        set(p, w.sub(mom));
    }
}
