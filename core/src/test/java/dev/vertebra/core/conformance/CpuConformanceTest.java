package dev.vertebra.core.conformance;

import dev.vertebra.core.Device;

/** The conformance suite on the default CPU backend. */
class CpuConformanceTest extends BackendConformance {

    @Override
    protected Device device() {
        return Device.CPU;
    }
}
