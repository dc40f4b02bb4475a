package dev.vertebra.examples;

import dev.vertebra.core.Device;
import dev.vertebra.core.Precision;
import dev.vertebra.examples.trainer.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code vertebra demo}: synthetic data → training on the CPU → test predictions → loss beside baselines. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"End to end on synthetic CT: write the dataset (once), train (on the CPU by default), predict the test "
                + "studies, write runs/demo/ (checkpoints, metrics.json, plots, submission.csv, solution.csv) and "
                + "print the competition loss beside two baselines."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--data", paramLabel = "DIR", description = "synthetic dataset folder, written when absent "
            + "(default: data-cache/demo, or data-cache/demo-seed<S> with another --seed: a dataset already there "
            + "is used as it is, whatever seed and study counts wrote it)")
    private Path data;

    @Option(names = "--out", defaultValue = "runs/demo", paramLabel = "RUN", description = "(default: ${DEFAULT-VALUE})")
    private Path out;

    @Option(names = "--train-studies", defaultValue = "256", paramLabel = "N",
            description = "synthetic training studies, a fifth of them for validation (default: ${DEFAULT-VALUE})")
    private int trainStudies;

    @Option(names = "--test-studies", defaultValue = "64", paramLabel = "M",
            description = "synthetic test studies (default: ${DEFAULT-VALUE})")
    private int testStudies;

    @Option(names = "--epochs", paramLabel = "E", description = "override the recipe's epoch count")
    private Integer epochs;

    private static final long DEFAULT_SEED = 2022;

    @Option(names = "--seed", defaultValue = "" + DEFAULT_SEED, paramLabel = "S",
            description = "data and training seed (default: ${DEFAULT-VALUE})")
    private long seed;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEV", description = "cpu or cuda (default: ${DEFAULT-VALUE})")
    private String device;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "P", converter = PrecisionConverter.class,
            description = PrecisionConverter.HELP)
    private Precision precision;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        try {
            var recipe = Demo.recipe(seed).withPrecision(precision);
            if (epochs != null) {
                recipe = recipe.withEpochs(epochs);
            }
            Device dev = Devices.open(device); // an unusable device fails here, before minutes of data preparation
            Path dataDir = data != null ? data
                    : Path.of(seed == DEFAULT_SEED ? "data-cache/demo" : "data-cache/demo-seed" + seed);
            new Demo(dataDir, out, trainStudies, testStudies, seed, recipe, dev)
                    .run(new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                            StandardCharsets.UTF_8));
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            return Failures.report(spec, e);
        }
    }
}
