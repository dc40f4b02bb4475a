package dev.vertebra.core;

/**
 * Names a backend instance: {@code cpu} (the fast CPU backend, the default), {@code cpu-reference} (plain loops
 * with double accumulation: the oracle tests compare against) or {@code cuda:N}. A kind ending in
 * {@code +profile} ({@code cpu+profile}, {@code cuda+profile:0}) names the same backend behind a
 * {@link ProfilingBackend} that times each primitive.
 *
 * <pre>{@code
 * Device d = Device.parse("cuda:0");
 * Tensor x = Tensor.zeros(Shape.of(2, 3), DType.FLOAT32, Device.CPU);
 * }</pre>
 *
 * @param kind  backend kind: "cpu", "cpu-reference", "cuda"
 * @param index device ordinal for accelerators, 0 otherwise
 */
public record Device(String kind, int index) {
    public static final Device CPU = new Device("cpu", 0);
    public static final Device REFERENCE = new Device("cpu-reference", 0);
    private static final String PROFILE_SUFFIX = "+profile";

    public Device {
        if (kind == null || kind.isBlank()) {
            throw new IllegalArgumentException("device kind is empty");
        }
        if (index < 0) {
            throw new IllegalArgumentException("negative device index " + index);
        }
    }

    /** Parses "cpu", "cpu-reference", "cuda" (= cuda:0) or "cuda:N". */
    public static Device parse(String text) {
        int colon = text.indexOf(':');
        if (colon < 0) {
            return new Device(text.trim(), 0);
        }
        try {
            return new Device(text.substring(0, colon).trim(), Integer.parseInt(text.substring(colon + 1).trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad device '" + text + "': expected e.g. cpu, cpu-reference or cuda:0", e);
        }
    }

    /** True for the accelerator kinds (anything that is not a CPU backend, profiled or not). */
    public boolean isAccelerator() {
        String base = unprofiled().kind;
        return !base.equals("cpu") && !base.equals("cpu-reference");
    }

    /** This device behind a {@link ProfilingBackend}: {@code cpu} → {@code cpu+profile}. */
    public Device profiled() {
        return isProfiled() ? this : new Device(kind + PROFILE_SUFFIX, index);
    }

    /** True for a {@code +profile} alias. */
    public boolean isProfiled() {
        return kind.endsWith(PROFILE_SUFFIX);
    }

    /** The device a {@code +profile} alias times; this device itself otherwise. */
    public Device unprofiled() {
        return isProfiled() ? new Device(kind.substring(0, kind.length() - PROFILE_SUFFIX.length()), index) : this;
    }

    @Override
    public String toString() {
        return isAccelerator() ? kind + ":" + index : kind;
    }
}
