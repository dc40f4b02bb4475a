package dev.vertebra.efficientnet;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The shape of an EfficientNet: width and depth multipliers over the B0 baseline, input resolution, classifier
 * dropout, and the options a medical-imaging user changes (classes, input channels, stochastic depth, batch-norm
 * settings, TensorFlow "SAME" padding).
 *
 * <p>B0–B7 carry torchvision's multipliers, dropout and batch-norm settings (B5–B7: eps 1e-3, momentum 0.01;
 * B0–B4: PyTorch's defaults 1e-5 and 0.1), so a model built from {@code b3()} has exactly torchvision's
 * {@code efficientnet_b3} parameter names and shapes. Resolutions are the paper's (torchvision evaluates B2 at
 * 288 rather than 260). Channels are rounded to multiples of 8, never below 90% of the scaled value; repeats are
 * rounded up.
 *
 * <pre>{@code
 * EfficientNetConfig ct = EfficientNetConfig.b3().withClasses(7).withInChannels(1);
 * EfficientNetConfig phi = EfficientNetConfig.compound(1.5);           // between B1 and B2
 * EfficientNetConfig timm = EfficientNetConfig.b0().tfVariant();       // for tf_efficientnet_b0 weights
 * EfficientNet model = new EfficientNet(ct, new Generator(42));
 * }</pre>
 *
 * @param name            a label for summaries ("b3", "phi=1.5", "custom")
 * @param widthMult       channel multiplier over B0
 * @param depthMult       repeat multiplier over B0
 * @param resolution      the input side the model was designed for (used by summaries; any size ≥ 32 runs)
 * @param dropout         dropout probability before the classifier
 * @param numClasses      classifier outputs
 * @param inChannels      input channels (3 for RGB, 1 for a CT slice, k for k stacked slices)
 * @param stochasticDepth the largest drop-path probability; block i of N drops with probability this·i/N
 * @param bnEps           batch-norm epsilon
 * @param bnMomentum      batch-norm momentum, PyTorch convention
 * @param tfSamePadding   TensorFlow "SAME" padding in every convolution (timm's {@code tf_efficientnet_bX})
 */
public record EfficientNetConfig(String name, double widthMult, double depthMult, int resolution, double dropout,
                                 int numClasses, int inChannels, double stochasticDepth, double bnEps,
                                 double bnMomentum, boolean tfSamePadding) {

    /** B0's stages: expand ratio, kernel, first stride, input and output channels, repeats (paper, Table 1). */
    private static final int[][] BASELINE = {
            {1, 3, 1, 32, 16, 1},
            {6, 3, 2, 16, 24, 2},
            {6, 5, 2, 24, 40, 2},
            {6, 3, 2, 40, 80, 3},
            {6, 5, 1, 80, 112, 3},
            {6, 5, 2, 112, 192, 4},
            {6, 3, 1, 192, 320, 1},
    };

    private static final double DEPTH_BASE = 1.2;
    private static final double WIDTH_BASE = 1.1;
    private static final double RESOLUTION_BASE = 1.15;

    public EfficientNetConfig {
        if (!(widthMult > 0) || !(depthMult > 0)) {
            throw new IllegalArgumentException("width and depth multipliers must be > 0, got width " + widthMult
                    + ", depth " + depthMult);
        }
        if (resolution < 32) {
            throw new IllegalArgumentException("resolution must be ≥ 32 (five stride-2 stages), got " + resolution);
        }
        if (!(dropout >= 0 && dropout < 1) || !(stochasticDepth >= 0 && stochasticDepth < 1)) {
            throw new IllegalArgumentException("dropout and stochastic depth must be in [0, 1), got " + dropout
                    + " and " + stochasticDepth);
        }
        if (numClasses < 1 || inChannels < 1) {
            throw new IllegalArgumentException("classes and input channels must be ≥ 1, got " + numClasses + " and "
                    + inChannels);
        }
        if (!(bnEps > 0) || !(bnMomentum >= 0 && bnMomentum <= 1)) {
            throw new IllegalArgumentException("batch norm needs eps > 0 and momentum in [0, 1], got " + bnEps
                    + " and " + bnMomentum);
        }
    }

    public static EfficientNetConfig b0() {
        return standard("b0", 1.0, 1.0, 224, 0.2);
    }

    public static EfficientNetConfig b1() {
        return standard("b1", 1.0, 1.1, 240, 0.2);
    }

    public static EfficientNetConfig b2() {
        return standard("b2", 1.1, 1.2, 260, 0.3);
    }

    public static EfficientNetConfig b3() {
        return standard("b3", 1.2, 1.4, 300, 0.3);
    }

    public static EfficientNetConfig b4() {
        return standard("b4", 1.4, 1.8, 380, 0.4);
    }

    /** B5–B7 use torchvision's batch-norm settings for the ported TensorFlow weights: eps 1e-3, momentum 0.01. */
    public static EfficientNetConfig b5() {
        return standard("b5", 1.6, 2.2, 456, 0.4).withBatchNorm(1e-3, 0.01);
    }

    public static EfficientNetConfig b6() {
        return standard("b6", 1.8, 2.6, 528, 0.5).withBatchNorm(1e-3, 0.01);
    }

    public static EfficientNetConfig b7() {
        return standard("b7", 2.0, 3.1, 600, 0.5).withBatchNorm(1e-3, 0.01);
    }

    /** {@code "b0"} … {@code "b7"} (case-insensitive, an optional "efficientnet_" prefix allowed). */
    public static EfficientNetConfig named(String variant) {
        String key = variant.toLowerCase(Locale.ROOT).replace("efficientnet_", "").replace("efficientnet-", "");
        return switch (key) {
            case "b0" -> b0();
            case "b1" -> b1();
            case "b2" -> b2();
            case "b3" -> b3();
            case "b4" -> b4();
            case "b5" -> b5();
            case "b6" -> b6();
            case "b7" -> b7();
            default -> throw new IllegalArgumentException("unknown EfficientNet variant '" + variant
                    + "': expected b0 … b7");
        };
    }

    /**
     * A model name as the command lines take it: {@code "b0"} … {@code "b7"} ({@link #named}), or
     * {@code "custom:WIDTH:DEPTH"} with positive width and depth multipliers ({@link #custom} at 224², dropout 0.2).
     */
    public static EfficientNetConfig parse(String name) {
        if (!name.toLowerCase(Locale.ROOT).startsWith("custom:")) {
            return named(name);
        }
        String[] p = name.split(":", -1);
        if (p.length != 3) {
            throw new IllegalArgumentException("a custom model is custom:WIDTH:DEPTH, got '" + name + "'");
        }
        double width = multiplier(p[1], "width", name);
        double depth = multiplier(p[2], "depth", name);
        return custom(width, depth, 224, 0.2);
    }

    private static double multiplier(String text, String what, String name) {
        double m;
        try {
            m = Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the " + what + " multiplier of '" + name + "' is not a number: '" + text
                    + "'", e);
        }
        if (!(m > 0) || m > 16) {
            throw new IllegalArgumentException("the " + what + " multiplier of '" + name + "' must be in (0, 16], got "
                    + text);
        }
        return m;
    }

    /**
     * Compound scaling from the paper: depth α^φ, width β^φ, resolution 224·γ^φ with α = 1.2, β = 1.1, γ = 1.15
     * (rounded to a multiple of 8). The published B1–B7 were hand-adjusted afterwards, so {@code compound(1)} is
     * close to, not equal to, {@code b1()}. Dropout 0.2, batch norm eps 1e-5.
     */
    public static EfficientNetConfig compound(double phi) {
        if (!(phi >= 0) || phi > 10) {
            throw new IllegalArgumentException("φ must be in [0, 10], got " + phi);
        }
        int resolution = (int) Math.round(224 * Math.pow(RESOLUTION_BASE, phi) / 8) * 8;
        return standard("phi=" + phi, Math.pow(WIDTH_BASE, phi), Math.pow(DEPTH_BASE, phi), resolution, 0.2);
    }

    /** Any width and depth multipliers, resolution and dropout; the other options at their defaults. */
    public static EfficientNetConfig custom(double widthMult, double depthMult, int resolution, double dropout) {
        return standard("custom", widthMult, depthMult, resolution, dropout);
    }

    private static EfficientNetConfig standard(String name, double width, double depth, int resolution,
                                               double dropout) {
        return new EfficientNetConfig(name, width, depth, resolution, dropout, 1000, 3, 0.2, 1e-5, 0.1, false);
    }

    public EfficientNetConfig withClasses(int classes) {
        return new EfficientNetConfig(name, widthMult, depthMult, resolution, dropout, classes, inChannels,
                stochasticDepth, bnEps, bnMomentum, tfSamePadding);
    }

    public EfficientNetConfig withInChannels(int channels) {
        return new EfficientNetConfig(name, widthMult, depthMult, resolution, dropout, numClasses, channels,
                stochasticDepth, bnEps, bnMomentum, tfSamePadding);
    }

    public EfficientNetConfig withStochasticDepth(double p) {
        return new EfficientNetConfig(name, widthMult, depthMult, resolution, dropout, numClasses, inChannels, p,
                bnEps, bnMomentum, tfSamePadding);
    }

    public EfficientNetConfig withDropout(double p) {
        return new EfficientNetConfig(name, widthMult, depthMult, resolution, p, numClasses, inChannels,
                stochasticDepth, bnEps, bnMomentum, tfSamePadding);
    }

    public EfficientNetConfig withResolution(int side) {
        return new EfficientNetConfig(name, widthMult, depthMult, side, dropout, numClasses, inChannels,
                stochasticDepth, bnEps, bnMomentum, tfSamePadding);
    }

    public EfficientNetConfig withBatchNorm(double eps, double momentum) {
        return new EfficientNetConfig(name, widthMult, depthMult, resolution, dropout, numClasses, inChannels,
                stochasticDepth, eps, momentum, tfSamePadding);
    }

    /**
     * The variant for weights trained in TensorFlow (timm's {@code tf_efficientnet_bX}): "SAME" padding in every
     * convolution (asymmetric for stride 2) and batch-norm eps 1e-3.
     */
    public EfficientNetConfig tfVariant() {
        return new EfficientNetConfig("tf_" + name, widthMult, depthMult, resolution, dropout, numClasses,
                inChannels, stochasticDepth, 1e-3, bnMomentum, true);
    }

    // ---- derived architecture ------------------------------------------------------------------------------

    /**
     * {@code channels} scaled by {@code multiplier} and rounded to the nearest multiple of 8 (at least 8), bumped
     * up by 8 when rounding lost more than 10% (the TensorFlow reference's rule, which torchvision keeps).
     */
    public static int roundChannels(double channels) {
        int rounded = Math.max(8, (int) (channels + 4) / 8 * 8);
        return rounded < 0.9 * channels ? rounded + 8 : rounded;
    }

    /** The seven stages after width and depth scaling. */
    public List<StageSpec> stages() {
        List<StageSpec> out = new ArrayList<>();
        for (int[] row : BASELINE) {
            out.add(new StageSpec(row[0], row[1], row[2], roundChannels(row[3] * widthMult),
                    roundChannels(row[4] * widthMult), (int) Math.ceil(row[5] * depthMult)));
        }
        return out;
    }

    /** Every block, stage by stage, with its channels and drop-path probability (stochasticDepth·i/N). */
    public List<List<BlockSpec>> blocks() {
        List<StageSpec> stages = stages();
        int total = stages.stream().mapToInt(StageSpec::repeats).sum();
        List<List<BlockSpec>> out = new ArrayList<>();
        int index = 0;
        for (StageSpec stage : stages) {
            List<BlockSpec> blocks = new ArrayList<>();
            for (int j = 0; j < stage.repeats(); j++) {
                int in = j == 0 ? stage.inChannels() : stage.outChannels();
                int stride = j == 0 ? stage.stride() : 1;
                blocks.add(new BlockSpec(in, stage.outChannels(), roundChannels((double) in * stage.expandRatio()),
                        Math.max(1, in / 4), stage.kernel(), stride, stochasticDepth * index / total));
                index++;
            }
            out.add(List.copyOf(blocks));
        }
        return List.copyOf(out);
    }

    /** Output channels of the stem convolution (the first stage's input). */
    public int stemChannels() {
        return stages().getFirst().inChannels();
    }

    /** Output channels of the head's 1×1 convolution: four times the last stage's (1280 for B0). */
    public int headChannels() {
        return 4 * stages().getLast().outChannels();
    }

    /**
     * Number of learnable parameters (weights, biases, batch-norm scale and shift; not running statistics),
     * computed from the configuration without building the model: torchvision's
     * {@code sum(p.numel() for p in model.parameters())}.
     */
    public long parameterCount() {
        long count = convBn(inChannels, stemChannels(), 3, 1);
        for (List<BlockSpec> stage : blocks()) {
            for (BlockSpec b : stage) {
                if (b.hasExpansion()) {
                    count += convBn(b.inChannels(), b.expandedChannels(), 1, 1);
                }
                count += convBn(b.expandedChannels(), b.expandedChannels(), b.kernel(), b.expandedChannels());
                count += (long) b.expandedChannels() * b.squeezeChannels() * 2 + b.squeezeChannels()
                        + b.expandedChannels();
                count += convBn(b.expandedChannels(), b.outChannels(), 1, 1);
            }
        }
        count += convBn(stages().getLast().outChannels(), headChannels(), 1, 1);
        return count + (long) headChannels() * numClasses + numClasses;
    }

    private static long convBn(int in, int out, int kernel, int groups) {
        return (long) out * (in / groups) * kernel * kernel + 2L * out;
    }
}
