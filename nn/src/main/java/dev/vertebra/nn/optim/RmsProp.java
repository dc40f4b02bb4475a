package dev.vertebra.nn.optim;

import dev.vertebra.core.Tensor;
import dev.vertebra.nn.Parameter;

import java.util.List;

/**
 * RMSprop with PyTorch's semantics (eps outside the square root, the mean square starting at zero):
 * {@code g += wd·p}; {@code s = α·s + (1 − α)·g²}; centered: {@code a = α·a + (1 − α)·g}, {@code d = √(s − a²) + eps},
 * else {@code d = √s + eps}; with momentum {@code b = μ·b + g/d}, {@code p −= lr·b}; without, {@code p −= lr·g/d}.
 * For the TensorFlow variant EfficientNet was trained with, see {@link RmsPropTf}.
 *
 * <pre>{@code
 * Optimizer opt = new RmsProp(List.of(ParamGroup.of(model.parameters(), 0.01, 0)), 0.99, 1e-8, 0.9, false);
 * }</pre>
 */
public final class RmsProp extends Optimizer {
    private final double alpha;
    private final double eps;
    private final double momentum;
    private final boolean centered;

    public RmsProp(List<ParamGroup> groups, double alpha, double eps, double momentum, boolean centered) {
        super(groups);
        if (!(alpha >= 0 && alpha <= 1) || !(eps >= 0) || !(momentum >= 0)) {
            throw new IllegalArgumentException("RMSprop needs alpha in [0, 1], eps ≥ 0 and momentum ≥ 0, got " + alpha
                    + ", " + eps + ", " + momentum);
        }
        this.alpha = alpha;
        this.eps = eps;
        this.momentum = momentum;
        this.centered = centered;
    }

    @Override
    protected void update(Parameter p, Tensor grad, ParamGroup group, ParamState state) {
        Tensor w = p.data();
        Tensor g = group.weightDecay() != 0 ? grad.add(w.mul(group.weightDecay())) : grad;
        Tensor sq = state.tensor("square_avg", w);
        sq.assign(sq.mul(alpha).add(g.mul(g).mul(1 - alpha)));
        Tensor avg;
        if (centered) {
            Tensor ga = state.tensor("grad_avg", w);
            ga.assign(ga.mul(alpha).add(g.mul(1 - alpha)));
            avg = sq.sub(ga.mul(ga)).sqrt().add(eps);
        } else {
            avg = sq.sqrt().add(eps);
        }
        if (momentum > 0) {
            Tensor buf = state.tensor("momentum_buffer", w);
            buf.assign(buf.mul(momentum).add(g.div(avg)));
            set(p, w.sub(buf.mul(group.lr())));
        } else {
            set(p, w.sub(g.div(avg).mul(group.lr())));
        }
    }
}
