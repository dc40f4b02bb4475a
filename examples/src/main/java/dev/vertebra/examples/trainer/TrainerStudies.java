package dev.vertebra.examples.trainer;

import dev.vertebra.data.rsna.RsnaDataset;
import dev.vertebra.data.rsna.StudyLoader;
import dev.vertebra.data.rsna.VolumeCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The studies of an RSNA-layout dataset as the trainer uses them: read through {@link RsnaDataset} (the training
 * split without {@link RsnaDataset#KNOWN_BAD}) and {@link StudyLoader}, each cropped by {@link SpineCrop}, in the
 * dataset's order. With a {@link VolumeCache} (from {@code vertebra prepare}), the studies it holds are read from it
 * and the rest decoded from DICOM; the cache must have been made with {@link #VOLUMES}, so that both ways give the
 * same crops.
 *
 * <pre>{@code
 * List<StudySlices> train = TrainerStudies.train(Path.of("rsna"), Path.of("rsna-cache"), 64, 0.8, 2);
 * }</pre>
 */
public final class TrainerStudies {
    private static final Logger LOG = LoggerFactory.getLogger(TrainerStudies.class);
    /** How the trainer decodes a study: targets at {@link SpineCrop#MIN_VISIBLE_VOXELS}, on the study's own grid. */
    public static final VolumeCache.Settings VOLUMES =
            new VolumeCache.Settings(SpineCrop.MIN_VISIBLE_VOXELS, List.of());

    private TrainerStudies() {
    }

    /** The training split, known-bad studies dropped, in train.csv's order, every study decoded from DICOM. */
    public static List<StudySlices> train(Path root, int size, double pixelMm, int threads) throws IOException {
        return train(root, null, size, pixelMm, threads);
    }

    /** The training split, read from {@code cache} where it holds a study; {@code cache} null: none. */
    public static List<StudySlices> train(Path root, Path cache, int size, double pixelMm, int threads)
            throws IOException {
        return load(RsnaDataset.openTrain(dataset(root, "train.csv")), cache, size, pixelMm, threads);
    }

    /** The test split: the studies test.csv names, in its order, every study decoded from DICOM. */
    public static List<StudySlices> test(Path root, int size, double pixelMm, int threads) throws IOException {
        return test(root, null, size, pixelMm, threads);
    }

    /** The test split, read from {@code cache} where it holds a study; {@code cache} null: none. */
    public static List<StudySlices> test(Path root, Path cache, int size, double pixelMm, int threads)
            throws IOException {
        return load(RsnaDataset.openTest(dataset(root, "test.csv")), cache, size, pixelMm, threads);
    }

    /** {@code root}, once it is known to hold {@code csv}: a wrong folder is named as such, not as a missing file. */
    private static Path dataset(Path root, String csv) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new IOException("dataset folder " + root + " does not exist");
        }
        if (!Files.isRegularFile(root.resolve(csv))) {
            throw new IOException(root + " is not a dataset in the RSNA 2022 layout: it has no " + csv);
        }
        return root;
    }

    /** The dataset's studies that {@code cache} holds, once its settings are known to be {@link #VOLUMES}. */
    private static Set<String> cached(RsnaDataset dataset, Path cache) throws IOException {
        VolumeCache.Settings found = VolumeCache.settings(cache).orElseThrow(() -> new IOException(cache
                + " is not a volume cache (it has no " + VolumeCache.SETTINGS + "); write one with vertebra prepare"));
        if (!found.equals(VOLUMES)) {
            throw new IOException("the volume cache " + cache + " holds studies with " + found + ", the trainer "
                    + "needs " + VOLUMES + ": prepare another one with --size native --min-visible-voxels "
                    + VOLUMES.minVisibleVoxels());
        }
        return dataset.studies().stream().map(RsnaDataset.Study::uid).filter(uid -> VolumeCache.contains(cache, uid))
                .collect(Collectors.toSet());
    }

    private static List<StudySlices> load(RsnaDataset dataset, Path cache, int size, double pixelMm, int threads)
            throws IOException {
        if (dataset.studies().isEmpty()) {
            throw new IOException("no studies in " + dataset.root());
        }
        Set<String> cached = cache == null ? Set.of() : cached(dataset, cache);
        LOG.info("{} studies of {}: {} from the volume cache{}, {} decoded from DICOM", dataset.studies().size(),
                dataset.root(), cached.size(), cache == null ? "" : " " + cache,
                dataset.studies().size() - cached.size());
        int n = Math.max(1, threads);
        List<StudySlices> out = new ArrayList<>();
        StudyLoader.Load<StudySlices> crop = s -> SpineCrop.of(s, cached.contains(s.uid())
                ? VolumeCache.read(cache, s.uid()) : VOLUMES.load(s), size, pixelMm);
        try (var loader = new StudyLoader<>(dataset.studies(), crop, n, 2 * n, null, (_, _) -> { })) {
            for (StudySlices st : loader) {
                out.add(st);
            }
        } catch (UncheckedIOException e) {
            throw new IOException(e.getMessage(), e.getCause()); // the message names the study
        }
        return out;
    }
}
