package dev.vertebra.nn.optim;

import dev.vertebra.core.Tensor;
import dev.vertebra.nn.Parameter;

import java.util.ArrayList;
import java.util.List;

/**
 * Stochastic gradient descent with PyTorch's semantics: weight decay added to the gradient
 * ({@code d = g + wd·p}); momentum buffer {@code b = μ·b + (1 − dampening)·d}, started as {@code d} on the first
 * step; Nesterov uses {@code d + μ·b}, otherwise {@code b}; then {@code p −= lr·d}.
 *
 * <pre>{@code
 * Optimizer sgd = new Sgd(List.of(ParamGroup.of(model.parameters(), 0.1, 1e-4)), 0.9, 0, true);
 * }</pre>
 */
public final class Sgd extends Optimizer {
    private final double momentum;
    private final double dampening;
    private final boolean nesterov;

    public Sgd(List<ParamGroup> groups, double momentum, double dampening, boolean nesterov) {
        super(groups);
        if (!(momentum >= 0) || !(dampening >= 0 && dampening <= 1)) {
            throw new IllegalArgumentException("SGD needs momentum ≥ 0 and dampening in [0, 1], got " + momentum
                    + ", " + dampening);
        }
        if (nesterov && (momentum == 0 || dampening != 0)) {
            throw new IllegalArgumentException("Nesterov momentum needs momentum > 0 and zero dampening");
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.nesterov = nesterov;
    }

    /**
     * The common case all at once — momentum without Nesterov or weight decay, every buffer started: buffers, then
     * parameters, each as one {@link Tensor#scaleAddInPlaceAll} (the same arithmetic as {@link #update}).
     */
    @Override
    protected boolean updateAll(List<Parameter> params, List<Tensor> grads, ParamGroup group, List<ParamState> states) {
        if (momentum == 0 || nesterov || group.weightDecay() != 0
                || !states.stream().allMatch(s -> s.has("momentum_buffer"))) {
            return false;
        }
        List<Tensor> buffers = new ArrayList<>(params.size());
        List<Tensor> weights = new ArrayList<>(params.size());
        for (int i = 0; i < params.size(); i++) {
            weights.add(params.get(i).data());
            buffers.add(states.get(i).tensor("momentum_buffer", weights.get(i)));
        }
        Tensor.scaleAddInPlaceAll(buffers, momentum, grads, 1 - dampening);
        // p += −lr·b, as scaleAdd rounds it.
        Tensor.scaleAddInPlaceAll(weights, 1, buffers, -group.lr());
        return true;
    }

    @Override
    protected void update(Parameter p, Tensor grad, ParamGroup group, ParamState state) {
        Tensor w = p.data();
        Tensor d = group.weightDecay() != 0 ? grad.add(w.mul(group.weightDecay())) : grad;
        if (momentum != 0) {
            boolean first = !state.has("momentum_buffer");
            Tensor buf = state.tensor("momentum_buffer", w);
            // In place, rounded as buf·μ + d·(1 − dampening) by separate ops (×1 is exact without dampening).
            if (first) {
                buf.assign(d);
            } else {
                buf.scaleAddInPlace(momentum, d, 1 - dampening);
            }
            d = nesterov ? d.add(buf.mul(momentum)) : buf;
        }
        // In place, with the rounding of w − lr·d.
        scaleAdd(p, d, -group.lr());
    }
}
