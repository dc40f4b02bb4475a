package dev.vertebra.examples;

import dev.vertebra.core.Device;
import dev.vertebra.core.Precision;
import dev.vertebra.examples.trainer.Pooling;
import dev.vertebra.examples.trainer.StudySlices;
import dev.vertebra.examples.trainer.TrainConfig;
import dev.vertebra.examples.trainer.Trainer;
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
import java.util.concurrent.Callable;

/** {@code vertebra train --data DIR ...}: trains the fracture model on an RSNA-layout dataset. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train the cervical-spine fracture model (2.5D EfficientNet) on an RSNA-layout dataset.")
final class TrainCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "RSNA-layout dataset")
    private Path data;

    @Option(names = "--model", defaultValue = "b0", paramLabel = "NAME",
            description = "b0..b7, or custom:WIDTH:DEPTH (default: ${DEFAULT-VALUE})")
    private String model;

    @Option(names = "--image-size", defaultValue = "64", paramLabel = "S",
            description = "crop side in pixels (default: ${DEFAULT-VALUE})")
    private int imageSize;

    @Option(names = "--pixel-mm", defaultValue = "0.8", paramLabel = "MM",
            description = "crop pixel spacing (default: ${DEFAULT-VALUE})")
    private double pixelMm;

    @Option(names = "--slices", defaultValue = "3", paramLabel = "K",
            description = "adjacent slices as channels (default: ${DEFAULT-VALUE})")
    private int slices;

    @Option(names = "--epochs", defaultValue = "8", paramLabel = "E", description = "(default: ${DEFAULT-VALUE})")
    private int epochs;

    @Option(names = "--batch", defaultValue = "32", paramLabel = "B", description = "(default: ${DEFAULT-VALUE})")
    private int batch;

    @Option(names = "--lr", defaultValue = "3e-3", paramLabel = "LR",
            description = "peak learning rate, AdamW (default: ${DEFAULT-VALUE})")
    private double lr;

    @Option(names = "--samples-per-study", defaultValue = "24", paramLabel = "N",
            description = "slices drawn per study per epoch (default: ${DEFAULT-VALUE})")
    private int samplesPerStudy;

    @Option(names = "--val-fraction", defaultValue = "0.2", paramLabel = "F",
            description = "studies held out for validation (default: ${DEFAULT-VALUE})")
    private double valFraction;

    @Option(names = "--pooling", defaultValue = "TOPK_MEAN", paramLabel = "P",
            description = "study pooling: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    private Pooling pooling;

    @Option(names = "--top-k", defaultValue = "3", paramLabel = "K", description = "k of TOPK_MEAN (default: ${DEFAULT-VALUE})")
    private int topK;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV", description = "cpu or cuda (default: ${DEFAULT-VALUE})")
    private String device;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "P", converter = PrecisionConverter.class,
            description = PrecisionConverter.HELP + " A resumed run keeps its own.")
    private Precision precision;

    @Option(names = "--dropout", paramLabel = "P",
            description = "dropout before the classifier (default: the model's own, 0.2 for B0)")
    private Double dropout;

    @Option(names = "--drop-path", paramLabel = "P",
            description = "stochastic depth rate of the last block (default: the model's own, 0.2)")
    private Double dropPath;

    @Option(names = "--ema-decay", defaultValue = "0", paramLabel = "D",
            description = "keep an exponential moving average of the weights with this decay (warmed up as "
                    + "min(D, (1 + t)/(10 + t)) at step t); validation scores it and best.safetensors holds it. "
                    + "Like timm's --model-ema-decay; 0: off (default: ${DEFAULT-VALUE})")
    private double emaDecay;

    @Option(names = "--out", defaultValue = "runs/train", paramLabel = "RUN", description = "run folder (default: ${DEFAULT-VALUE})")
    private Path out;

    @Option(names = "--resume", paramLabel = "RUN", description = "continue the run in this folder from its last checkpoint")
    private Path resume;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "(default: ${DEFAULT-VALUE})")
    private long seed;

    @Mixin
    private CacheOption cache;

    @Option(names = "--threads", defaultValue = "2", paramLabel = "N", description = "study loading threads (default: ${DEFAULT-VALUE})")
    private int threads;

    @Override
    public Integer call() {
        try {
            train();
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            return Failures.report(spec, e);
        }
    }

    private void train() throws IOException {
        Device dev = Devices.open(device); // an unusable device fails here, before the studies are loaded
        if (resume != null) {
            Path last = resume.resolve("last.safetensors");
            if (!Files.isRegularFile(last)) {
                throw new IOException(resume + " holds no last.safetensors: there is no run to resume there");
            }
            TrainConfig config = Trainer.configOf(last);
            List<StudySlices> studies =
                    TrainerStudies.train(data, cache.dir, config.imageSize(), config.pixelMm(), threads);
            Trainer.resume(resume, studies, dev).run(config.epochs());
            return;
        }
        var network = TrainConfig.model(model);
        TrainConfig config = new TrainConfig(model, imageSize, pixelMm, slices, epochs, batch, lr, 1e-4,
                samplesPerStudy, valFraction, pooling, topK, seed, precision,
                dropout != null ? dropout : network.dropout(), dropPath != null ? dropPath : network.stochasticDepth(),
                emaDecay);
        List<StudySlices> studies = TrainerStudies.train(data, cache.dir, imageSize, pixelMm, threads);
        Trainer.start(config, studies, out, dev).run(epochs);
    }
}
