package dev.vertebra.examples.trainer;

import dev.vertebra.data.rsna.RsnaDataset;
import dev.vertebra.data.rsna.StudyLoader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The studies of an RSNA-layout dataset as the trainer uses them: read through {@link RsnaDataset} (the training
 * split without {@link RsnaDataset#KNOWN_BAD}) and {@link StudyLoader}, each cropped by {@link SpineCrop}, in the
 * dataset's order.
 */
public final class TrainerStudies {

    private TrainerStudies() {
    }

    /** The training split, known-bad studies dropped, in train.csv's order. */
    public static List<StudySlices> train(Path root, int size, double pixelMm, int threads) throws IOException {
        return load(RsnaDataset.openTrain(root), size, pixelMm, threads);
    }

    /** The test split: the studies test.csv names, in its order. */
    public static List<StudySlices> test(Path root, int size, double pixelMm, int threads) throws IOException {
        return load(RsnaDataset.openTest(root), size, pixelMm, threads);
    }

    private static List<StudySlices> load(RsnaDataset dataset, int size, double pixelMm, int threads)
            throws IOException {
        if (dataset.studies().isEmpty()) {
            throw new IOException("no studies in " + dataset.root());
        }
        int n = Math.max(1, threads);
        List<StudySlices> out = new ArrayList<>();
        StudyLoader.Load<StudySlices> crop =
                s -> SpineCrop.of(s, RsnaDataset.load(s, SpineCrop.MIN_VISIBLE_VOXELS), size, pixelMm);
        try (var loader = new StudyLoader<>(dataset.studies(), crop, n, 2 * n, null, (_, _) -> { })) {
            for (StudySlices st : loader) {
                out.add(st);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return out;
    }
}
