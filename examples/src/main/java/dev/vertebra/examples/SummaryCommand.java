package dev.vertebra.examples;

import dev.vertebra.efficientnet.EfficientNetConfig;
import dev.vertebra.efficientnet.ModelSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * {@code vertebra summary --model b3 [--classes N] [--in-channels C]}: the stage table of an EfficientNet, its
 * multiply-adds and FLOPs at the model's resolution, and (last line) its number of learnable parameters.
 */
@Command(name = "summary", mixinStandardHelpOptions = true,
        description = "Print an EfficientNet's stages, FLOPs and parameter count (last line: parameters: N).")
final class SummaryCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", required = true, description = "b0 … b7, or custom:WIDTH:DEPTH")
    private String model;

    @Option(names = "--classes", defaultValue = "1000", description = "classifier outputs (default: ${DEFAULT-VALUE})")
    private int classes;

    @Option(names = "--in-channels", defaultValue = "3", description = "input channels (default: ${DEFAULT-VALUE})")
    private int inChannels;

    @Override
    public Integer call() {
        EfficientNetConfig config;
        try {
            config = EfficientNetConfig.parse(model).withClasses(classes).withInChannels(inChannels);
        } catch (IllegalArgumentException e) {
            return Failures.report(spec, e);
        }
        spec.commandLine().getOut().println(ModelSummary.of(config).render());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
