package dev.vertebra.nn.optim;

import dev.vertebra.core.DType;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Tensor;
import dev.vertebra.nn.Parameter;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;

/**
 * Updates parameters from their gradients. Subclasses define the per-parameter rule; this class runs it for
 * every trainable parameter that has a gradient, inside a no-grad scope, and keeps the per-parameter state
 * (step count and named moment tensors) that checkpoints save.
 *
 * <p><b>Gradient accumulation.</b> Gradients add up across backward passes until {@link #zeroGrad()}, so
 * accumulating k micro-batches is: for each micro-batch, {@code loss.div(k).backward()}; after the k-th,
 * {@code step()} then {@code zeroGrad()}. Dividing each micro-batch's mean loss by k makes the summed gradient
 * the gradient of the mean over all k·b samples, so the learning rate needs no change (see
 * {@link GradAccumulation}).
 *
 * <pre>{@code
 * Optimizer opt = new AdamW(List.of(ParamGroup.of(model.parameters(), 1e-3, 0.05)), 0.9, 0.999, 1e-8);
 * loss.backward();
 * GradClip.clipByGlobalNorm(model.parameters(), 1.0);
 * opt.step();
 * opt.zeroGrad();
 * }</pre>
 */
public abstract class Optimizer {
    private final List<ParamGroup> groups;
    private final Map<Parameter, ParamState> states = new IdentityHashMap<>();

    /** Per-parameter state: number of updates applied and named moment tensors (created lazily). */
    protected static final class ParamState {
        private long step;
        private final SequencedMap<String, Tensor> tensors = new LinkedHashMap<>();

        private ParamState() {
        }

        /** Updates applied so far (incremented before each update). */
        public long step() {
            return step;
        }

        /** The moment tensor {@code name}, created as zeros shaped like {@code like} on first use. */
        public Tensor tensor(String name, Tensor like) {
            return tensors.computeIfAbsent(name,
                    _ -> MemoryScope.keep(Tensor.zeros(like.shape(), like.dtype(), like.device())));
        }

        /** The moment tensor {@code name}, created filled with {@code initial} on first use. */
        public Tensor tensor(String name, Tensor like, double initial) {
            return tensors.computeIfAbsent(name,
                    _ -> MemoryScope.keep(Tensor.full(like.shape(), like.dtype(), like.device(), initial)));
        }

        /** True when {@code name} exists yet. */
        public boolean has(String name) {
            return tensors.containsKey(name);
        }
    }

    protected Optimizer(List<ParamGroup> groups) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("an optimiser needs at least one parameter group");
        }
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (ParamGroup g : groups) {
            for (Parameter p : g.parameters()) {
                if (!seen.add(p)) {
                    throw new IllegalArgumentException("a parameter appears in more than one group: " + p);
                }
            }
        }
        this.groups = List.copyOf(groups);
    }

    /** Applies one update to {@code p} from {@code grad}; runs inside a no-grad scope. */
    protected abstract void update(Parameter p, Tensor grad, ParamGroup group, ParamState state);

    /**
     * Applies one update to all of a group's {@code params} (those with a gradient, in order) at once, where the
     * optimiser can: the same results as {@link #update} on each, in fewer device operations. Returns false to
     * have {@link #update} called for each instead (the default). Runs inside a no-grad scope.
     */
    protected boolean updateAll(List<Parameter> params, List<Tensor> grads, ParamGroup group, List<ParamState> states) {
        return false;
    }

    /** Updates every trainable parameter that has a gradient. */
    public final void step() {
        try (NoGrad _ = NoGrad.enter()) {
            for (ParamGroup g : groups) {
                List<Parameter> params = new ArrayList<>();
                List<Tensor> grads = new ArrayList<>();
                List<ParamState> paramStates = new ArrayList<>();
                for (Parameter p : g.parameters()) {
                    Tensor grad = p.grad();
                    if (grad == null || !p.trainable()) {
                        continue;
                    }
                    ParamState s = states.computeIfAbsent(p, _ -> new ParamState());
                    s.step++;
                    params.add(p);
                    grads.add(grad.detach());
                    paramStates.add(s);
                }
                if (!updateAll(params, grads, g, paramStates)) {
                    for (int i = 0; i < params.size(); i++) {
                        update(params.get(i), grads.get(i), g, paramStates.get(i));
                    }
                }
            }
        }
    }

    /** Clears the gradients of all parameters. */
    public final void zeroGrad() {
        groups.forEach(g -> g.parameters().forEach(p -> p.setGrad(null)));
    }

    public final List<ParamGroup> groups() {
        return groups;
    }

    /** Sets every group's learning rate to {@code lr × group.lrScale()} (what schedules call). */
    public final void scheduleLr(double lr) {
        groups.forEach(g -> g.lr(lr * g.lrScale()));
    }

    /** Overwrites {@code p}'s value with {@code value} (already computed inside the no-grad scope). */
    protected static void set(Parameter p, Tensor value) {
        p.data().assign(value);
    }

    /** {@code p += scale·delta} in place, rounded as {@code p − (−scale)·delta} computed by separate ops. */
    protected static void scaleAdd(Parameter p, Tensor delta, double scale) {
        p.data().scaleAddInPlace(1, delta, scale);
    }

    /**
     * The optimiser state: for parameter i (counting across groups in order) {@code "state.i.step"} (0-d INT64)
     * and {@code "state.i.<moment>"}; for group g {@code "group.g.lr"} (0-d FLOAT64).
     */
    public final SequencedMap<String, Tensor> stateDict() {
        SequencedMap<String, Tensor> out = new LinkedHashMap<>();
        List<Parameter> all = allParameters();
        for (int i = 0; i < all.size(); i++) {
            ParamState s = states.get(all.get(i));
            if (s == null) {
                continue;
            }
            out.put("state." + i + ".step", Tensor.ofLongs(new long[]{s.step}));
            for (var e : s.tensors.entrySet()) {
                out.put("state." + i + "." + e.getKey(), e.getValue().contiguousCopy().detach());
            }
        }
        for (int g = 0; g < groups.size(); g++) {
            out.put("group." + g + ".lr", Tensor.of(new double[]{groups.get(g).lr()}));
        }
        return out;
    }

    /**
     * Restores a state from {@link #stateDict()} of an optimiser over parameters of the same shapes. Everything
     * is validated first: on error nothing changes.
     *
     * @throws IllegalArgumentException naming the offending key
     */
    public final void loadStateDict(Map<String, Tensor> state) {
        Map<Integer, ParamState> parsed = parse(state);
        List<Parameter> all = allParameters();
        states.clear();
        parsed.forEach((i, s) -> states.put(all.get(i), s));
        for (int g = 0; g < groups.size(); g++) {
            Tensor lr = state.get("group." + g + ".lr");
            if (lr != null) {
                groups.get(g).lr(lr.item());
            }
        }
    }

    /**
     * Validates a state from {@link #stateDict()} against this optimiser's parameters without loading it.
     *
     * @throws IllegalArgumentException naming the offending key
     */
    public final void checkStateDict(Map<String, Tensor> state) {
        parse(state);
    }

    private Map<Integer, ParamState> parse(Map<String, Tensor> state) {
        List<Parameter> all = allParameters();
        Map<Integer, ParamState> parsed = new LinkedHashMap<>();
        Set<Integer> withStep = new HashSet<>();
        for (var e : state.entrySet()) {
            String key = e.getKey();
            Tensor value = e.getValue();
            String[] parts = key.split("\\.", 3);
            if (parts.length == 3 && parts[0].equals("group") && parts[2].equals("lr")) {
                index(key, parts[1], groups.size());
                if (value.numel() != 1 || !(value.item() >= 0)) {
                    throw new IllegalArgumentException("optimiser state '" + key + "' must hold one learning rate ≥ 0, got "
                            + value.describe());
                }
                continue;
            }
            if (parts.length != 3 || !parts[0].equals("state")) {
                throw new IllegalArgumentException("unexpected optimiser state key '" + key + "'");
            }
            int i = index(key, parts[1], all.size());
            ParamState s = parsed.computeIfAbsent(i, _ -> new ParamState());
            if (parts[2].equals("step")) {
                if (value.numel() != 1 || value.dtype() != DType.INT64) {
                    throw new IllegalArgumentException("optimiser state '" + key + "' must be one INT64, got "
                            + value.describe());
                }
                s.step = Math.round(value.item());
                withStep.add(i);
            } else {
                Tensor target = all.get(i).data();
                if (!value.shape().equals(target.shape())) {
                    throw new IllegalArgumentException("optimiser state '" + key + "' has shape " + value.shape()
                            + " but parameter " + i + " has shape " + target.shape());
                }
                Tensor held = value.to(target.device()).to(target.dtype()).contiguousCopy().detach();
                s.tensors.put(parts[2], MemoryScope.keep(held));
            }
        }
        for (Integer i : parsed.keySet()) {
            if (!withStep.contains(i)) {
                throw new IllegalArgumentException("optimiser state for parameter " + i + " lacks 'state." + i + ".step'");
            }
        }
        return parsed;
    }

    private static int index(String key, String text, int size) {
        int i;
        try {
            i = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("optimiser state key '" + key + "' has no valid index", e);
        }
        if (i < 0 || i >= size) {
            throw new IllegalArgumentException("optimiser state key '" + key + "' refers to index " + i + " but there are "
                    + size);
        }
        return i;
    }

    private List<Parameter> allParameters() {
        List<Parameter> all = new ArrayList<>();
        groups.forEach(g -> all.addAll(g.parameters()));
        return all;
    }
}
