package dev.vertebra.examples;

import dev.vertebra.examples.trainer.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code vertebra demo}: synthetic data → training on the CPU → test predictions → loss beside baselines. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"End to end on synthetic CT: write the dataset (once), train on the CPU, predict the test "
                + "studies, write runs/demo/ (checkpoints, metrics.json, plots, submission.csv, solution.csv) and "
                + "print the competition loss beside two baselines."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--data", defaultValue = "data-cache/demo", paramLabel = "DIR",
            description = "synthetic dataset folder, written when absent (default: ${DEFAULT-VALUE})")
    private Path data;

    @Option(names = "--out", defaultValue = "runs/demo", paramLabel = "RUN", description = "(default: ${DEFAULT-VALUE})")
    private Path out;

    @Option(names = "--train-studies", defaultValue = "128", paramLabel = "N", description = "(default: ${DEFAULT-VALUE})")
    private int trainStudies;

    @Option(names = "--test-studies", defaultValue = "32", paramLabel = "M", description = "(default: ${DEFAULT-VALUE})")
    private int testStudies;

    @Option(names = "--epochs", paramLabel = "E", description = "override the recipe's epoch count")
    private Integer epochs;

    @Option(names = "--seed", defaultValue = "2022", paramLabel = "S", description = "(default: ${DEFAULT-VALUE})")
    private long seed;

    @Override
    public Integer call() throws Exception {
        var recipe = Demo.recipe(seed);
        if (epochs != null) {
            recipe = recipe.withEpochs(epochs);
        }
        new Demo(data, out, trainStudies, testStudies, seed, recipe)
                .run(new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                        StandardCharsets.UTF_8));
        return 0;
    }
}
