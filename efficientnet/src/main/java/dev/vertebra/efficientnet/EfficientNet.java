package dev.vertebra.efficientnet;

import dev.vertebra.core.Generator;
import dev.vertebra.core.Tensor;
import dev.vertebra.nn.AdaptiveAvgPool2d;
import dev.vertebra.nn.Dropout;
import dev.vertebra.nn.Linear;
import dev.vertebra.nn.Module;
import dev.vertebra.nn.Sequential;

import java.util.ArrayList;
import java.util.List;

/**
 * EfficientNet (Tan &amp; Le, 2019) over NHWC images, with torchvision's module and parameter names so that a
 * torchvision state dict loads strictly and a saved one loads back into torchvision.
 *
 * <p>Layout of {@code features}: index 0 is the stem (3×3 stride-2 conv → BN → SiLU), 1–7 are the seven MBConv
 * stages (each a Sequential of {@link MBConv}), 8 is the head (1×1 conv to {@link EfficientNetConfig#headChannels()}
 * → BN → SiLU). Then global average pooling and {@code classifier} = [Dropout, Linear]. Weights start as
 * torchvision's: Kaiming-normal (fan-out) convolutions, zero biases, BN scale 1 and shift 0, classifier weight
 * uniform ±1/√classes — drawn from the given generator, which also drives dropout and stochastic depth.
 *
 * <pre>{@code
 * EfficientNet model = new EfficientNet(EfficientNetConfig.b0(), new Generator(0));
 * model.loadStateDict(EfficientNetWeights.read(Path.of("efficientnet_b0.safetensors")), true);
 * model.eval();
 * try (NoGrad _ = NoGrad.enter()) {
 *     Tensor logits = model.forward(images);               // images: [N, 224, 224, 3] → [N, 1000]
 *     List<Tensor> maps = model.features(images);          // stem, stages 1–7, head: for Grad-CAM or other heads
 * }
 * }</pre>
 */
public final class EfficientNet extends Module {
    private final EfficientNetConfig config;
    private final Sequential features;
    private final Sequential classifier;

    public EfficientNet(EfficientNetConfig config, Generator gen) {
        this.config = config;
        features = registerModule("features", new Sequential());
        features.add(MBConv.convBn(config.inChannels(), config.stemChannels(), 3, 2, 1, true, config, gen));
        for (List<BlockSpec> stage : config.blocks()) {
            Sequential blocks = new Sequential();
            stage.forEach(spec -> blocks.add(new MBConv(spec, config, gen)));
            features.add(blocks);
        }
        int lastChannels = config.stages().getLast().outChannels();
        features.add(MBConv.convBn(lastChannels, config.headChannels(), 1, 1, 1, true, config, gen));
        registerModule("avgpool", new AdaptiveAvgPool2d());
        classifier = registerModule("classifier", new Sequential(new Dropout(config.dropout(), gen.split()),
                new Linear(config.headChannels(), config.numClasses(), true, gen)));
    }

    /** Logits {@code [N, classes]} of NHWC images {@code [N, H, W, inChannels]}. */
    @Override
    public Tensor forward(Tensor x) {
        checkInput(x);
        Tensor pooled = featureOutput(x).mean(false, 1, 2);      // [N, headChannels]
        return classifier.forward(pooled);
    }

    /**
     * {@code features.forward(x)}; the stem and the first block's depthwise layer run fused
     * ({@link MBConv#forwardAfterStem}: one op in evaluation, the stem's batch norm + SiLU and the depthwise layer one
     * op in training), so the stem's output (the first stage's input: 8 × 112² × 32 floats at 224²) is never written.
     */
    private Tensor featureOutput(Tensor x) {
        if (!(features.get(1) instanceof Sequential stage) || !(stage.get(0) instanceof MBConv first)
                || !(features.get(0) instanceof Sequential stem)) {
            return features.forward(x);
        }
        Tensor y = first.forwardAfterStem(x, stem);
        if (y == null) {
            return features.forward(x);
        }
        for (int i = 1; i < stage.size(); i++) {
            y = stage.get(i).forward(y);
        }
        for (int i = 2; i < features.size(); i++) {
            y = features.get(i).forward(y);
        }
        return y;
    }

    /**
     * The output of each element of {@code features} for NHWC images: the stem's (stride 2), the seven stages'
     * (strides 2, 4, 8, 16, 16, 32, 32) and the head's (stride 32, {@link EfficientNetConfig#headChannels()}
     * channels), nine maps in all, each {@code [N, H', W', C']}.
     */
    public List<Tensor> features(Tensor x) {
        checkInput(x);
        List<Tensor> maps = new ArrayList<>();
        Tensor y = x;
        for (int i = 0; i < features.size(); i++) {
            y = features.get(i).forward(y);
            maps.add(y);
        }
        return List.copyOf(maps);
    }

    private void checkInput(Tensor x) {
        if (x.rank() != 4 || x.dim(3) != config.inChannels() || x.dim(1) < 1 || x.dim(2) < 1) {
            throw new IllegalArgumentException("EfficientNet-" + config.name() + " takes NHWC images [N, H, W, "
                    + config.inChannels() + "], got " + x.describe());
        }
    }

    /** The configuration this model was built from. */
    public EfficientNetConfig config() {
        return config;
    }

    /** Stem, stages and head, as torchvision's {@code features}. */
    public Sequential featureLayers() {
        return features;
    }

    /** Dropout then the Linear classifier, as torchvision's {@code classifier}. */
    public Sequential classifier() {
        return classifier;
    }
}
