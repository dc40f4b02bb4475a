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

    @Test
    void unsqueezeOfATransposedTensorIsAView() {
        Tensor x = Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor view = x.transpose(0, 1).unsqueeze(0);
        view.assign(Tensor.zeros(1, 3, 2));
        assertArrayEquals(new float[6], x.toFloatArray(), "assign through the view reached the storage");
    }

    @Test
    void emptyMatmulGivesZerosOfTheRightShape() {
        Tensor y = Tensor.zeros(2, 0).matmul(Tensor.zeros(0, 3));
        org.junit.jupiter.api.Assertions.assertEquals(Shape.of(2, 3), y.shape());
        assertArrayEquals(new float[6], y.toFloatArray());
        org.junit.jupiter.api.Assertions.assertEquals(Shape.of(0, 3), Tensor.zeros(0, 4).matmul(Tensor.zeros(4, 3)).shape());
    }

    @Test
    void reluKeepsNaNAndPowZeroHasZeroGradient() {
        Tensor x = Tensor.of(new float[]{Float.NaN, -1, 2}, 3);
        float[] y = x.relu().toFloatArray();
        org.junit.jupiter.api.Assertions.assertTrue(Float.isNaN(y[0]));
        Tensor z = Tensor.of(new float[]{0, 3}, 2).requiresGrad(true);
        z.pow(0).sum().backward();
        assertArrayEquals(new float[]{0, 0}, z.grad().toFloatArray());
    }

    @Test
    void comparisonsBetweenTensorsGiveMasks() {
        Tensor a = Tensor.of(new float[]{1, 2, 3}, 3);
        Tensor b = Tensor.of(new float[]{2, 2, 2}, 3);
        assertArrayEquals(new float[]{1, 0, 0}, a.lt(b).toFloatArray());
        assertArrayEquals(new float[]{0, 1, 1}, a.ge(b).toFloatArray());
        assertArrayEquals(new float[]{1, 1, 0}, a.le(b).toFloatArray());
        org.junit.jupiter.api.Assertions.assertEquals(1.0, a.min().item());
    }
}
