package dev.vertebra.nn.optim;

import dev.vertebra.nn.Module;
import dev.vertebra.nn.Parameter;

import java.util.ArrayList;
import java.util.List;

/**
 * Parameters sharing a learning rate and weight decay. The learning rate changes during training (schedules
 * set it); {@link #lrScale()} lets a group follow a schedule at a fixed fraction of it.
 *
 * <pre>{@code
 * List<ParamGroup> groups = ParamGroup.decayExceptNormAndBias(model, 0.016, 1e-5);
 * Optimizer opt = new RmsPropTf(groups, 0.9, 0.9, 1e-3);
 * }</pre>
 */
public final class ParamGroup {
    private final List<Parameter> parameters;
    private final double weightDecay;
    private final double lrScale;
    private double lr;

    public ParamGroup(List<Parameter> parameters, double lr, double weightDecay, double lrScale) {
        if (!(lr >= 0) || !(weightDecay >= 0) || !(lrScale >= 0)) {
            throw new IllegalArgumentException("learning rate, weight decay and lr scale must be ≥ 0, got " + lr + ", "
                    + weightDecay + ", " + lrScale);
        }
        this.parameters = List.copyOf(parameters);
        this.lr = lr;
        this.weightDecay = weightDecay;
        this.lrScale = lrScale;
    }

    /** One group with the given learning rate and weight decay. */
    public static ParamGroup of(List<Parameter> parameters, double lr, double weightDecay) {
        return new ParamGroup(parameters, lr, weightDecay, 1);
    }

    /**
     * Two groups: weights of rank ≥ 2 (convolutions, linear layers) with {@code weightDecay}; rank ≤ 1 tensors
     * (biases and normalisation scales/shifts) without, the usual rule for EfficientNet training. Frozen
     * parameters are left out.
     */
    public static List<ParamGroup> decayExceptNormAndBias(Module model, double lr, double weightDecay) {
        List<Parameter> decay = new ArrayList<>();
        List<Parameter> noDecay = new ArrayList<>();
        for (Parameter p : model.trainableParameters()) {
            (p.data().rank() >= 2 ? decay : noDecay).add(p);
        }
        return List.of(of(decay, lr, weightDecay), of(noDecay, lr, 0));
    }

    public List<Parameter> parameters() {
        return parameters;
    }

    public double lr() {
        return lr;
    }

    /** Sets this group's learning rate. */
    public void lr(double value) {
        if (!(value >= 0)) {
            throw new IllegalArgumentException("learning rate must be ≥ 0, got " + value);
        }
        lr = value;
    }

    public double weightDecay() {
        return weightDecay;
    }

    /** Factor applied to a schedule's learning rate for this group ({@link Optimizer#scheduleLr}). */
    public double lrScale() {
        return lrScale;
    }
}
