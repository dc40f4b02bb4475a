package dev.vertebra.core;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link Functional#conv2dActivation}: without a recorded gradient one op (the bias and the activation in the
 * convolution's epilogue), the separate ops' bits on the CPU and on the reference backend; with one, the separate
 * ops and their gradients. Shapes: a squeeze-and-excitation's 1×1 convolutions on one pixel (widths under one
 * vector, with a partial vector, deeper than one GEMM block) and a padded 3×3 convolution.
 */
class Conv2dActivationTest {

    @ParameterizedTest(name = "{0}: [{1}, {2}, {2}, {3}] k{4} -> {5}")
    @CsvSource({"SILU, 8, 1, 96, 1, 4", "SIGMOID, 8, 1, 4, 1, 96", "NONE, 8, 1, 4, 1, 96", "SILU, 8, 1, 1152, 1, 48",
            "SIGMOID, 3, 1, 20, 1, 37", "NONE, 3, 1, 20, 1, 37", "RELU, 2, 9, 5, 3, 7", "SILU, 2, 9, 5, 3, 7",
            "SIGMOID, 2, 9, 5, 3, 7"})
    void withoutAGradientTheFusedOpGivesTheSeparateOpsBits(Activation activation, int n, int size, int cin,
                                                         int k, int cout) {
        for (Device device : new Device[]{Device.CPU, Device.REFERENCE}) {
            Tensor[] t = inputs(n, size, cin, k, cout, device);
            ConvSpec spec = ConvSpec.of(1, k / 2, 1, 1);
            try (NoGrad _ = NoGrad.enter()) {
                Tensor fused = Functional.conv2dActivation(t[0], t[1], t[2], spec, activation);
                assertArrayEquals(separateOps(t[0], t[1], t[2], spec, activation).toFloatArray(),
                        fused.toFloatArray(), 0f, device + " " + activation);
                Tensor unbiased = Functional.conv2dActivation(t[0], t[1], null, spec, activation);
                assertArrayEquals(separateOps(t[0], t[1], null, spec, activation).toFloatArray(),
                        unbiased.toFloatArray(), 0f, device + " " + activation + " without a bias");
            }
        }
    }

    @Test
    void aRecordedGradientTakesTheSeparateOpsAndTheirBackward() {
        Tensor[] t = inputs(4, 1, 48, 1, 12, Device.CPU);
        Tensor w = t[1].requiresGrad(true);
        ConvSpec spec = ConvSpec.of(1, 0, 1, 1);
        Tensor y = Functional.conv2dActivation(t[0], w, t[2], spec, Activation.SILU);
        assertEquals("silu", y.gradFn());
        y.sum().backward();
        assertNotNull(w.grad(), "the weight's gradient");
        Tensor fused;
        try (NoGrad _ = NoGrad.enter()) {
            fused = Functional.conv2dActivation(t[0], w, t[2], spec, Activation.SILU);
        }
        assertNull(fused.gradFn(), "no graph without a recorded gradient");
        assertArrayEquals(y.toFloatArray(), fused.toFloatArray(), 0f);
    }

    @Test
    void withoutAGradientItIsOneConvolutionWithAnAffineEpilogue() {
        ProfilingBackend profiler = Backends.profiled(Device.CPU);
        Device alias = profiler.device();
        Tensor[] t = inputs(8, 1, 96, 1, 4, alias);
        profiler.reset();
        try (NoGrad _ = NoGrad.enter()) {
            Functional.conv2dActivation(t[0], t[1], t[2], ConvSpec.of(1, 0, 1, 1), Activation.SILU);
        }
        assertEquals(List.of("conv2d fwd 1x1 + affine + silu"), profiler.times().stream()
                .map(ProfilingBackend.OpTime::op).filter(op -> !op.equals("fill")).toList(), "ops besides the scale's"
                + " and shift's fills");
        profiler.reset();
    }

    @Test
    void aBiasThatDoesNotMatchTheOutputChannelsIsRefused() {
        Tensor[] t = inputs(2, 1, 8, 1, 6, Device.CPU);
        Tensor bias = Tensor.zeros(Shape.of(5), DType.FLOAT32, Device.CPU);
        try (NoGrad _ = NoGrad.enter()) {
            assertThrows(IllegalArgumentException.class, () -> Functional.conv2dActivation(t[0], t[1], bias,
                    ConvSpec.of(1, 0, 1, 1), Activation.NONE));
        }
    }

    private static Tensor separateOps(Tensor x, Tensor w, Tensor bias, ConvSpec spec, Activation activation) {
        Tensor y = Functional.conv2d(x, w, bias, spec);
        return switch (activation) {
            case NONE -> y;
            case RELU -> y.relu();
            case SILU -> y.silu();
            case SIGMOID -> y.sigmoid();
        };
    }

    /** x [N, size, size, Cin], w [k, k, Cin, Cout], bias [Cout]. */
    private static Tensor[] inputs(int n, int size, int cin, int k, int cout, Device device) {
        Generator gen = new Generator(31L * cin + cout);
        return new Tensor[]{Init.normal(gen, Shape.of(n, size, size, cin), 0, 1, Device.CPU).to(device),
                Init.normal(gen, Shape.of(k, k, cin, cout), 0, 1 / Math.sqrt(k * k * cin), Device.CPU).to(device),
                Init.normal(gen, Shape.of(cout), 0, 0.5, Device.CPU).to(device)};
    }
}
