package dev.vertebra.examples.trainer;

import dev.vertebra.core.Device;
import dev.vertebra.examples.metric.CompetitionMetric;
import dev.vertebra.nn.Checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.SequencedMap;

/** Loading a trained model from a checkpoint, predicting studies, Grad-CAM pictures of the top predictions. */
public final class Inference {

    private Inference() {
    }

    /** The model of a checkpoint (its configuration is stored in it). */
    public static FractureModel load(Path checkpoint, Device device) throws IOException {
        if (!Files.isRegularFile(checkpoint)) {
            throw new NoSuchFileException(checkpoint.toString(), null, "no such checkpoint");
        }
        String metadata = Trainer.metadataOf(checkpoint);
        FractureModel model = new FractureModel(TrainConfig.fromJson(metadata), device);
        Checkpoint.loadWeights(checkpoint, model.net(), true);
        model.calibration(Calibration.fromJson(metadata));
        model.atlas(SpineAtlas.fromJson(metadata));
        return model;
    }

    /** Predictions for each study, in order. */
    public static List<StudyPrediction> predict(FractureModel model, List<StudySlices> studies) {
        List<StudyPrediction> out = new ArrayList<>();
        try (ProgressBar bar = new ProgressBar(System.err, "predict", studies.size())) {
            long images = 0;
            for (StudySlices st : studies) {
                out.add(model.predict(st));
                images += st.slices();
                bar.update(out.size(), Double.NaN, images);
            }
        }
        return out;
    }

    /** study → C1..C7, patient_overall. */
    public static SequencedMap<String, double[]> probabilities(List<StudyPrediction> predictions) {
        SequencedMap<String, double[]> out = new LinkedHashMap<>();
        predictions.forEach(p -> out.put(p.uid(), p.probabilities()));
        return out;
    }

    /**
     * Grad-CAM pictures of the {@code count} highest (study, vertebra) fracture probabilities, each on the slice
     * that scores highest for that vertebra: gradcam_&lt;rank&gt;_&lt;Ck&gt;.png in {@code dir}.
     */
    public static void gradCams(FractureModel model, List<StudySlices> studies, List<StudyPrediction> predictions,
                                Path dir, int count) throws IOException {
        record Top(int study, int vertebra, double p) {
        }
        List<Top> tops = new ArrayList<>();
        for (int i = 0; i < predictions.size(); i++) {
            for (int k = 0; k < 7; k++) {
                tops.add(new Top(i, k, predictions.get(i).probabilities()[k]));
            }
        }
        tops.sort(Comparator.comparingDouble(Top::p).reversed());
        Files.createDirectories(dir);
        for (int r = 0; r < Math.min(count, tops.size()); r++) {
            Top top = tops.get(r);
            StudyPrediction p = predictions.get(top.study());
            int best = 0;
            for (int s = 1; s < p.logits().length; s++) {
                if (p.sliceScore(s, top.vertebra()) > p.sliceScore(best, top.vertebra())) {
                    best = s;
                }
            }
            StudySlices st = studies.get(top.study());
            float[] heat = GradCam.heat(model, st, best);
            GradCam.write(st, best, heat, dir.resolve(String.format(Locale.ROOT, "gradcam_%d_%s.png", r + 1,
                    CompetitionMetric.TARGETS.get(top.vertebra()))));
        }
    }
}
