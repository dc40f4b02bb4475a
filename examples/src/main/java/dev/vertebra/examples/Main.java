package dev.vertebra.examples;

import dev.vertebra.examples.fmnist.FashionMnistCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./vertebra} command line. */
@Command(name = "vertebra", mixinStandardHelpOptions = true, version = "Vertebra 0.1.0",
        description = "Deep learning for medical imaging on the JVM.",
        subcommands = {InfoCommand.class, SummaryCommand.class, LogitsCommand.class, DicomInfoCommand.class,
                Dicom2NpyCommand.class, SynthCommand.class, PrepareCommand.class, ScoreCommand.class, TrainCommand.class,
                EvaluateCommand.class, PredictCommand.class, DemoCommand.class, BenchModelCommand.class,
                FashionMnistCommand.class})
public final class Main implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        ZgcHeapTarget.install();
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
