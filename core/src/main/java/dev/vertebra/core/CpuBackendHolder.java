package dev.vertebra.core;

import dev.vertebra.core.reference.ReferenceBackend;

/** Lazily creates the one CPU backend instance. */
final class CpuBackendHolder {
    static final Backend INSTANCE = new ReferenceBackend(Device.CPU);

    private CpuBackendHolder() {
    }

    static String describe() {
        return Runtime.getRuntime().availableProcessors() + " threads";
    }
}
