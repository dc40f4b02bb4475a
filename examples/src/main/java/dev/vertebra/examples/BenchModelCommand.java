package dev.vertebra.examples;

import dev.vertebra.bench.model.ModelBenchmark;
import dev.vertebra.core.Precision;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code vertebra bench-model --model b0 --batch 8 --size 224 --mode train [--steps N] [--warmup W] [--device cpu]
 * [--classes 8] [--precision fp32|tf32|bf16|fp16] [--profile [--profile-steps 3]]}: EfficientNet training or
 * inference throughput on random data, the workload of the PyTorch CPU reference; prints each step's time and (last
 * line) {@code img/s: X}. See {@link ModelBenchmark}.
 */
@Command(name = "bench-model", mixinStandardHelpOptions = true,
        description = "EfficientNet throughput on random data (last line: img/s: X); --profile adds a per-op table.")
final class BenchModelCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", defaultValue = "b0",
            description = "b0 … b7, or custom:WIDTH:DEPTH (the demo's is custom:0.5:0.25) "
                    + "(default: ${DEFAULT-VALUE})")
    private String model;

    @Option(names = "--batch", defaultValue = "8", description = "images per step (default: ${DEFAULT-VALUE})")
    private int batch;

    @Option(names = "--size", defaultValue = "224", description = "image side in pixels (default: ${DEFAULT-VALUE})")
    private int size;

    @Option(names = "--mode", defaultValue = "train", description = "train or infer (default: ${DEFAULT-VALUE})")
    private String mode;

    @Option(names = "--steps", defaultValue = "10", description = "measured steps (default: ${DEFAULT-VALUE})")
    private int steps;

    @Option(names = "--warmup", defaultValue = "3", description = "warm-up steps (default: ${DEFAULT-VALUE})")
    private int warmup;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda, cuda:N … (default: ${DEFAULT-VALUE})")
    private String device;

    @Option(names = "--classes", defaultValue = "8", description = "classifier outputs (default: ${DEFAULT-VALUE})")
    private int classes;

    @Option(names = "--precision", defaultValue = "fp32", converter = PrecisionConverter.class,
            description = PrecisionConverter.HELP)
    private Precision precision;

    @Option(names = "--profile", description = "print a per-op profile of more steps (--profile-steps) "
            + "(VERTEBRA_JAVA_OPTS=-Dvertebra.profile.shapes=true splits convolutions and batch norms by shape) and, "
            + "on the CPU, how busy the threads were in the measured steps")
    private boolean profile;

    @Option(names = "--profile-steps", defaultValue = "" + ModelBenchmark.PROFILED_STEPS,
            description = "steps the profile averages (default: ${DEFAULT-VALUE}; more on a busy machine)")
    private int profileSteps;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        ModelBenchmark.Options options;
        try {
            ModelBenchmark.Mode m = switch (mode.toLowerCase(Locale.ROOT)) {
                case "train" -> ModelBenchmark.Mode.TRAIN;
                case "infer" -> ModelBenchmark.Mode.INFER;
                default -> throw new IllegalArgumentException("--mode must be train or infer, not '" + mode + "'");
            };
            if (profileSteps < 1) {
                throw new IllegalArgumentException("--profile-steps must be at least 1, not " + profileSteps);
            }
            options = new ModelBenchmark.Options(model, batch, size, m, steps, warmup, Devices.open(device), classes,
                    profile ? profileSteps : 0, precision);
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("vertebra bench-model: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return 2;
        }
        ModelBenchmark.run(options, out);
        return 0;
    }
}
