package dev.vertebra.examples;

import dev.vertebra.data.synth.SyntheticDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code vertebra synth --out DIR --studies N [--test-studies M] --seed S}: writes a synthetic cervical-spine
 * CT dataset in the RSNA 2022 layout (see {@link SyntheticDataset}).
 */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a synthetic cervical-spine CT dataset in the RSNA 2022 layout.")
final class SynthCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "where to write the dataset")
    private Path out;

    @Option(names = "--studies", required = true, paramLabel = "N", description = "training studies")
    private int studies;

    @Option(names = "--test-studies", paramLabel = "M", defaultValue = "0",
            description = "test studies (default: ${DEFAULT-VALUE})")
    private int testStudies;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
    private long seed;

    @Override
    public Integer call() {
        long start = System.nanoTime();
        List<SyntheticDataset.Study> written;
        try {
            written = SyntheticDataset.write(out, SyntheticDataset.Config.demo(studies, testStudies, seed));
        } catch (IOException | IllegalArgumentException e) {
            return Failures.report(spec, e);
        }
        long fractured = written.stream().filter(SyntheticDataset.Study::patientOverall).count();
        spec.commandLine().getOut().printf("%s: %d studies (%d fractured) in %.1f s%n", out, written.size(),
                fractured, (System.nanoTime() - start) / 1e9);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
