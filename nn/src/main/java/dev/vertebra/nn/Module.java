package dev.vertebra.nn;

import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * A building block of a network: named parameters, buffers and submodules, registered in order, with PyTorch's
 * naming ({@code "features.0.0.weight"}) so state dicts move between Vertebra and PyTorch unchanged.
 *
 * <p>State dicts carry PyTorch's layouts too: convolution weights, held HWIO for the NHWC kernels, appear OIHW
 * (see {@link FileLayout}). Order follows PyTorch: a module's own parameters, then its own buffers, then each
 * child in registration order.
 *
 * <pre>{@code
 * final class Head extends Module {
 *     private final Linear fc;
 *     Head(Generator gen) { fc = registerModule("fc", new Linear(1280, 7, true, gen)); }
 *     @Override public Tensor forward(Tensor x) { return fc.forward(x); }
 * }
 * Head head = new Head(new Generator(0));
 * head.eval();
 * SequencedMap<String, Tensor> state = head.stateDict();     // {"fc.weight": [7, 1280], "fc.bias": [7]}
 * head.loadStateDict(state, true);
 * }</pre>
 */
public abstract class Module {
    private final SequencedMap<String, Parameter> parameters = new LinkedHashMap<>();
    private final SequencedMap<String, Buffer> buffers = new LinkedHashMap<>();
    private final SequencedMap<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** A module in training mode with nothing registered yet. */
    protected Module() {
    }

    /** Computes the module's output for one input. Image modules take and return NHWC tensors. */
    public abstract Tensor forward(Tensor x);

    // ---- registration ----------------------------------------------------------------------------------------

    /** Registers a parameter under {@code name} (no dots); returns it. */
    protected final Parameter registerParameter(String name, Parameter parameter) {
        checkNewName(name);
        parameters.put(name, parameter);
        return parameter;
    }

    /** Registers a buffer holding {@code tensor} under {@code name}; returns it. */
    protected final Buffer registerBuffer(String name, Tensor tensor) {
        checkNewName(name);
        Buffer buffer = new Buffer(tensor);
        buffers.put(name, buffer);
        return buffer;
    }

    /** Registers a child module under {@code name}; returns it. */
    protected final <M extends Module> M registerModule(String name, M module) {
        checkNewName(name);
        if (module == this) {
            throw new IllegalArgumentException("a module cannot be its own child ('" + name + "')");
        }
        children.put(name, module);
        return module;
    }

    private void checkNewName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("invalid name '" + name + "' in " + getClass().getSimpleName()
                    + ": names are non-empty and contain no dots");
        }
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("'" + name + "' is already registered in " + getClass().getSimpleName());
        }
    }

    // ---- traversal -------------------------------------------------------------------------------------------

    /** Direct children by name, in registration order. */
    public final SequencedMap<String, Module> namedChildren() {
        return Collections.unmodifiableSequencedMap(children);
    }

    /** This module (name "") and all descendants, depth first, with dotted names. */
    public final SequencedMap<String, Module> namedModules() {
        SequencedMap<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String prefix, SequencedMap<String, Module> out) {
        out.put(prefix, this);
        children.forEach((name, child) -> child.collectModules(join(prefix, name), out));
    }

    /** All parameters of this module and its descendants, with dotted names, in state-dict order. */
    public final SequencedMap<String, Parameter> namedParameters() {
        SequencedMap<String, Parameter> out = new LinkedHashMap<>();
        namedModules().forEach((prefix, m) -> m.parameters.forEach((name, p) -> out.put(join(prefix, name), p)));
        return out;
    }

    /** All parameters, in state-dict order. */
    public final List<Parameter> parameters() {
        return List.copyOf(namedParameters().values());
    }

    /** The parameters that are not frozen. */
    public final List<Parameter> trainableParameters() {
        return parameters().stream().filter(Parameter::trainable).toList();
    }

    /**
     * The random generators that modules of this tree draw from while training (dropout masks, stochastic depth),
     * by the dotted name of the module that owns each. {@link Checkpoint} saves and restores them with the
     * weights, so that a resumed run draws the same masks as an uninterrupted one.
     */
    public final SequencedMap<String, Generator> namedGenerators() {
        SequencedMap<String, Generator> out = new LinkedHashMap<>();
        namedModules().forEach((prefix, m) -> {
            Generator g = m.ownGenerator();
            if (g != null) {
                out.put(prefix, g);
            }
        });
        return out;
    }

    /** The generator this module draws from in training, if it has one (none by default). */
    protected Generator ownGenerator() {
        return null;
    }

    /** All buffers of this module and its descendants, with dotted names. */
    public final SequencedMap<String, Buffer> namedBuffers() {
        SequencedMap<String, Buffer> out = new LinkedHashMap<>();
        namedModules().forEach((prefix, m) -> m.buffers.forEach((name, b) -> out.put(join(prefix, name), b)));
        return out;
    }

    /** Number of scalar parameters (frozen ones included). */
    public final long numParameters() {
        return parameters().stream().mapToLong(p -> p.data().numel()).sum();
    }

    /** Calls {@code fn} on every descendant, then on this module (PyTorch's order); returns this. */
    public final Module apply(Consumer<Module> fn) {
        children.values().forEach(c -> c.apply(fn));
        fn.accept(this);
        return this;
    }

    private static String join(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    // ---- modes -----------------------------------------------------------------------------------------------

    /** Training mode for this module and its descendants (dropout active, batch norm uses batch statistics). */
    public final Module train() {
        return train(true);
    }

    /** Evaluation mode for this module and its descendants. */
    public final Module eval() {
        return train(false);
    }

    /** Sets training ({@code true}) or evaluation mode on the subtree; returns this. */
    public final Module train(boolean on) {
        apply(m -> m.training = on);
        return this;
    }

    /** True in training mode. */
    public final boolean isTraining() {
        return training;
    }

    /** Freezes ({@code false}) or unfreezes every parameter of the subtree; returns this. */
    public final Module requiresGrad(boolean on) {
        parameters().forEach(p -> p.trainable(on));
        return this;
    }

    /** Freezes every parameter of the subtree (optimisers skip them; no gradients are recorded). */
    public final Module freeze() {
        return requiresGrad(false);
    }

    /** Unfreezes every parameter of the subtree. */
    public final Module unfreeze() {
        return requiresGrad(true);
    }

    /** Clears the gradients of every parameter. */
    public final void zeroGrad() {
        parameters().forEach(p -> p.setGrad(null));
    }

    /** Moves parameters and buffers to {@code device}; returns this. */
    public final Module to(Device device) {
        namedParameters().values().forEach(p -> p.replace(p.data().to(device)));
        namedBuffers().values().forEach(b -> b.replace(b.data().to(device)));
        return this;
    }

    // ---- state dicts -----------------------------------------------------------------------------------------

    /**
     * Parameters and buffers by dotted name, as detached contiguous copies in PyTorch's layouts (convolution
     * weights OIHW), in PyTorch's order.
     */
    public final SequencedMap<String, Tensor> stateDict() {
        SequencedMap<String, Tensor> out = new LinkedHashMap<>();
        forEachEntry((name, entry) -> out.put(name, switch (entry) {
            case Parameter p -> p.fileLayout().toFile(p.data().detach()).contiguousCopy().detach();
            case Buffer b -> b.data().detach().contiguousCopy().detach();
        }));
        return out;
    }

    /** Parameters and buffers in state-dict order. */
    private void forEachEntry(BiConsumer<String, StateEntry> fn) {
        namedModules().forEach((prefix, m) -> {
            m.parameters.forEach((name, p) -> fn.accept(join(prefix, name), p));
            m.buffers.forEach((name, b) -> fn.accept(join(prefix, name), b));
        });
    }

    /** Compares a state dict (PyTorch layouts) with this module's keys and shapes without loading anything. */
    public final LoadReport checkStateDict(Map<String, Tensor> state) {
        SequencedMap<String, int[]> expected = new LinkedHashMap<>();
        forEachEntry((name, entry) -> expected.put(name, switch (entry) {
            case Parameter p -> p.fileLayout().fileShape(p.data().shape().dims());
            case Buffer b -> b.data().shape().dims();
        }));
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        expected.forEach((name, shape) -> {
            Tensor given = state.get(name);
            if (given == null) {
                missing.add(name);
            } else if (!Arrays.equals(given.shape().dims(), shape)) {
                mismatched.add(name + ": file " + given.shape() + " vs module " + Arrays.toString(shape));
            }
        });
        List<String> unexpected = state.keySet().stream().filter(k -> !expected.containsKey(k)).sorted().toList();
        return new LoadReport(missing, unexpected, mismatched);
    }

    /**
     * Copies a state dict (PyTorch names and layouts; values cast to each entry's dtype and device) into this
     * module. Everything is checked before anything is copied, so a refused state dict leaves the module
     * untouched. Shape mismatches are always refused (as in PyTorch); missing and unexpected keys are refused
     * when {@code strict}, and otherwise reported while the matching keys load.
     *
     * @throws StateDictException listing the offending keys
     */
    public final LoadReport loadStateDict(Map<String, Tensor> state, boolean strict) {
        LoadReport report = checkStateDict(state);
        if (!report.mismatched().isEmpty() || (strict && !report.isClean())) {
            throw new StateDictException("state dict does not fit " + getClass().getSimpleName(), report);
        }
        forEachEntry((name, entry) -> {
            Tensor given = state.get(name);
            if (given == null) {
                return;
            }
            switch (entry) {
                case Parameter p -> p.copyFrom(p.fileLayout().fromFile(given.detach()));
                case Buffer b -> b.copyFrom(given.detach());
                }
        });
        return report;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + children.keySet();
    }
}
