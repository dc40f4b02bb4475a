package dev.vertebra.examples.fmnist;

import dev.vertebra.examples.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class FashionMnistTest {

    @Test
    void permutationIsThePyTorchScripts() {
        // Printed by permutation(10, seed, epoch) in examples/src/test/python/fashion_mnist_torch.py.
        assertArrayEquals(new int[]{6, 3, 2, 9, 8, 1, 4, 7, 0, 5}, recipe(0).permutation(10, 0));
        assertArrayEquals(new int[]{2, 0, 7, 9, 5, 1, 6, 4, 3, 8}, recipe(7).permutation(10, 1));
        int[] big = recipe(3).permutation(1000, 2);
        Arrays.sort(big);
        for (int i = 0; i < big.length; i++) {
            assertEquals(i, big[i]);
        }
    }

    @Test
    void commandExplainsAMissingDataDirectory(@TempDir Path empty) {
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(new StringWriter(), true));
        cmd.setErr(new PrintWriter(err, true));
        assertEquals(1, cmd.execute("fashion-mnist", "--data", empty.toString()));
        assertTrue(err.toString().contains("dataset-fashion-mnist"), err.toString());
    }

    @Test
    void debianFilesLoadPaddedAndNormalised() throws IOException {
        assumeTrue(FashionMnist.present(FashionMnist.DEBIAN_DIR),
                "Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)");
        FashionMnist test = FashionMnist.load(FashionMnist.DEBIAN_DIR, FashionMnist.Split.TEST, Integer.MAX_VALUE);
        assertEquals(10_000, test.size());
        int[] perClass = new int[FashionMnist.CLASSES];
        for (long y : test.labels()) {
            perClass[(int) y]++;
        }
        int[] thousand = new int[FashionMnist.CLASSES];
        Arrays.fill(thousand, 1000);
        assertArrayEquals(thousand, perClass, "the test set is balanced");
        float background = -0.2860f / 0.3530f;
        float[] first = test.gather(new int[]{0});
        assertEquals(background, first[0], 1e-6, "padding is the background value");
        assertEquals(background, first[FashionMnist.IMAGE_SIZE - 1], 1e-6);
        float max = Float.NEGATIVE_INFINITY;
        for (float v : first) {
            max = Math.max(max, v);
        }
        assertTrue(max > 1.5f, "an item brighter than the background, max " + max);
    }

    @Test
    void smallEfficientNetLearns() throws IOException {
        assumeTrue(FashionMnist.present(FashionMnist.DEBIAN_DIR),
                "Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)");
        FashionMnist train = FashionMnist.load(FashionMnist.DEBIAN_DIR, FashionMnist.Split.TRAIN, 1024);
        FashionMnist test = FashionMnist.load(FashionMnist.DEBIAN_DIR, FashionMnist.Split.TEST, 1000);
        Recipe recipe = new Recipe(3, 1024, 32, 2e-3, 0.01, 0, 0.25, 0.25);
        // Eval-mode accuracy lags the training loss until the cosine schedule has slowed down and the batch-norm
        // running statistics catch up (PyTorch shows the same), hence ~100 steps rather than a handful.
        StringWriter log = new StringWriter();
        FashionMnistTrainer.Result result = FashionMnistTrainer.train(recipe, train, test, new PrintWriter(log, true));
        double first = result.trainLoss().getFirst();
        double last = result.trainLoss().getLast();
        assertTrue(last < first, "loss fell, " + first + " → " + last + "\n" + log);
        assertTrue(result.testAccuracy().getLast() > 0.3, "well above chance (0.1):\n" + log);
    }

    private static Recipe recipe(long seed) {
        return new Recipe(1, 10, 2, 1e-3, 0, seed, 0.25, 0.25);
    }
}
