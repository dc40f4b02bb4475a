package dev.vertebra.examples;

import dev.vertebra.core.Generator;
import dev.vertebra.data.rsna.PreparedStudy;
import dev.vertebra.data.rsna.RsnaDataset;
import dev.vertebra.data.rsna.StudyLoader;
import dev.vertebra.data.rsna.VolumeCache;
import dev.vertebra.examples.trainer.SpineCrop;
import dev.vertebra.examples.trainer.TrainerStudies;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code vertebra prepare --data DIR --cache DIR}: decodes every training and test study once and writes it to a
 * {@link VolumeCache} (int16 .npy + JSON with per-slice targets), on its own grid by default — what the trainer's
 * {@code --cache} reads ({@link TrainerStudies#VOLUMES}) — or resized with {@code --size}. Studies already cached
 * are skipped; a cache made with other settings is refused.
 */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = {"Decode each study once into a volume cache (int16 .npy + .json per study).",
                "The defaults make the cache that train, evaluate and predict read with --cache."})
final class PrepareCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "dataset in the RSNA layout")
    private Path data;

    @Option(names = "--cache", required = true, paramLabel = "DIR", description = "where to write the cache")
    private Path cache;

    @Option(names = "--size", defaultValue = "native", paramLabel = "native|S,H,W",
            description = "keep each study's grid, or resize to slices, rows, columns (default: ${DEFAULT-VALUE})")
    private String size;

    @Option(names = "--min-visible-voxels", defaultValue = "" + SpineCrop.MIN_VISIBLE_VOXELS, paramLabel = "N",
            description = "voxels of a vertebra's label a slice needs to show it (default: ${DEFAULT-VALUE}, the "
                    + "trainer's)")
    private int minVisibleVoxels;

    @Option(names = "--threads", defaultValue = "2", paramLabel = "N",
            description = "decode threads (default: ${DEFAULT-VALUE})")
    private int threads;

    @Override
    public Integer call() {
        try {
            long start = System.nanoTime();
            VolumeCache.Settings settings = new VolumeCache.Settings(minVisibleVoxels, grid(size));
            VolumeCache.create(cache, settings);
            int written = 0;
            for (RsnaDataset split : List.of(RsnaDataset.openTrain(data), RsnaDataset.openTest(data))) {
                List<RsnaDataset.Study> todo = split.studies().stream()
                        .filter(s -> !VolumeCache.contains(cache, s.uid())).toList();
                try (var loader = new StudyLoader<>(todo, settings::load, threads, 2 * threads, (Generator) null,
                        (_, _) -> { })) {
                    for (PreparedStudy p : loader) {
                        VolumeCache.write(cache, p);
                        written++;
                    }
                } catch (UncheckedIOException e) {
                    throw new IOException(e.getMessage(), e.getCause());
                }
            }
            spec.commandLine().getOut().printf("%s: %d studies cached (%s) in %.1f s%n", cache, written, settings,
                    (System.nanoTime() - start) / 1e9);
            spec.commandLine().getOut().flush();
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            return Failures.report(spec, e);
        }
    }

    /** "native" → empty; "S,H,W" → the three sizes. */
    private static List<Integer> grid(String size) {
        if (size.equals("native")) {
            return List.of();
        }
        List<Integer> sizes = Arrays.stream(size.split(",")).map(String::strip).map(Integer::valueOf).toList();
        if (sizes.size() != 3) {
            throw new IllegalArgumentException("--size is native or S,H,W, got " + size);
        }
        return sizes;
    }
}
