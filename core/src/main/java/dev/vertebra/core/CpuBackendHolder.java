package dev.vertebra.core;

import dev.vertebra.core.cpu.CpuBackend;

/** Lazily creates the one CPU backend instance. */
final class CpuBackendHolder {
    static final Backend INSTANCE = new CpuBackend(Device.CPU);

    private CpuBackendHolder() {
    }

    static String describe() {
        return Runtime.getRuntime().availableProcessors() + " threads";
    }
}
