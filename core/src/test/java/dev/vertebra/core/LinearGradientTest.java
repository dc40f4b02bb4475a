package dev.vertebra.core;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Functional#linear} on [N, in] inputs is one recorded op whose weight gradient is made as gᵀ·x, already in
 * the weight's [out, in] layout. Its output and all three gradients must be the bits of the separate ops
 * ({@code x.matmul(weight.transpose(0, 1)).add(bias)}), on the CPU and on the reference backend; shapes: B0's
 * classifier at batch 8, a column count that is not a multiple of the vector length, one row, more inputs than one
 * GEMM block.
 */
class LinearGradientTest {

    @ParameterizedTest(name = "[{0}, {1}] -> {2}")
    @CsvSource({"8, 1280, 8", "3, 37, 5", "1, 300, 2", "5, 17, 40"})
    void outputAndGradientsAreTheSeparateOpsBits(int n, int in, int out) {
        for (Device device : new Device[]{Device.CPU, Device.REFERENCE}) {
            Tensor[] fused = leaves(n, in, out, device);
            Tensor[] separate = leaves(n, in, out, device);
            Tensor upstream = Init.normal(new Generator(7), Shape.of(n, out), 0, 1, Device.CPU).to(device);

            assertEquals("linear", Functional.linear(fused[0], fused[1], null).gradFn(), "one recorded op");
            Tensor y = Functional.linear(fused[0], fused[1], fused[2]);
            y.mul(upstream).sum().backward();
            Tensor expected = separate[0].matmul(separate[1].transpose(0, 1)).add(separate[2]);
            expected.mul(upstream).sum().backward();

            assertArrayEquals(expected.toFloatArray(), y.toFloatArray(), 0f, device + " output");
            String[] names = {"input", "weight", "bias"};
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(separate[i].grad().toFloatArray(), fused[i].grad().toFloatArray(), 0f,
                        device + " " + names[i] + " gradient");
            }
            assertTrue(fused[1].grad().isContiguous(), "the weight's gradient is [out, in] in memory");
        }
    }

    /** x [N, in], weight [out, in], bias [out], each a leaf that requires grad. */
    private static Tensor[] leaves(int n, int in, int out, Device device) {
        Generator gen = new Generator(13L * in + out);
        return new Tensor[]{Init.normal(gen, Shape.of(n, in), 0, 1, Device.CPU).to(device).requiresGrad(true),
                Init.normal(gen, Shape.of(out, in), 0, 1 / Math.sqrt(in), Device.CPU).to(device).requiresGrad(true),
                Init.normal(gen, Shape.of(out), 0, 0.1, Device.CPU).to(device).requiresGrad(true)};
    }
}
