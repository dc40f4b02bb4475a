package dev.vertebra.examples.trainer;

import dev.vertebra.core.Precision;
import dev.vertebra.efficientnet.EfficientNetConfig;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A training run's settings; stored as flat JSON in every checkpoint so that evaluate/predict rebuild the same
 * model and preprocessing.
 *
 * @param model           b0..b7, or "custom:W:D" (width and depth multipliers)
 * @param imageSize       crop side in pixels
 * @param pixelMm         crop pixel spacing, mm
 * @param slices          K adjacent slices as channels
 * @param epochs          epochs
 * @param batch           images per step
 * @param lr              peak learning rate (AdamW, warmup then cosine)
 * @param weightDecay     AdamW weight decay
 * @param samplesPerStudy slices drawn per training study per epoch (half from fracture slices when it has any,
 *                        the rest from all its slices)
 * @param valFraction     share of the studies held out for validation (split by study)
 * @param pooling         study-level pooling of slice probabilities
 * @param topK            k of {@link Pooling#TOPK_MEAN}
 * @param seed            every random draw follows from it
 * @param precision       fp32, tf32, bf16 or fp16 (autocast around forward and loss; loss scaling for fp16)
 * @param dropout         dropout before the classifier (the model's own, 0.2 for B0, unless set)
 * @param dropPath        stochastic depth rate of the last block (the model's own unless set)
 * @param emaDecay        decay of an exponential moving average of the weights ({@link dev.vertebra.nn.ModelEma},
 *                        with warmup), which validation scores and best.safetensors keeps; 0 trains without one
 */
public record TrainConfig(String model, int imageSize, double pixelMm, int slices, int epochs, int batch, double lr,
                          double weightDecay, int samplesPerStudy, double valFraction, Pooling pooling, int topK,
                          long seed, Precision precision, double dropout, double dropPath, double emaDecay) {

    public TrainConfig {
        if (imageSize < 32 || slices < 1 || epochs < 1 || batch < 1 || !(lr > 0) || samplesPerStudy < 1
                || !(valFraction >= 0 && valFraction < 1) || topK < 1 || !(pixelMm > 0) || precision == null
                || !(dropout >= 0 && dropout < 1) || !(dropPath >= 0 && dropPath < 1)
                || !(emaDecay >= 0 && emaDecay < 1)) {
            throw new IllegalArgumentException("bad training settings: " + this);
        }
        model(model); // validates the name
    }

    /** The settings without a weight average. */
    public TrainConfig(String model, int imageSize, double pixelMm, int slices, int epochs, int batch, double lr,
                       double weightDecay, int samplesPerStudy, double valFraction, Pooling pooling, int topK,
                       long seed, Precision precision, double dropout, double dropPath) {
        this(model, imageSize, pixelMm, slices, epochs, batch, lr, weightDecay, samplesPerStudy, valFraction, pooling,
                topK, seed, precision, dropout, dropPath, 0);
    }

    /** The settings with the model's own dropout and stochastic depth, without a weight average. */
    public TrainConfig(String model, int imageSize, double pixelMm, int slices, int epochs, int batch, double lr,
                       double weightDecay, int samplesPerStudy, double valFraction, Pooling pooling, int topK,
                       long seed, Precision precision) {
        this(model, imageSize, pixelMm, slices, epochs, batch, lr, weightDecay, samplesPerStudy, valFraction, pooling,
                topK, seed, precision, model(model).dropout(), model(model).stochasticDepth());
    }

    /** The settings in float32. */
    public TrainConfig(String model, int imageSize, double pixelMm, int slices, int epochs, int batch, double lr,
                       double weightDecay, int samplesPerStudy, double valFraction, Pooling pooling, int topK,
                       long seed) {
        this(model, imageSize, pixelMm, slices, epochs, batch, lr, weightDecay, samplesPerStudy, valFraction, pooling,
                topK, seed, Precision.FP32);
    }

    /** The EfficientNet for a model name, with {@link FractureModel#OUTPUTS} outputs and K input channels. */
    public static EfficientNetConfig model(String name) {
        return EfficientNetConfig.parse(name);
    }

    /** The network's configuration. */
    public EfficientNetConfig network() {
        return model(model).withClasses(FractureModel.OUTPUTS).withInChannels(slices).withResolution(imageSize)
                .withDropout(dropout).withStochasticDepth(dropPath);
    }

    /** Flat JSON. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("imageSize", imageSize);
        m.put("pixelMm", pixelMm);
        m.put("slices", slices);
        m.put("epochs", epochs);
        m.put("batch", batch);
        m.put("lr", lr);
        m.put("weightDecay", weightDecay);
        m.put("samplesPerStudy", samplesPerStudy);
        m.put("valFraction", valFraction);
        m.put("pooling", pooling.name());
        m.put("topK", topK);
        m.put("seed", seed);
        m.put("precision", precision.cliName());
        m.put("dropout", dropout);
        m.put("dropPath", dropPath);
        m.put("emaDecay", emaDecay);
        StringBuilder sb = new StringBuilder("{");
        m.forEach((k, v) -> sb.append(sb.length() > 1 ? ", " : "").append('"').append(k).append("\": ")
                .append(v instanceof String s ? "\"" + s + "\"" : String.valueOf(v)));
        return sb.append('}').toString();
    }

    /**
     * Parses {@link #toJson()}'s output; configurations saved before precision existed are fp32, those saved before
     * dropout, stochastic depth and the weight average were settings had them off.
     */
    public static TrainConfig fromJson(String json) {
        Map<String, String> m = new LinkedHashMap<>();
        Matcher matcher = Pattern.compile("\"(\\w+)\"\\s*:\\s*(\"[^\"]*\"|[^,}\\s]+)").matcher(json);
        while (matcher.find()) {
            m.put(matcher.group(1), matcher.group(2).replace("\"", ""));
        }
        try {
            return new TrainConfig(m.get("model"), Integer.parseInt(m.get("imageSize")),
                    Double.parseDouble(m.get("pixelMm")), Integer.parseInt(m.get("slices")),
                    Integer.parseInt(m.get("epochs")), Integer.parseInt(m.get("batch")),
                    Double.parseDouble(m.get("lr")), Double.parseDouble(m.get("weightDecay")),
                    Integer.parseInt(m.get("samplesPerStudy")), Double.parseDouble(m.get("valFraction")),
                    Pooling.valueOf(m.get("pooling").toUpperCase(Locale.ROOT)), Integer.parseInt(m.get("topK")),
                    Long.parseLong(m.get("seed")),
                    m.containsKey("precision") ? Precision.parse(m.get("precision")) : Precision.FP32,
                    Double.parseDouble(m.getOrDefault("dropout", "0")),
                    Double.parseDouble(m.getOrDefault("dropPath", "0")),
                    Double.parseDouble(m.getOrDefault("emaDecay", "0")));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a training configuration: " + json, e);
        }
    }

    /** The same settings in another precision. */
    public TrainConfig withPrecision(Precision p) {
        return new TrainConfig(model, imageSize, pixelMm, slices, epochs, batch, lr, weightDecay, samplesPerStudy,
                valFraction, pooling, topK, seed, p, dropout, dropPath, emaDecay);
    }

    /** The same settings with another epoch count. */
    public TrainConfig withEpochs(int e) {
        return new TrainConfig(model, imageSize, pixelMm, slices, e, batch, lr, weightDecay, samplesPerStudy,
                valFraction, pooling, topK, seed, precision, dropout, dropPath, emaDecay);
    }

    /** The same settings with another weight-average decay (0: none). */
    public TrainConfig withEmaDecay(double d) {
        return new TrainConfig(model, imageSize, pixelMm, slices, epochs, batch, lr, weightDecay, samplesPerStudy,
                valFraction, pooling, topK, seed, precision, dropout, dropPath, d);
    }
}
