package dev.vertebra.cuda;

import dev.vertebra.core.Device;
import dev.vertebra.core.conformance.BackendConformance;
import org.junit.jupiter.api.BeforeEach;

/**
 * Core's conformance suite (every op, forward and backward, against the reference backend) on {@code cuda:0}.
 * Skipped, with the reason, where no GPU is usable.
 */
class CudaConformanceTest extends BackendConformance {

    @BeforeEach
    void requireGpu() {
        GpuFixture.requireGpu();
    }

    @Override
    protected Device device() {
        return GpuFixture.CUDA;
    }
}
