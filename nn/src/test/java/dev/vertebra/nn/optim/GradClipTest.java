package dev.vertebra.nn.optim;

import dev.vertebra.core.Tensor;
import dev.vertebra.nn.Parameter;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class GradClipTest {

    @Test
    void clipsByTheNormOfAllGradientsTogether() {
        Parameter a = new Parameter(Tensor.zeros(2));
        Parameter b = new Parameter(Tensor.zeros(1));
        Parameter none = new Parameter(Tensor.zeros(3));
        a.setGrad(Tensor.of(new float[]{3, 0}, 2));
        b.setGrad(Tensor.of(new float[]{4}, 1));
        double norm = GradClip.clipByGlobalNorm(List.of(a, b, none), 1.0);
        assertEquals(5.0, norm, 1e-6);
        double scale = 1.0 / (5.0 + 1e-6);
        assertArrayEquals(new float[]{(float) (3 * scale), 0}, a.grad().toFloatArray(), 1e-7f);
        assertArrayEquals(new float[]{(float) (4 * scale)}, b.grad().toFloatArray(), 1e-7f);
        assertEquals(1.0, GradClip.clipByGlobalNorm(List.of(a, b), 10.0), 1e-6);
        assertArrayEquals(new float[]{(float) (4 * scale)}, b.grad().toFloatArray(), 1e-7f);
    }

    @Test
    void accumulatingScaledMicroBatchesEqualsOneBigBatch() {
        Parameter w = new Parameter(Tensor.of(new float[]{0.5f, -1}, 2));
        Tensor x = Tensor.of(new float[]{1, 2, 3, 4, 5, 6, 7, 8}, 4, 2);
        x.matmul(w.data().reshape(2, 1)).pow(2).mean().backward();
        float[] full = w.grad().toFloatArray();
        w.setGrad(null);
        GradAccumulation acc = new GradAccumulation(2);
        for (int i = 0; i < 2; i++) {
            acc.scale(x.narrow(0, 2 * i, 2).matmul(w.data().reshape(2, 1)).pow(2).mean()).backward();
        }
        assertArrayEquals(full, w.grad().toFloatArray(), 1e-5f);
        assertEquals(List.of(false, true, false, true), List.of(acc.isBoundary(0), acc.isBoundary(1),
                acc.isBoundary(2), acc.isBoundary(3)));
    }
}
