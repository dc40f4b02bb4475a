package dev.vertebra.examples.fmnist;

import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.efficientnet.EfficientNet;
import dev.vertebra.efficientnet.EfficientNetConfig;
import dev.vertebra.nn.Losses;
import dev.vertebra.nn.optim.AdamW;
import dev.vertebra.nn.optim.LrSchedule;
import dev.vertebra.nn.optim.Optimizer;
import dev.vertebra.nn.optim.ParamGroup;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Trains a small EfficientNet on Fashion-MNIST with a {@link Recipe} and measures test accuracy after each epoch.
 *
 * <pre>{@code
 * FashionMnistTrainer.Result r = FashionMnistTrainer.train(recipe, train, test, new PrintWriter(System.out, true));
 * double accuracy = r.testAccuracy().getLast();
 * }</pre>
 */
public final class FashionMnistTrainer {

    private static final int EVAL_BATCH = 500;

    /** Mean training loss, test accuracy and seconds since the start, one entry per epoch. */
    public record Result(List<Double> trainLoss, List<Double> testAccuracy, List<Double> wallSeconds) {
        public Result {
            trainLoss = List.copyOf(trainLoss);
            testAccuracy = List.copyOf(testAccuracy);
            wallSeconds = List.copyOf(wallSeconds);
        }
    }

    private FashionMnistTrainer() {
    }

    /** The recipe's model: B0's stages scaled, 1 input channel, 10 classes, no dropout or stochastic depth. */
    public static EfficientNetConfig config(Recipe recipe) {
        return EfficientNetConfig.custom(recipe.width(), recipe.depth(), FashionMnist.SIDE, 0)
                .withStochasticDepth(0).withClasses(FashionMnist.CLASSES).withInChannels(1);
    }

    /** Trains on {@code train} (its first {@code recipe.trainLimit()} images) and evaluates on all of {@code test}. */
    public static Result train(Recipe recipe, FashionMnist train, FashionMnist test, PrintWriter log) {
        EfficientNet net = new EfficientNet(config(recipe), new Generator(recipe.seed()));
        Optimizer opt = new AdamW(List.of(ParamGroup.of(net.parameters(), recipe.lr(), recipe.weightDecay())), 0.9,
                0.999, 1e-8);
        int n = Math.min(recipe.trainLimit(), train.size());
        long stepsPerEpoch = (n + recipe.batch() - 1) / recipe.batch();
        LrSchedule schedule = new LrSchedule.WarmupCosine(recipe.lr(), 0, recipe.epochs() * stepsPerEpoch, 0);
        log.printf(Locale.ROOT, "Vertebra; %d training images, %d test images; width %s depth %s, %d parameters%n",
                n, test.size(), recipe.width(), recipe.depth(), net.numParameters());
        List<Double> losses = new ArrayList<>();
        List<Double> accuracies = new ArrayList<>();
        List<Double> walls = new ArrayList<>();
        long start = System.nanoTime();
        long step = 0;
        for (int epoch = 0; epoch < recipe.epochs(); epoch++) {
            net.train();
            int[] order = recipe.permutation(n, epoch);
            double lossSum = 0;
            for (int b = 0; b < n; b += recipe.batch()) {
                int[] idx = Arrays.copyOfRange(order, b, Math.min(n, b + recipe.batch()));
                opt.scheduleLr(schedule.lr(step));
                try (MemoryScope _ = MemoryScope.open()) {   // the step's memory is reused by the next step
                    Tensor loss = Losses.crossEntropy(net.forward(images(train, idx)),
                            Tensor.ofLongs(train.gatherLabels(idx), idx.length), 0, Reduction.MEAN);
                    opt.zeroGrad();
                    loss.backward();
                    opt.step();
                    lossSum += loss.item() * idx.length;
                }
                step++;
            }
            double accuracy = accuracy(net, test);
            double wall = (System.nanoTime() - start) / 1e9;
            losses.add(lossSum / n);
            accuracies.add(accuracy);
            walls.add(wall);
            log.printf(Locale.ROOT, "epoch %d/%d: loss %.4f, test accuracy %.4f, wall %.1f s%n", epoch + 1,
                    recipe.epochs(), lossSum / n, accuracy, wall);
        }
        return new Result(losses, accuracies, walls);
    }

    /** Fraction of {@code data} whose highest logit is the label, in eval mode. */
    public static double accuracy(EfficientNet net, FashionMnist data) {
        net.eval();
        int correct = 0;
        try (NoGrad _ = NoGrad.enter()) {
            for (int start = 0; start < data.size(); start += EVAL_BATCH) {
                int first = start;
                int[] idx = new int[Math.min(EVAL_BATCH, data.size() - first)];
                Arrays.setAll(idx, i -> first + i);
                float[] logits;   // [B, 10]
                try (MemoryScope _ = MemoryScope.open()) {
                    logits = net.forward(images(data, idx)).contiguous().toFloatArray();
                }
                for (int i = 0; i < idx.length; i++) {
                    int best = 0;
                    for (int c = 1; c < FashionMnist.CLASSES; c++) {
                        if (logits[i * FashionMnist.CLASSES + c] > logits[i * FashionMnist.CLASSES + best]) {
                            best = c;
                        }
                    }
                    correct += best == data.labels()[idx[i]] ? 1 : 0;
                }
            }
        }
        return (double) correct / data.size();
    }

    private static Tensor images(FashionMnist data, int[] idx) {
        int[] shape = {idx.length, FashionMnist.SIDE, FashionMnist.SIDE, 1};
        return Tensor.fromHost(new HostArray(DType.FLOAT32, shape, data.gather(idx)), Device.CPU);
    }
}
