package dev.vertebra.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AutogradSmokeTest {

    @Test
    void squareSumGradientIsTwiceTheInput() {
        Tensor w = Tensor.of(new float[]{1, 2, 3}, 3).requiresGrad(true);
        w.mul(w).sum().backward();
        assertArrayEquals(new float[]{2, 4, 6}, w.grad().toFloatArray(), 1e-6f);
    }

    @Test
    void secondBackwardThroughFreedGraphFails() {
        Tensor w = Tensor.of(new float[]{1, 2}, 2).requiresGrad(true);
        Tensor loss = w.exp().sum();
        loss.backward();
        IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("retainGraph"), e.getMessage());
    }

    @Test
    void broadcastGradientSumsBack() {
        Tensor a = Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad(true);
        Tensor b = Tensor.of(new float[]{10, 20, 30}, 3).requiresGrad(true);
        a.mul(b).sum().backward();
        assertArrayEquals(new float[]{5, 7, 9}, b.grad().toFloatArray(), 1e-6f);
        assertArrayEquals(new float[]{10, 20, 30, 10, 20, 30}, a.grad().toFloatArray(), 1e-6f);
    }
}
