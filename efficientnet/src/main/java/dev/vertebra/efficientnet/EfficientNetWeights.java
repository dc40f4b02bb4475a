package dev.vertebra.efficientnet;

import dev.vertebra.core.Backends;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.core.io.Safetensors;
import dev.vertebra.nn.LoadReport;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Reading, writing and renaming EfficientNet weights. Files are safetensors with PyTorch names and layouts
 * (convolution weights OIHW). Two naming schemes are understood: torchvision's ({@code features.1.0.block.0.0.weight},
 * what {@link EfficientNet#stateDict()} produces) and timm's ({@code blocks.0.0.conv_dw.weight}, for timm's
 * {@code efficientnet_bX} and {@code tf_efficientnet_bX}).
 *
 * <pre>{@code
 * EfficientNet model = new EfficientNet(EfficientNetConfig.b0().withInChannels(1), new Generator(0));
 * EfficientNetWeights.load(model, Path.of("tf_efficientnet_b0.safetensors"));   // timm names, RGB stem summed
 * EfficientNetWeights.save(model, Path.of("mine.safetensors"));                 // torchvision names
 * }</pre>
 */
public final class EfficientNetWeights {

    private static final String STEM = "features.0.0.weight";

    private EfficientNetWeights() {
    }

    /** All tensors of a safetensors file, on the default device, in file order. */
    public static SequencedMap<String, Tensor> read(Path file) throws IOException {
        SequencedMap<String, Tensor> out = new LinkedHashMap<>();
        Safetensors.read(file).tensors().forEach((k, v) -> out.put(k, Tensor.fromHost(v, Backends.defaultDevice())));
        return out;
    }

    /** Writes tensors (any names) to a safetensors file. */
    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        SequencedMap<String, HostArray> host = new LinkedHashMap<>();
        tensors.forEach((k, v) -> host.put(k, v.contiguous().toHost()));
        Safetensors.write(file, host, Map.of());
    }

    /** Saves the model's state dict with torchvision's names (loadable by torchvision's EfficientNet). */
    public static void save(EfficientNet model, Path file) throws IOException {
        write(file, model.stateDict());
    }

    /**
     * Loads a torchvision- or timm-named file into {@code model} strictly (every key and shape must match; a
     * refused file leaves the model unchanged). timm names are recognised by {@code conv_stem.weight}. When the
     * file's stem takes 3 channels and the model another number, the stem is adapted with
     * {@link #adaptInputConv}.
     *
     * @throws dev.vertebra.nn.StateDictException naming the missing, unexpected or mismatched keys
     */
    public static LoadReport load(EfficientNet model, Path file) throws IOException {
        SequencedMap<String, Tensor> state = read(file);
        if (state.containsKey("conv_stem.weight")) {
            state = fromTimm(state, model.config());
        }
        return model.loadStateDict(adaptStem(state, model.config().inChannels()), true);
    }

    /**
     * Returns a copy of a torchvision-named state dict whose stem weight is adapted to {@code inChannels} input
     * channels (unchanged when it already has them).
     */
    public static SequencedMap<String, Tensor> adaptStem(Map<String, Tensor> state, int inChannels) {
        SequencedMap<String, Tensor> out = new LinkedHashMap<>(state);
        Tensor stem = state.get(STEM);
        if (stem != null && stem.rank() == 4 && stem.dim(1) != inChannels) {
            out.put(STEM, adaptInputConv(stem, inChannels));
        }
        return out;
    }

    /**
     * Adapts a pretrained first-layer weight {@code [O, 3, K, K]} (OIHW) to {@code inChannels} inputs, as timm's
     * {@code adapt_input_conv}: one channel sums the RGB kernels (a grey image then gives the response an RGB image
     * of equal channels gave); k channels repeat the RGB kernels ⌈k/3⌉ times, keep the first k and scale by 3/k
     * (keeping the activation scale for inputs of similar intensity).
     */
    public static Tensor adaptInputConv(Tensor weight, int inChannels) {
        if (weight.rank() != 4 || weight.dim(1) != 3) {
            throw new IllegalArgumentException("adaptInputConv needs an RGB conv weight [O, 3, K, K], got "
                    + weight.describe());
        }
        if (inChannels < 1) {
            throw new IllegalArgumentException("input channels must be ≥ 1, got " + inChannels);
        }
        if (inChannels == 3) {
            return weight;
        }
        if (inChannels == 1) {
            return weight.sum(true, 1);
        }
        int repeats = (inChannels + 2) / 3;
        Tensor tiled = Functional.concat(Collections.nCopies(repeats, weight), 1);
        return tiled.narrow(1, 0, inChannels).mul(3.0 / inChannels).contiguous();
    }

    // ---- timm names -----------------------------------------------------------------------------------------

    /** Renames a timm-named state dict to torchvision's names for the architecture {@code config} describes. */
    public static SequencedMap<String, Tensor> fromTimm(Map<String, Tensor> timm, EfficientNetConfig config) {
        return rename(timm, invert(torchvisionToTimm(config)), "timm");
    }

    /** Renames a torchvision-named state dict (e.g. {@link EfficientNet#stateDict()}) to timm's names. */
    public static SequencedMap<String, Tensor> toTimm(Map<String, Tensor> torchvision, EfficientNetConfig config) {
        return rename(torchvision, torchvisionToTimm(config), "torchvision");
    }

    /**
     * Module prefixes, torchvision → timm. timm's first stage uses DepthwiseSeparable blocks (conv_dw, bn1, se,
     * conv_pw, bn2); the others InvertedResidual blocks (conv_pw, bn1, conv_dw, bn2, se, conv_pwl, bn3).
     */
    static SequencedMap<String, String> torchvisionToTimm(EfficientNetConfig config) {
        SequencedMap<String, String> m = new LinkedHashMap<>();
        m.put("features.0.0", "conv_stem");
        m.put("features.0.1", "bn1");
        List<List<BlockSpec>> stages = config.blocks();
        for (int s = 0; s < stages.size(); s++) {
            for (int j = 0; j < stages.get(s).size(); j++) {
                String tv = "features." + (s + 1) + "." + j + ".block.";
                String timm = "blocks." + s + "." + j + ".";
                if (stages.get(s).get(j).hasExpansion()) {
                    m.put(tv + "0.0", timm + "conv_pw");
                    m.put(tv + "0.1", timm + "bn1");
                    m.put(tv + "1.0", timm + "conv_dw");
                    m.put(tv + "1.1", timm + "bn2");
                    m.put(tv + "2.fc1", timm + "se.conv_reduce");
                    m.put(tv + "2.fc2", timm + "se.conv_expand");
                    m.put(tv + "3.0", timm + "conv_pwl");
                    m.put(tv + "3.1", timm + "bn3");
                } else {
                    m.put(tv + "0.0", timm + "conv_dw");
                    m.put(tv + "0.1", timm + "bn1");
                    m.put(tv + "1.fc1", timm + "se.conv_reduce");
                    m.put(tv + "1.fc2", timm + "se.conv_expand");
                    m.put(tv + "2.0", timm + "conv_pw");
                    m.put(tv + "2.1", timm + "bn2");
                }
            }
        }
        int head = stages.size() + 1;
        m.put("features." + head + ".0", "conv_head");
        m.put("features." + head + ".1", "bn2");
        m.put("classifier.1", "classifier");
        return m;
    }

    private static SequencedMap<String, String> invert(SequencedMap<String, String> map) {
        SequencedMap<String, String> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(v, k));
        return out;
    }

    /** Renames each key's module prefix (all but the last dotted part); unknown prefixes are an error. */
    private static SequencedMap<String, Tensor> rename(Map<String, Tensor> state, Map<String, String> prefixes,
                                                       String scheme) {
        SequencedMap<String, Tensor> out = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        state.forEach((key, value) -> {
            int dot = key.lastIndexOf('.');
            String renamed = dot < 0 ? null : prefixes.get(key.substring(0, dot));
            if (renamed == null) {
                unknown.add(key);
            } else {
                out.put(renamed + key.substring(dot), value);
            }
        });
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(unknown.size() + " key(s) are not " + scheme
                    + " EfficientNet names for this configuration: "
                    + String.join(", ", unknown.subList(0, Math.min(10, unknown.size())))
                    + (unknown.size() > 10 ? ", …" : ""));
        }
        return out;
    }
}
