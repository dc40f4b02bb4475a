package dev.vertebra.nn;

import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.core.io.Safetensors;
import dev.vertebra.nn.optim.LossScaler;
import dev.vertebra.nn.optim.Optimizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.TreeMap;

/**
 * Training checkpoints and weight files, as one safetensors file written atomically (temporary file, then
 * rename), so a crash never leaves a half-written checkpoint.
 *
 * <p>Layout of a checkpoint file:
 * <ul>
 *   <li>the model's state dict under PyTorch names and layouts (conv weights OIHW), unprefixed, so
 *       {@code model.load_state_dict({k: v for k, v in f.items() if not k.startswith("__")})} works in PyTorch;</li>
 *   <li>the optimiser state ({@link Optimizer#stateDict()}) under {@code "__optimizer__."};</li>
 *   <li>the loss scaler's state ({@link LossScaler#stateDict()}, float16 runs only) under {@code "__scaler__."};</li>
 *   <li>the weight average ({@link ModelEma#stateDict}, PyTorch names and layouts), when training keeps one, under
 *       {@code "__ema__."}, with its update count in the metadata {@code "ema.updates"};</li>
 *   <li>metadata strings: {@code "format": "pt"}, {@code "vertebra.checkpoint": "1"}, {@code "epoch"},
 *       {@code "step"}, {@code "config"} (the caller's JSON, stored verbatim) and one
 *       {@code "generator.<name>"} per random generator (its four state words in decimal, comma-separated).</li>
 * </ul>
 * Loading reads and validates everything — file structure, model keys and shapes (strict), optimiser state,
 * generators — before changing anything, so a refused checkpoint leaves model, optimiser and generators as they
 * were.
 *
 * <pre>{@code
 * Checkpoint.save(dir.resolve("last.safetensors"), model, opt,
 *         new Checkpoint.Info(epoch, step, configJson), Map.of("data", dataGen, "model", modelGen));
 * Checkpoint.Info info = Checkpoint.load(dir.resolve("last.safetensors"), model, opt, Map.of("data", dataGen, "model", modelGen));
 * Checkpoint.saveWeights(Path.of("model.safetensors"), model);     // plain PyTorch state dict
 * }</pre>
 */
public final class Checkpoint {
    /** Key prefix of the optimiser state inside a checkpoint. */
    public static final String OPTIMIZER_PREFIX = "__optimizer__.";
    /** Key prefix of the loss scaler state inside a checkpoint. */
    public static final String SCALER_PREFIX = "__scaler__.";
    /** Key prefix of the weight average ({@link ModelEma}) inside a checkpoint. */
    public static final String EMA_PREFIX = "__ema__.";
    private static final String EMA_UPDATES = "ema.updates";
    private static final String MARKER = "vertebra.checkpoint";
    private static final String GENERATOR_PREFIX = "generator.";
    /** Metadata prefix of the generators modules own ({@link Module#namedGenerators()}). */
    private static final String MODULE_GENERATOR_PREFIX = "module-generator.";

    private Checkpoint() {
    }

    /** Where training stands: epoch, optimiser step and the run's configuration as JSON (may be "{}"). */
    public record Info(long epoch, long step, String configJson) {
        public Info {
            if (epoch < 0 || step < 0 || configJson == null) {
                throw new IllegalArgumentException("checkpoint info needs epoch, step ≥ 0 and a config, got " + epoch
                        + ", " + step + ", " + configJson);
            }
        }
    }

    /** Writes the model's state dict (PyTorch names and layouts) with {@code "format": "pt"} metadata. */
    public static void saveWeights(Path file, Module model) throws IOException {
        Safetensors.write(file, toHost(model.stateDict(), ""), Map.of("format", "pt"));
    }

    /**
     * Loads a weight file (a Vertebra or PyTorch state dict in safetensors) into {@code model}; see
     * {@link Module#loadStateDict} for strictness. Extra checkpoint entries (optimiser, scaler and weight-average
     * state) are ignored.
     */
    public static LoadReport loadWeights(Path file, Module model, boolean strict) throws IOException {
        SequencedMap<String, Tensor> state = new LinkedHashMap<>();
        Safetensors.read(file).tensors().forEach((name, host) -> {
            if (!name.startsWith(OPTIMIZER_PREFIX) && !name.startsWith(SCALER_PREFIX) && !name.startsWith(EMA_PREFIX)) {
                state.put(name, Tensor.fromHost(host, Device.CPU));
            }
        });
        try {
            return model.loadStateDict(state, strict);
        } catch (StateDictException e) {
            throw new StateDictException(file.getFileName() + " does not fit " + model.getClass().getSimpleName(),
                    e.report());
        }
    }

    /** Writes a checkpoint; {@code optimizer} may be null. */
    public static void save(Path file, Module model, Optimizer optimizer, Info info, Map<String, Generator> generators)
            throws IOException {
        save(file, model, optimizer, null, info, generators);
    }

    /** Writes a checkpoint with a loss scaler's state; {@code optimizer} and {@code scaler} may be null. */
    public static void save(Path file, Module model, Optimizer optimizer, LossScaler scaler, Info info,
                            Map<String, Generator> generators) throws IOException {
        save(file, model, optimizer, scaler, null, info, generators);
    }

    /**
     * Writes a checkpoint with a loss scaler's state and a weight average of the model; {@code optimizer},
     * {@code scaler} and {@code ema} may be null.
     */
    public static void save(Path file, Module model, Optimizer optimizer, LossScaler scaler, ModelEma ema, Info info,
                            Map<String, Generator> generators) throws IOException {
        SequencedMap<String, HostArray> tensors = toHost(model.stateDict(), "");
        if (optimizer != null) {
            tensors.putAll(toHost(optimizer.stateDict(), OPTIMIZER_PREFIX));
        }
        if (scaler != null) {
            tensors.putAll(toHost(scaler.stateDict(), SCALER_PREFIX));
        }
        if (ema != null) {
            tensors.putAll(toHost(ema.stateDict(model), EMA_PREFIX));
        }
        SequencedMap<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put(MARKER, "1");
        metadata.put("epoch", Long.toString(info.epoch()));
        metadata.put("step", Long.toString(info.step()));
        metadata.put("config", info.configJson());
        if (ema != null) {
            metadata.put(EMA_UPDATES, Long.toString(ema.updates()));
        }
        // By name: a Map.of's order changes from one JVM to the next, and the same state should make the same file.
        new TreeMap<>(generators).forEach((name, gen) -> metadata.put(GENERATOR_PREFIX + name, words(gen)));
        model.namedGenerators().forEach((name, gen) -> metadata.put(MODULE_GENERATOR_PREFIX + name, words(gen)));
        Safetensors.write(file, tensors, metadata);
    }

    /**
     * Restores a checkpoint into {@code model}, {@code optimizer} (may be null: its state is then ignored) and the
     * named generators (each must be in the file).
     *
     * @throws java.io.IOException for unreadable or truncated files (a
     *                             {@link dev.vertebra.core.io.TensorFormatException} for malformed ones)
     * @throws StateDictException  when the weights belong to another architecture (lists the differing keys)
     * @throws IllegalArgumentException when the file is not a checkpoint, or the optimiser state or a generator
     *                             does not fit
     */
    public static Info load(Path file, Module model, Optimizer optimizer, Map<String, Generator> generators)
            throws IOException {
        return load(file, model, optimizer, null, generators);
    }

    /**
     * As {@link #load(Path, Module, Optimizer, Map)}, also restoring {@code scaler} (may be null: its state is then
     * ignored). A checkpoint without scaler state leaves the scaler as it is.
     */
    public static Info load(Path file, Module model, Optimizer optimizer, LossScaler scaler,
                            Map<String, Generator> generators) throws IOException {
        return load(file, model, optimizer, scaler, null, generators);
    }

    /**
     * As {@link #load(Path, Module, Optimizer, LossScaler, Map)}, also restoring the weight average {@code ema}
     * (may be null: a saved average is then ignored). With {@code ema} given, the file must hold one.
     */
    public static Info load(Path file, Module model, Optimizer optimizer, LossScaler scaler, ModelEma ema,
                            Map<String, Generator> generators) throws IOException {
        Safetensors.Contents contents = Safetensors.read(file);
        Map<String, String> metadata = contents.metadata();
        String where = file.getFileName().toString();
        if (!"1".equals(metadata.get(MARKER))) {
            throw new IllegalArgumentException(where + " is not a Vertebra checkpoint (no '" + MARKER
                    + "' metadata); use loadWeights for plain weight files");
        }
        Info info = new Info(number(metadata, "epoch", where), number(metadata, "step", where),
                metadata.getOrDefault("config", "{}"));
        Map<String, long[]> generatorStates = new LinkedHashMap<>();
        generators.keySet().forEach(name -> generatorStates.put(name,
                generatorState(metadata, GENERATOR_PREFIX + name, name, where)));
        // The modules' own generators (dropout, stochastic depth); a checkpoint written before they were saved
        // has none, and leaves them as they are.
        Map<Generator, long[]> moduleStates = new java.util.IdentityHashMap<>();
        model.namedGenerators().forEach((name, gen) -> {
            if (metadata.containsKey(MODULE_GENERATOR_PREFIX + name)) {
                moduleStates.put(gen, generatorState(metadata, MODULE_GENERATOR_PREFIX + name,
                        "module " + name, where));
            }
        });

        SequencedMap<String, Tensor> weights = new LinkedHashMap<>();
        SequencedMap<String, Tensor> optimizerState = new LinkedHashMap<>();
        SequencedMap<String, Tensor> scalerState = new LinkedHashMap<>();
        SequencedMap<String, Tensor> emaState = new LinkedHashMap<>();
        contents.tensors().forEach((name, host) -> {
            Tensor t = Tensor.fromHost(host, Device.CPU);
            if (name.startsWith(OPTIMIZER_PREFIX)) {
                optimizerState.put(name.substring(OPTIMIZER_PREFIX.length()), t);
            } else if (name.startsWith(SCALER_PREFIX)) {
                scalerState.put(name.substring(SCALER_PREFIX.length()), t);
            } else if (name.startsWith(EMA_PREFIX)) {
                emaState.put(name.substring(EMA_PREFIX.length()), t);
            } else {
                weights.put(name, t);
            }
        });
        LoadReport report = model.checkStateDict(weights);
        if (!report.isClean()) {
            throw new StateDictException(where + " holds weights of another architecture than "
                    + model.getClass().getSimpleName(), report);
        }
        if (optimizer != null) {
            optimizer.checkStateDict(optimizerState);
        }
        if (scaler != null) {
            scaler.checkStateDict(scalerState);
        }
        long emaUpdates = ema == null ? 0 : emaUpdates(metadata, where);
        // The average is checked against the model as it is now, which the weights below do not change in shape.
        Runnable loadEma = ema == null ? () -> { } : ema.checkedLoad(model, emaState, emaUpdates, where);
        model.loadStateDict(weights, true);
        if (optimizer != null) {
            optimizer.loadStateDict(optimizerState);
        }
        if (scaler != null) {
            scaler.loadStateDict(scalerState);
        }
        loadEma.run();
        generatorStates.forEach((name, state) -> generators.get(name).setState(state));
        moduleStates.forEach(Generator::setState);
        return info;
    }

    private static long emaUpdates(Map<String, String> metadata, String where) {
        if (!metadata.containsKey(EMA_UPDATES)) {
            throw new IllegalArgumentException(where + " holds no weight average ('" + EMA_UPDATES
                    + "' metadata): it was written by a run without one");
        }
        return number(metadata, EMA_UPDATES, where);
    }

    private static String words(Generator gen) {
        StringBuilder words = new StringBuilder();
        for (long w : gen.state()) {
            words.append(words.isEmpty() ? "" : ",").append(w);
        }
        return words.toString();
    }

    private static long number(Map<String, String> metadata, String key, String where) {
        String text = metadata.get(key);
        try {
            long value = Long.parseLong(text == null ? "" : text);
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException ignored) {
            // reported below with the key's name
        }
        throw new IllegalArgumentException(where + ": metadata '" + key + "' must be a number ≥ 0, got " + text);
    }

    /** The four state words stored under metadata {@code key}; {@code name} is what messages call it. */
    private static long[] generatorState(Map<String, String> metadata, String key, String name, String where) {
        String text = metadata.get(key);
        if (text == null) {
            throw new IllegalArgumentException(where + " has no state for generator '" + name + "'");
        }
        String[] words = text.split(",");
        if (words.length != 4) {
            throw new IllegalArgumentException(where + ": generator '" + name + "' needs 4 state words, got " + text);
        }
        long[] state = new long[4];
        try {
            for (int i = 0; i < 4; i++) {
                state[i] = Long.parseLong(words[i]);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": generator '" + name + "' has a malformed state " + text, e);
        }
        return state;
    }

    private static SequencedMap<String, HostArray> toHost(Map<String, Tensor> state, String prefix) {
        SequencedMap<String, HostArray> out = new LinkedHashMap<>();
        state.forEach((name, t) -> out.put(prefix + name, t.contiguous().toHost()));
        return out;
    }
}
