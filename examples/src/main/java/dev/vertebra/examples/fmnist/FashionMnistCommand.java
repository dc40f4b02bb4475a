package dev.vertebra.examples.fmnist;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code vertebra fashion-mnist [--epochs E] [--train-limit N] [--batch B] [--lr LR] [--seed S] [--data DIR]}:
 * trains a small EfficientNet on Fashion-MNIST with the {@link Recipe} and prints per-epoch loss, test accuracy
 * and wall time; the last line is {@code test accuracy: <x>}.
 */
@Command(name = "fashion-mnist", mixinStandardHelpOptions = true,
        description = "Train a small EfficientNet on Fashion-MNIST (Debian's dataset-fashion-mnist) and report "
                + "test accuracy.")
public final class FashionMnistCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--epochs", defaultValue = "2", description = "passes over the training images (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--train-limit", defaultValue = "6000",
            description = "use the first N training images (default: ${DEFAULT-VALUE})")
    int trainLimit;

    @Option(names = "--batch", defaultValue = "128", description = "images per step (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "2e-3", description = "peak AdamW learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--weight-decay", defaultValue = "0.01", description = "AdamW weight decay (default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--seed", defaultValue = "0", description = "initialisation and data order (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--width", defaultValue = "0.25", description = "width multiplier over B0 (default: ${DEFAULT-VALUE})")
    double width;

    @Option(names = "--depth", defaultValue = "0.25", description = "depth multiplier over B0 (default: ${DEFAULT-VALUE})")
    double depth;

    @Option(names = "--data", defaultValue = "/usr/share/datasets/fashion-mnist",
            description = "directory of the four gzipped IDX files (default: ${DEFAULT-VALUE})")
    Path data;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try {
            if (!FashionMnist.present(data)) {
                throw new IOException(data + " does not hold the Fashion-MNIST IDX files (apt-get install "
                        + "dataset-fashion-mnist, or pass --data)");
            }
            Recipe recipe = new Recipe(epochs, trainLimit, batch, lr, weightDecay, seed, width, depth);
            FashionMnist train = FashionMnist.load(data, FashionMnist.Split.TRAIN, trainLimit);
            FashionMnist test = FashionMnist.load(data, FashionMnist.Split.TEST, Integer.MAX_VALUE);
            FashionMnistTrainer.Result result = FashionMnistTrainer.train(recipe, train, test, out);
            out.printf(Locale.ROOT, "test accuracy: %.4f%n", result.testAccuracy().getLast());
            out.flush();
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            spec.commandLine().getErr().println("vertebra fashion-mnist: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return 1;
        }
    }
}
