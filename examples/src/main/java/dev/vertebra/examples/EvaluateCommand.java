package dev.vertebra.examples;

import dev.vertebra.examples.metric.StudyLabels;
import dev.vertebra.examples.trainer.Evaluation;
import dev.vertebra.examples.trainer.FractureModel;
import dev.vertebra.examples.trainer.Inference;
import dev.vertebra.examples.trainer.StudyPrediction;
import dev.vertebra.examples.trainer.StudySlices;
import dev.vertebra.examples.trainer.TrainerStudies;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code vertebra evaluate --checkpoint CKPT --data DIR}: scores the model on the labelled studies of train.csv
 * (or, with {@code --test}, on test_images against test_labels.csv) and writes metrics.json, roc.png and Grad-CAM
 * pictures.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Evaluate a checkpoint: competition loss, per-target log loss and AUC (metrics.json, roc.png, "
                + "Grad-CAM pictures).")
final class EvaluateCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "CKPT", description = "a trainer checkpoint")
    private Path checkpoint;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "RSNA-layout dataset")
    private Path data;

    @Option(names = "--test", description = "evaluate test_images against test_labels.csv instead of train_images")
    private boolean test;

    @Option(names = "--out", paramLabel = "DIR", description = "where to write (default: the checkpoint's folder)")
    private Path out;

    @Mixin
    private CacheOption cache;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV", description = "(default: ${DEFAULT-VALUE})")
    private String device;

    @Override
    public Integer call() {
        try {
            evaluate();
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            return Failures.report(spec, e);
        }
    }

    private void evaluate() throws IOException {
        FractureModel model = Inference.load(checkpoint, Devices.open(device));
        int threads = Runtime.getRuntime().availableProcessors();
        int size = model.config().imageSize();
        double pixelMm = model.config().pixelMm();
        List<StudySlices> studies = test ? TrainerStudies.test(data, cache.dir, size, pixelMm, threads)
                : TrainerStudies.train(data, cache.dir, size, pixelMm, threads);
        var labels = StudyLabels.read(data.resolve(test ? "test_labels.csv" : "train.csv"));
        labels.keySet().retainAll(studies.stream().map(StudySlices::uid).toList());
        List<StudyPrediction> predictions = Inference.predict(model, studies);
        Evaluation evaluation = Evaluation.of(labels, Inference.probabilities(predictions));
        Path dir = out != null ? out : checkpoint.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        evaluation.writeJson(dir.resolve("metrics.json"));
        evaluation.writeRoc(dir.resolve("roc.png"));
        Inference.gradCams(model, studies, predictions, dir.resolve("gradcam"), 4);
        spec.commandLine().getOut().printf(Locale.ROOT, "competition loss %.6f on %d studies; %s%n",
                evaluation.competitionLoss(), evaluation.studies(), dir.resolve("metrics.json"));
        spec.commandLine().getOut().flush();
    }
}
