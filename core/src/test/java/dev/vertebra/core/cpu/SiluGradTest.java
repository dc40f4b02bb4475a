package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fused SiLU backward against the reference formula, extremes included (one exp, both branches, overflow). */
class SiluGradTest {

    @Test
    void matchesTheReferenceOverTheWholeRange() {
        int n = 4099; // not a multiple of any vector length: the scalar tail runs too
        float[] x = new float[n];
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (-120 + 240.0 * i / (n - 1));
            g[i] = (float) Math.cos(i * 0.37) * 3;
        }
        x[7] = Float.NaN;
        x[8] = Float.NEGATIVE_INFINITY;
        x[9] = 0;
        x[10] = -0f;
        x[11] = Float.intBitsToFloat(0xFFC00001); // a NaN with payload bits, which the exponential's shift would move
        x[12] = Float.POSITIVE_INFINITY;
        Backend cpu = Backends.get(Device.CPU);
        float[] fast = cpu.binary(BinaryOp.SILU_GRAD, host(x), host(g)).toFloatArray();
        for (int i = 0; i < n; i++) {
            double expected = BinaryOp.SILU_GRAD.apply(x[i], g[i]);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(fast[i]), "x = " + x[i]);
            } else {
                assertEquals(expected, fast[i], 2e-6 * Math.max(1, Math.abs(expected)), "x = " + x[i] + ", g = " + g[i]);
            }
        }
    }

    @Test
    void siluBackwardUsesIt() {
        Tensor x = host(new float[]{-3, -0.5f, 0, 0.5f, 3}).requiresGrad(true);
        x.silu().sum().backward();
        float[] grad = x.grad().toFloatArray();
        for (int i = 0; i < grad.length; i++) {
            float v = x.toFloatArray()[i];
            assertEquals(BinaryOp.SILU_GRAD.apply(v, 1), grad[i], 1e-6);
        }
    }

    private static Tensor host(float[] v) {
        return Tensor.fromHost(new HostArray(DType.FLOAT32, new int[]{v.length}, v.clone()), Device.CPU);
    }
}
