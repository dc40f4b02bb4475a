package dev.vertebra.examples;

import dev.vertebra.core.Precision;
import picocli.CommandLine.ITypeConverter;

/** Reads {@code --precision fp32|tf32|bf16|fp16} (any case); picocli reports a bad value with the option's name. */
final class PrecisionConverter implements ITypeConverter<Precision> {

    /** The --help text shared by the commands that take the option. */
    static final String HELP = "fp32, tf32, bf16 or fp16 (default: ${DEFAULT-VALUE}). bf16/fp16: autocast "
            + "(convolutions and linear layers in 16 bits; float32 weights, sums, batch-norm statistics and loss); "
            + "fp16 adds dynamic loss scaling. tf32: TF32 tensor cores on a GPU; on the CPU exactly fp32.";

    @Override
    public Precision convert(String value) {
        return Precision.parse(value);
    }
}
