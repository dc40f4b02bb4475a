package dev.vertebra.core;

import java.util.Locale;

/**
 * The numeric precision of a training or benchmark run, as the {@code --precision} option names it.
 *
 * <ul>
 *   <li>{@link #FP32}: everything in float32.</li>
 *   <li>{@link #TF32}: float32 tensors; on a GPU, matmuls and convolutions may round their inputs to TF32 on the
 *       tensor cores (10-bit mantissa, float32 accumulation). On the CPU it is exactly {@link #FP32}.</li>
 *   <li>{@link #BF16}: {@link Autocast} in bfloat16, float32 parameters; no loss scaling (bfloat16 has float32's
 *       range).</li>
 *   <li>{@link #FP16}: {@link Autocast} in float16, float32 parameters, with dynamic loss scaling against gradient
 *       underflow (nn's {@code LossScaler}).</li>
 * </ul>
 *
 * <pre>{@code
 * Precision p = Precision.parse("bf16");
 * Backends.allowTf32(p.tf32());
 * try (Autocast _ = p.autocast()) {
 *     loss = lossOf(model.forward(x));
 * }
 * }</pre>
 */
public enum Precision {
    FP32(null, false, false),
    TF32(null, true, false),
    BF16(DType.BFLOAT16, false, false),
    FP16(DType.FLOAT16, false, true);

    private final DType autocastType;
    private final boolean tf32;
    private final boolean lossScaling;

    Precision(DType autocastType, boolean tf32, boolean lossScaling) {
        this.autocastType = autocastType;
        this.tf32 = tf32;
        this.lossScaling = lossScaling;
    }

    /** The autocast type, or null for the float32 precisions. */
    public DType autocastType() {
        return autocastType;
    }

    /** True when float32 matmuls and convolutions may use TF32 tensor cores (accelerators only). */
    public boolean tf32() {
        return tf32;
    }

    /** True when the loss must be scaled against float16 gradient underflow. */
    public boolean lossScaling() {
        return lossScaling;
    }

    /** A scope for the forward pass and loss: autocast in the low type, or autocast off for fp32 and tf32. */
    public Autocast autocast() {
        return autocastType == null ? Autocast.disable() : Autocast.enter(autocastType);
    }

    /** The lower-case name the command line uses: fp32, tf32, bf16, fp16. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses fp32, tf32, bf16 or fp16 (any case). */
    public static Precision parse(String text) {
        for (Precision p : values()) {
            if (p.cliName().equalsIgnoreCase(text.trim())) {
                return p;
            }
        }
        throw new IllegalArgumentException("precision must be fp32, tf32, bf16 or fp16, not '" + text + "'");
    }
}
