package dev.vertebra.examples;

import dev.vertebra.examples.metric.Submission;
import dev.vertebra.examples.trainer.FractureModel;
import dev.vertebra.examples.trainer.Inference;
import dev.vertebra.examples.trainer.StudySlices;
import dev.vertebra.examples.trainer.TrainerStudies;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code vertebra predict --checkpoint CKPT --data DIR --out submission.csv}. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Predict the studies of test.csv/test_images and write a Kaggle submission (row_id,fractured).")
final class PredictCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "CKPT", description = "a trainer checkpoint")
    private Path checkpoint;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "RSNA-layout dataset with test.csv")
    private Path data;

    @Option(names = "--out", defaultValue = "submission.csv", paramLabel = "CSV", description = "(default: ${DEFAULT-VALUE})")
    private Path out;

    @Mixin
    private CacheOption cache;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV", description = "(default: ${DEFAULT-VALUE})")
    private String device;

    @Override
    public Integer call() {
        try {
            FractureModel model = Inference.load(checkpoint, Devices.open(device));
            List<StudySlices> test = TrainerStudies.test(data, cache.dir, model.config().imageSize(),
                    model.config().pixelMm(), Runtime.getRuntime().availableProcessors());
            Submission.write(out, Inference.probabilities(Inference.predict(model, test)));
            spec.commandLine().getOut().printf("%s: %d studies%n", out, test.size());
            spec.commandLine().getOut().flush();
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            return Failures.report(spec, e);
        }
    }
}
