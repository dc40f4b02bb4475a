package dev.vertebra.cuda;

import dev.vertebra.core.Backend;
import dev.vertebra.core.BackendProvider;
import dev.vertebra.core.Backends;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import org.junit.jupiter.api.Assumptions;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared setup of the GPU tests: skips (reported, with the reason) when CUDA is unavailable. */
final class GpuFixture {
    static final Device CUDA = new Device("cuda", 0);

    private GpuFixture() {
    }

    static CudaBackend requireGpu() {
        BackendProvider.Availability a = new CudaBackendProvider().availability();
        Assumptions.assumeTrue(a.available(), "no usable GPU, CUDA tests skipped: " + a.reason());
        return (CudaBackend) Backends.get(CUDA);
    }

    static Backend reference() {
        return Backends.get(Device.REFERENCE);
    }

    /** The same random float32 data on the GPU and on the reference backend. */
    record Pair(Tensor gpu, Tensor ref) {
        static Pair random(Random rnd, double lo, double hi, int... shape) {
            float[] v = new float[Shape.of(shape).numel()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
            }
            return of(new HostArray(DType.FLOAT32, shape, v));
        }

        static Pair of(HostArray host) {
            return new Pair(Tensor.fromHost(host, CUDA), Tensor.fromHost(host, Device.REFERENCE));
        }

        Pair map(java.util.function.UnaryOperator<Tensor> view) {
            return new Pair(view.apply(gpu), view.apply(ref));
        }
    }

    /** Same shape, and every element within {@code atol + rtol·|expected|}; NaN only where the reference has NaN. */
    static void assertClose(Tensor expected, Tensor actual, double atol, double rtol, String what) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        assertEquals(expected.dtype(), actual.dtype(), what + ": dtype");
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            boolean ok = Double.isNaN(e[i]) ? Double.isNaN(a[i])
                    : e[i] == a[i] || Math.abs(e[i] - a[i]) <= atol + rtol * Math.abs(e[i]);
            if (!ok) {
                fail(what + ": element " + i + " of " + expected.shape() + " is " + a[i] + ", reference " + e[i]);
            }
        }
    }

    static void assertClose(Tensor expected, Tensor actual, String what) {
        assertClose(expected, actual, 1e-5, 1e-4, what);
    }
}
