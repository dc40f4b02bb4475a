package example;

import dev.vertebra.core.Tensor;

import java.util.Arrays;

/** Fits nothing, just checks one gradient: d/dw sum((w·x − 1)²) = 2·(w·x − 1)·x. */
public final class Main {
    public static void main(String[] args) {
        Tensor x = Tensor.of(new float[]{1, 2, 3}, 3);
        Tensor w = Tensor.of(new float[]{0.5f, -1, 2}, 3).requiresGrad(true);

        Tensor loss = w.mul(x).sub(1).pow(2).sum();
        loss.backward();

        float[] grad = w.grad().toFloatArray();
        float[] expected = {-1, -12, 30};
        System.out.println("loss = " + loss.item());
        System.out.println("grad = " + Arrays.toString(grad));
        for (int i = 0; i < grad.length; i++) {
            if (Math.abs(grad[i] - expected[i]) > 1e-5f) {
                throw new AssertionError("grad " + Arrays.toString(grad) + " != " + Arrays.toString(expected));
            }
        }
    }
}
