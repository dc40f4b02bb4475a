package dev.vertebra.examples;

import dev.vertebra.core.Generator;
import dev.vertebra.data.rsna.PreparedStudy;
import dev.vertebra.data.rsna.RsnaDataset;
import dev.vertebra.data.rsna.StudyLoader;
import dev.vertebra.data.rsna.VolumeCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code vertebra prepare --data DIR --cache DIR}: decodes every training and test study once, resizes it and
 * writes it to a {@link VolumeCache} (int16 .npy + JSON with per-slice targets). Studies already cached are
 * skipped.
 */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = "Decode each study once into a compact volume cache (.npy + .json per study).")
final class PrepareCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "dataset in the RSNA layout")
    private Path data;

    @Option(names = "--cache", required = true, paramLabel = "DIR", description = "where to write the cache")
    private Path cache;

    @Option(names = "--size", split = ",", defaultValue = "96,128,128", paramLabel = "S,H,W",
            description = "slices, rows, columns after resizing (default: ${DEFAULT-VALUE})")
    private List<Integer> size;

    @Option(names = "--threads", defaultValue = "2", description = "decode threads (default: ${DEFAULT-VALUE})")
    private int threads;

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        int written = 0;
        for (RsnaDataset split : List.of(RsnaDataset.openTrain(data), RsnaDataset.openTest(data))) {
            List<RsnaDataset.Study> todo = split.studies().stream()
                    .filter(s -> !VolumeCache.contains(cache, s.uid())).toList();
            try (var loader = new StudyLoader<>(todo,
                    s -> RsnaDataset.load(s).resized(size.get(0), size.get(1), size.get(2)), threads, 2 * threads,
                    (Generator) null, (done, total) -> { })) {
                for (PreparedStudy p : loader) {
                    VolumeCache.write(cache, p);
                    written++;
                }
            }
        }
        spec.commandLine().getOut().printf("%s: %d studies cached in %.1f s%n", cache, written,
                (System.nanoTime() - start) / 1e9);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
