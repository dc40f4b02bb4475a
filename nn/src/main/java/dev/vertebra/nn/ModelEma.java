package dev.vertebra.nn;

import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;

/**
 * Exponential moving average of a model's weights, for evaluation: after each optimiser step,
 * {@code ema = d·ema + (1 − d)·value} for every floating-point parameter and buffer (running statistics
 * included, as timm's ModelEmaV2 does); integer buffers ({@code num_batches_tracked}) are copied. With warmup the
 * decay of update t (1-based) is {@code min(decay, (1 + t)/(10 + t))}, TensorFlow's ExponentialMovingAverage
 * with num_updates, so early averages are not dominated by the random initialisation.
 *
 * <pre>{@code
 * ModelEma ema = new ModelEma(model, 0.9999, true);
 * ... opt.step(); ema.update(model);
 * ema.swap(model);  evaluate(model);  ema.swap(model);   // evaluate with averaged weights, then restore
 * }</pre>
 */
public final class ModelEma {
    private final double decay;
    private final boolean warmup;
    private final SequencedMap<String, Tensor> shadow = new LinkedHashMap<>();
    private long updates;

    /** Starts the average at the model's current weights. */
    public ModelEma(Module model, double decay, boolean warmup) {
        if (!(decay >= 0 && decay <= 1)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1], got " + decay);
        }
        this.decay = decay;
        this.warmup = warmup;
        entries(model).forEach((name, t) -> shadow.put(name,
                MemoryScope.keep(t.detach().contiguousCopy().detach())));
    }

    private static SequencedMap<String, Tensor> entries(Module model) {
        SequencedMap<String, Tensor> out = new LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> out.put(name, p.data()));
        model.namedBuffers().forEach((name, b) -> out.put(name, b.data()));
        return out;
    }

    /** The decay the next update will use. */
    public double currentDecay() {
        long t = updates + 1;
        return warmup ? Math.min(decay, (1.0 + t) / (10.0 + t)) : decay;
    }

    /** Folds the model's current weights into the average. */
    public void update(Module model) {
        double d = currentDecay();
        Map<String, Tensor> now = checkedEntries(model);
        try (NoGrad _ = NoGrad.enter()) {
            shadow.forEach((name, avg) -> {
                Tensor value = now.get(name);
                avg.assign(avg.dtype().isFloating() ? avg.mul(d).add(value.detach().mul(1 - d)) : value.detach());
            });
        }
        updates++;
    }

    /** Number of updates so far. */
    public long updates() {
        return updates;
    }

    /** Copies the averaged weights into {@code model} (same architecture). */
    public void copyTo(Module model) {
        Map<String, Tensor> now = checkedEntries(model);
        try (NoGrad _ = NoGrad.enter()) {
            shadow.forEach((name, avg) -> now.get(name).assign(avg));
        }
    }

    /** Exchanges the model's weights and the averaged ones; calling it twice restores both. */
    public void swap(Module model) {
        Map<String, Tensor> now = checkedEntries(model);
        try (NoGrad _ = NoGrad.enter()) {
            shadow.forEach((name, avg) -> {
                Tensor live = now.get(name);
                Tensor saved = live.contiguousCopy();
                live.assign(avg);
                avg.assign(saved);
            });
        }
    }

    /** The averaged weights as a state dict (PyTorch layouts), for saving. */
    public SequencedMap<String, Tensor> stateDict(Module model) {
        checkedEntries(model);
        SequencedMap<String, Tensor> out = new LinkedHashMap<>();
        Map<String, Parameter> params = model.namedParameters();
        shadow.forEach((name, avg) -> {
            Parameter p = params.get(name);
            Tensor held = avg.detach();
            out.put(name, (p == null ? held : p.fileLayout().toFile(held)).contiguousCopy().detach());
        });
        return out;
    }

    /**
     * Continues a saved average: {@code state} is {@link #stateDict}'s output (PyTorch layouts, every entry of the
     * model), {@code updates} the count it had. Checks every key and shape before changing anything.
     *
     * @throws IllegalArgumentException when an entry is missing, extra or of another shape or type, or
     *                                  updates &lt; 0
     */
    public void loadStateDict(Module model, Map<String, Tensor> state, long updates) {
        checkedLoad(model, state, updates, "saved EMA").run();
    }

    /**
     * Checks {@code state} as {@link #loadStateDict} does and returns the load itself, so that a caller restoring
     * several things can check them all before changing any. {@code where} starts the error messages.
     */
    Runnable checkedLoad(Module model, Map<String, Tensor> state, long updates, String where) {
        Map<String, Tensor> now = checkedEntries(model);
        if (updates < 0) {
            throw new IllegalArgumentException(where + ": EMA update count must be ≥ 0, got " + updates);
        }
        if (!state.keySet().equals(shadow.keySet())) {
            throw new IllegalArgumentException(where + ": the weight average does not fit the model: missing "
                    + difference(shadow.keySet(), state.keySet()) + ", unexpected "
                    + difference(state.keySet(), shadow.keySet()));
        }
        Map<String, Parameter> params = model.namedParameters();
        Map<String, Tensor> held = new LinkedHashMap<>();
        shadow.forEach((name, avg) -> {
            Parameter p = params.get(name);
            Tensor saved = state.get(name);
            FileLayout layout = p == null ? FileLayout.SAME : p.fileLayout();
            Shape fileShape = Shape.of(layout.fileShape(now.get(name).shape().dims()));
            if (!saved.shape().equals(fileShape) || saved.dtype() != avg.dtype()) {
                throw new IllegalArgumentException(where + ": weight average entry '" + name + "' is "
                        + saved.dtype() + " " + saved.shape() + ", the model's " + avg.dtype() + " " + fileShape);
            }
            held.put(name, layout.fromFile(saved));
        });
        return () -> {
            try (NoGrad _ = NoGrad.enter()) {
                held.forEach((name, view) -> shadow.get(name).assign(view.to(shadow.get(name).device())));
            }
            this.updates = updates;
        };
    }

    private static List<String> difference(Set<String> a, Set<String> b) {
        return a.stream().filter(k -> !b.contains(k)).toList();
    }

    private Map<String, Tensor> checkedEntries(Module model) {
        SequencedMap<String, Tensor> now = entries(model);
        if (!now.keySet().equals(shadow.keySet())) {
            throw new IllegalArgumentException("EMA was made for another architecture: keys differ from the model's");
        }
        shadow.forEach((name, avg) -> {
            if (!avg.shape().equals(now.get(name).shape())) {
                throw new IllegalArgumentException("EMA entry '" + name + "' has shape " + avg.shape()
                        + " but the model's is " + now.get(name).shape());
            }
        });
        return now;
    }
}
