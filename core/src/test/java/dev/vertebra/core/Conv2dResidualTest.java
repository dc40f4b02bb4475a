package dev.vertebra.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * {@link Functional#conv2dBatchNormEvalResidual}: an evaluation-mode projection (gated 1×1 convolution → batch norm)
 * and its skip connection. Without a recorded gradient it is one op whose epilogue adds the residual, with the bits
 * of the convolution's output {@code .add(residual)}, on the CPU and on the reference backend; with one, the
 * separate ops and their gradients. Shapes: widths of whole vectors, of a partial one, and under one vector; gates
 * that fold into the weights (more pixels than output channels) and gates that scale x (fewer: B0's 7² layers).
 */
class Conv2dResidualTest {

    @ParameterizedTest(name = "[{0}, {1}, {1}, {2}] -> {3}")
    @CsvSource({"2, 7, 48, 32", "3, 6, 20, 21", "2, 4, 12, 5", "8, 14, 112, 80", "2, 3, 40, 24", "2, 7, 96, 52"})
    void withoutAGradientTheFusedOpGivesTheSeparateOpsBits(int n, int size, int cin, int cout) {
        for (Device device : new Device[]{Device.CPU, Device.REFERENCE}) {
            Layer l = layer(n, size, cin, cout, device);
            try (NoGrad _ = NoGrad.enter()) {
                Tensor separate = Functional.conv2dBatchNormEval(l.x, l.gate, l.bn).add(l.residual);
                Tensor fused = Functional.conv2dBatchNormEvalResidual(l.x, l.gate, l.bn, l.residual);
                assertArrayEquals(separate.toFloatArray(), fused.toFloatArray(), 0f, device.toString());
            }
        }
    }

    /** A residual that is a view from an offset into a larger tensor (the epilogue finds its elements there). */
    @Test
    void aResidualViewFromAnOffsetGivesTheSameBits() {
        Layer l = layer(2, 6, 20, 21, Device.CPU);
        Tensor larger = Init.normal(new Generator(5), Shape.of(4, 6, 6, 21), 0, 1, Device.CPU);
        Tensor residual = larger.narrow(0, 1, 2);
        try (NoGrad _ = NoGrad.enter()) {
            Tensor separate = Functional.conv2dBatchNormEval(l.x, l.gate, l.bn).add(residual);
            Tensor fused = Functional.conv2dBatchNormEvalResidual(l.x, l.gate, l.bn, residual);
            assertArrayEquals(separate.toFloatArray(), fused.toFloatArray(), 0f);
        }
    }

    @Test
    void withoutAGradientItIsOneGatedConvolutionThatAddsTheResidual() {
        ProfilingBackend profiler = Backends.profiled(Device.CPU);
        Layer l = layer(2, 7, 48, 32, profiler.device());
        profiler.reset();
        try (NoGrad _ = NoGrad.enter()) {
            Functional.conv2dBatchNormEvalResidual(l.x, l.gate, l.bn, l.residual);
        }
        assertEquals(List.of("conv2d fwd 1x1 gated + affine + residual"), profiler.times().stream()
                .map(ProfilingBackend.OpTime::op).filter(op -> !op.equals("batch norm eval affine")).toList());
        profiler.reset();
    }

    @Test
    void aResidualThatRecordsAGradientTakesTheSeparateOpsAndGetsItsGradient() {
        Layer l = layer(2, 6, 20, 21, Device.CPU);
        Tensor residual = l.residual.requiresGrad(true);
        Tensor y = Functional.conv2dBatchNormEvalResidual(l.x, l.gate, l.bn, residual);
        assertNotNull(y.gradFn(), "a graph for the residual's gradient");
        y.sum().backward();
        float[] ones = new float[residual.numel()];
        java.util.Arrays.fill(ones, 1f);
        assertArrayEquals(ones, residual.grad().toFloatArray(), 0f);
        Tensor fused;
        try (NoGrad _ = NoGrad.enter()) {
            fused = Functional.conv2dBatchNormEvalResidual(l.x, l.gate, l.bn, residual);
        }
        assertNull(fused.gradFn());
        assertArrayEquals(y.toFloatArray(), fused.toFloatArray(), 0f);
    }

    /** Without a gate (one op too), or with a residual that broadcasts (the separate ops): the separate ops' bits. */
    @Test
    void otherInputsTakeTheSeparateOps() {
        Layer l = layer(2, 6, 20, 21, Device.CPU);
        Tensor perChannel = Init.normal(new Generator(6), Shape.of(1, 1, 1, 21), 0, 1, Device.CPU);
        try (NoGrad _ = NoGrad.enter()) {
            assertArrayEquals(Functional.conv2dBatchNormEval(l.x, null, l.bn).add(l.residual).toFloatArray(),
                    Functional.conv2dBatchNormEvalResidual(l.x, null, l.bn, l.residual).toFloatArray(), 0f);
            assertArrayEquals(Functional.conv2dBatchNormEval(l.x, l.gate, l.bn).add(perChannel).toFloatArray(),
                    Functional.conv2dBatchNormEvalResidual(l.x, l.gate, l.bn, perChannel).toFloatArray(), 0f);
        }
    }

    private record Layer(Tensor x, Tensor gate, Functional.ConvBatchNorm bn, Tensor residual) {
    }

    /**
     * x [N, size, size, Cin], a per-image gate in (0, 1), a 1×1 weight, a batch norm's running statistics and
     * affine parameters, and a residual of the output's shape.
     */
    private static Layer layer(int n, int size, int cin, int cout, Device device) {
        Generator gen = new Generator(17L * cin + cout);
        Tensor x = Init.normal(gen, Shape.of(n, size, size, cin), 0, 1, Device.CPU).to(device);
        Tensor gate = Init.normal(gen, Shape.of(n, 1, 1, cin), 0, 1, Device.CPU).sigmoid().to(device);
        Tensor w = Init.normal(gen, Shape.of(1, 1, cin, cout), 0, 1 / Math.sqrt(cin), Device.CPU).to(device);
        Tensor mean = Init.normal(gen, Shape.of(cout), 0, 0.3, Device.CPU).to(device);
        Tensor var = Init.normal(gen, Shape.of(cout), 0, 0.3, Device.CPU).abs().add(0.5).to(device);
        Tensor gamma = Init.normal(gen, Shape.of(cout), 1, 0.2, Device.CPU).to(device);
        Tensor beta = Init.normal(gen, Shape.of(cout), 0, 0.2, Device.CPU).to(device);
        Tensor residual = Init.normal(gen, Shape.of(n, size, size, cout), 0, 1, Device.CPU).to(device);
        return new Layer(x, gate, new Functional.ConvBatchNorm(w, null, ConvSpec.of(1, 0, 1, 1), mean, var, gamma,
                beta, 1e-3, Activation.NONE), residual);
    }
}
