package dev.vertebra.examples.trainer;

import dev.vertebra.core.Device;
import dev.vertebra.core.Precision;
import dev.vertebra.data.synth.CervicalPhantom;
import dev.vertebra.data.synth.FracturePrevalence;
import dev.vertebra.data.synth.SyntheticDataset;
import dev.vertebra.examples.metric.CompetitionMetric;
import dev.vertebra.examples.metric.StudyLabels;
import dev.vertebra.examples.metric.Submission;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.SequencedMap;

/**
 * The end-to-end demo: a synthetic RSNA-layout dataset (written once), training (on the CPU unless told otherwise),
 * prediction of the test studies, and the model's competition loss beside two constant baselines on the same
 * studies.
 *
 * @param data          dataset folder (written when it holds no train.csv)
 * @param run           run folder
 * @param trainStudies  synthetic training studies
 * @param testStudies   synthetic test studies
 * @param dataSeed      synthetic data seed
 * @param config        training settings
 * @param device        where to train and predict
 */
public record Demo(Path data, Path run, int trainStudies, int testStudies, long dataSeed, TrainConfig config,
                   Device device) {
    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);
    /** Demo phantoms: 96×96 pixels of 0.8–1 mm (the spine and its surroundings), 96–112 slices. */
    public static final CervicalPhantom.PhantomSize PHANTOM = new CervicalPhantom.PhantomSize(96, 96, 96, 112);

    /**
     * The demo's recipe, chosen to finish within minutes on two CPU cores. 32 epochs: at 24 the seed-2022 data
     * ended at 0.65× the better baseline and seed 7 at 0.84× (0.62× and 0.77× with the kernels of the build before),
     * both still improving; at 32, 0.56× and 0.55×, and 0.66× and 0.71× once the depthwise weight gradient rounded
     * differently (runs that differ only in such last bits end between about 0.35× and 0.69×: bench/NOTES.md);
     * 0.50× and 0.41× once the best epoch was judged with its neighbours (see {@link Trainer}). Those figures are on
     * 128 training studies; on the 256 that {@code vertebra demo} now writes, eight seeds end at 0.03–0.22×
     * (examples/README.md).
     * Dropout and stochastic depth are off: in a schedule this short they cost more than they save (with the
     * model's 0.2 and 0.2 a 16-epoch run ended at 0.83× instead of 0.61×).
     */
    public static TrainConfig recipe(long seed) {
        return new TrainConfig("custom:0.5:0.25", 64, 0.8, 3, 32, 32, 3e-3, 1e-4, 24, 0.2, Pooling.TOPK_MEAN, 3,
                seed, Precision.FP32, 0, 0);
    }

    /** The competition loss of the model and of the baselines on the test studies. */
    public record Table(double model, double half, double prevalence, int studies) {
        public double ratio() {
            return model / Math.min(half, prevalence);
        }
    }

    /** Runs everything and returns the table. */
    public Table run(PrintStream out) throws IOException {
        long start = System.nanoTime();
        if (!Files.exists(data.resolve("train.csv"))) {
            LOG.info("writing the synthetic dataset to {}", data);
            SyntheticDataset.write(data, new SyntheticDataset.Config(trainStudies, testStudies, dataSeed, PHANTOM,
                    FracturePrevalence.RSNA_2022, 0.25, 0.33));
        }
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        List<StudySlices> train = TrainerStudies.train(data, config.imageSize(), config.pixelMm(), threads);
        if (train.size() != trainStudies) {
            LOG.warn("{} holds {} training studies, not the {} asked for: it was written by an earlier demo with other "
                    + "settings (delete the folder to write a new one)", data, train.size(), trainStudies);
        }
        Trainer trainer = Trainer.start(config, train, run, device);
        trainer.run(config.epochs());

        FractureModel model = Inference.load(run.resolve(Trainer.BEST), device);
        List<StudySlices> test = TrainerStudies.test(data, config.imageSize(), config.pixelMm(), threads);
        List<StudyPrediction> predictions = Inference.predict(model, test);
        SequencedMap<String, double[]> probabilities = Inference.probabilities(predictions);
        Submission.write(run.resolve("submission.csv"), probabilities);
        SequencedMap<String, int[]> labels = StudyLabels.read(data.resolve("test_labels.csv"));
        StudyLabels.write(run.resolve("solution.csv"), labels);
        Evaluation evaluation = Evaluation.of(labels, probabilities);
        evaluation.writeJson(run.resolve("metrics.json"));
        if (ModuleLayer.boot().findModule("java.desktop").isPresent()) {
            Plots.lossCurves(trainer.history(), run.resolve("loss.png"));
            evaluation.writeRoc(run.resolve("roc.png"));
            Inference.gradCams(model, test, predictions, run.resolve("gradcam"), 4);
        } else {
            LOG.warn("no java.desktop module in this runtime: plots and Grad-CAM pictures skipped");
        }

        SequencedMap<String, int[]> trainLabels = StudyLabels.read(data.resolve("train.csv"));
        double[] prevalence = new double[8];
        trainLabels.values().forEach(y -> {
            for (int t = 0; t < 8; t++) {
                prevalence[t] += y[t] / (double) trainLabels.size();
            }
        });
        SequencedMap<String, double[]> half = new LinkedHashMap<>();
        SequencedMap<String, double[]> constant = new LinkedHashMap<>();
        labels.keySet().forEach(uid -> {
            half.put(uid, new double[] {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5});
            constant.put(uid, prevalence.clone());
        });
        Table table = new Table(evaluation.competitionLoss(), CompetitionMetric.score(labels, half).score(),
                CompetitionMetric.score(labels, constant).score(), labels.size());
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "%nCompetition loss on %d synthetic test studies (lower is better)%n", table.studies());
        out.printf(Locale.ROOT, "  %-44s %8.4f%n", "model (" + config.model() + ", best epoch)", table.model());
        out.printf(Locale.ROOT, "  %-44s %8.4f%n", "baseline: all 0.5", table.half());
        out.printf(Locale.ROOT, "  %-44s %8.4f%n", "baseline: training prevalence", table.prevalence());
        out.printf(Locale.ROOT, "  %-44s %8.3f%n", "model / better baseline", table.ratio());
        out.printf(Locale.ROOT, "  run folder %s, %.0f s (after the build)%n", run, seconds);
        out.flush();
        return table;
    }
}
