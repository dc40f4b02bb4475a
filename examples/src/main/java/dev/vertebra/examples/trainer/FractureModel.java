package dev.vertebra.examples.trainer;

import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Tensor;
import dev.vertebra.efficientnet.EfficientNet;

import java.util.List;

/**
 * The fracture model: an EfficientNet over 2.5D stacks ([N, S, S, K], NHWC) with {@value #OUTPUTS} outputs per
 * slice — logits of "C1..C7 visible" then "a fracture shows on this slice" — and the pooling that turns a study's slices into its eight
 * probabilities (see {@link Pooling}).
 *
 * <pre>{@code
 * FractureModel m = new FractureModel(config, Device.CPU);
 * StudyPrediction p = m.predict(study);   // p.probabilities(): C1..C7, patient_overall
 * }</pre>
 */
public final class FractureModel {
    /** Logits per slice: "C1..C7 visible", then "a fracture shows on this slice". */
    public static final int OUTPUTS = 8;
    /** Index of the fracture logit. */
    public static final int FRACTURE = 7;
    /** Images per forward pass when predicting. */
    static final int PREDICT_BATCH = 64;
    private final TrainConfig config;
    private final EfficientNet net;
    private final Generator generator;
    private final Device device;
    private Calibration calibration = Calibration.IDENTITY;
    private SpineAtlas atlas = SpineAtlas.UNIFORM;

    public FractureModel(TrainConfig config, Device device) {
        this.config = config;
        this.device = device;
        this.generator = new Generator(config.seed());
        // Dropout and stochastic depth as the network's configuration says; their generators travel in checkpoints
        // (Module.namedGenerators), so a resumed run repeats an uninterrupted one.
        this.net = new EfficientNet(config.network(), generator);
        net.to(device);
    }

    public EfficientNet net() {
        return net;
    }

    public TrainConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /** The map from pooled to reported study probabilities (fitted by the trainer, stored in checkpoints). */
    public Calibration calibration() {
        return calibration;
    }

    public void calibration(Calibration c) {
        this.calibration = java.util.Objects.requireNonNull(c);
    }

    /** Where the vertebrae lie along the spine (fitted by the trainer, stored in checkpoints). */
    public SpineAtlas atlas() {
        return atlas;
    }

    public void atlas(SpineAtlas a) {
        this.atlas = java.util.Objects.requireNonNull(a);
    }

    /** The generator the weights were drawn from (checkpointed with them). */
    public Generator generator() {
        return generator;
    }

    /** A batch of stacks around the given slices of one study, [n, S, S, K] on the model's device. */
    public Tensor batch(List<StudySlices> studies, int[] study, int[] slice) {
        int s = config.imageSize();
        int k = config.slices();
        float[] data = new float[slice.length * s * s * k];
        for (int i = 0; i < slice.length; i++) {
            System.arraycopy(studies.get(study[i]).stack(slice[i], k), 0, data, i * s * s * k, s * s * k);
        }
        return Tensor.of(data, slice.length, s, s, k).to(device);
    }

    /** Per-slice and study-level predictions for one study (eval mode, no gradients). */
    public StudyPrediction predict(StudySlices study) {
        net.eval();
        float[][] logits = new float[study.slices()][];
        try (NoGrad _ = NoGrad.enter()) {
            for (int from = 0; from < study.slices(); from += PREDICT_BATCH) {
                int n = Math.min(PREDICT_BATCH, study.slices() - from);
                int[] idx = new int[n];
                int[] slices = new int[n];
                for (int i = 0; i < n; i++) {
                    slices[i] = from + i;
                }
                try (MemoryScope _ = MemoryScope.open()) {
                    float[] out = net.forward(batch(List.of(study), idx, slices)).toFloatArray();
                    for (int i = 0; i < n; i++) {
                        logits[from + i] = java.util.Arrays.copyOfRange(out, i * OUTPUTS, (i + 1) * OUTPUTS);
                    }
                }
            }
        }
        return StudyPrediction.of(study.uid(), logits, config.pooling(), config.topK(), atlas, calibration);
    }
}
