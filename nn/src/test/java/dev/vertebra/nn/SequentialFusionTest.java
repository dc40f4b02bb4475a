package dev.vertebra.nn;

import dev.vertebra.core.Backends;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.ProfilingBackend;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Sequential} runs conv → batch norm (→ activation) in evaluation mode as one fused op: the same values as
 * the layers one by one, the fused kernel really used, and autograd and training untouched.
 */
class SequentialFusionTest {

    private static final double TOLERANCE = 1e-5;

    /** conv (3×3 or depthwise) → BN with non-trivial running statistics and affine parameters → activation. */
    private static Sequential block(Generator gen, int groups, boolean convBias, Module activation) {
        Conv2d conv = new Conv2d(8, 8, 3, 1, Padding.of(1), 1, groups, convBias, gen);
        BatchNorm2d bn = new BatchNorm2d(8, 1e-3, 0.01);
        try (NoGrad _ = NoGrad.enter()) {
            if (convBias) {
                conv.bias().data().assign(Init.normal(gen, Shape.of(8), 0, 1, Device.CPU));
            }
            bn.runningMean().data().assign(Init.normal(gen, Shape.of(8), 0, 1, Device.CPU));
            bn.runningVar().data().assign(Init.uniform(gen, Shape.of(8), 0.5, 2, Device.CPU));
            bn.weight().data().assign(Init.normal(gen, Shape.of(8), 1, 0.5, Device.CPU));
            bn.bias().data().assign(Init.normal(gen, Shape.of(8), 0, 0.5, Device.CPU));
        }
        Sequential s = new Sequential(conv, bn);
        if (activation != null) {
            s.add(activation);
        }
        return s;
    }

    /** The layers applied one at a time, never fused. */
    private static Tensor oneByOne(Sequential s, Tensor x) {
        Tensor y = x;
        for (int i = 0; i < s.size(); i++) {
            y = s.get(i).forward(y);
        }
        return y;
    }

    private static void assertClose(Tensor expected, Tensor actual, String what) {
        assertEquals(expected.shape(), actual.shape(), what + " shape");
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], TOLERANCE * (1 + Math.abs(e[i])), what + " element " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"silu", "relu", "none"})
    void evaluationWithoutGradientMatchesTheLayersOneByOne(String activationName) {
        Module activation = switch (activationName) {
            case "silu" -> new SiLU();
            case "relu" -> new ReLU();
            default -> null;
        };
        for (int groups : new int[]{1, 8}) {
            for (boolean convBias : new boolean[]{false, true}) {
                Generator gen = new Generator(11 + groups);
                Sequential s = block(gen, groups, convBias, activation);
                s.eval();
                Tensor x = Init.normal(gen, Shape.of(2, 9, 7, 8), 0, 1, Device.CPU);
                try (NoGrad _ = NoGrad.enter()) {
                    assertClose(oneByOne(s, x), s.forward(x),
                            activationName + " groups " + groups + " bias " + convBias);
                }
            }
        }
    }

    @Test
    void theFusedKernelRunsInEvaluationAndNotInTraining() {
        ProfilingBackend profiler = Backends.profiled(Device.CPU);
        Device alias = profiler.device();
        Sequential s = block(new Generator(5), 1, false, new SiLU());
        s.to(alias);
        Tensor x = Init.normal(new Generator(6), Shape.of(2, 6, 6, 8), 0, 1, Device.CPU).to(alias);

        s.eval();
        profiler.reset();
        try (NoGrad _ = NoGrad.enter()) {
            s.forward(x);
        }
        List<String> ops = profiler.times().stream().map(ProfilingBackend.OpTime::op).toList();
        assertTrue(ops.contains("conv2d fwd dense + affine + silu"), "fused op expected, got " + ops);
        assertTrue(ops.stream().noneMatch(op -> op.startsWith("unary silu")), "no separate SiLU: " + ops);

        s.train();
        profiler.reset();
        s.forward(x);
        List<String> training = profiler.times().stream().map(ProfilingBackend.OpTime::op).toList();
        assertTrue(training.stream().noneMatch(op -> op.contains("affine")), "training is not fused: " + training);
    }

    @Test
    void evaluationWithGradientsRecordsTheSeparateOps() {
        // As for Grad-CAM: an evaluation-mode model whose parameters want gradients, the input a plain tensor.
        Generator gen = new Generator(21);
        Sequential s = block(gen, 1, true, new SiLU());
        s.eval();
        Tensor x = Init.normal(gen, Shape.of(2, 5, 5, 8), 0, 1, Device.CPU);
        Conv2d conv = (Conv2d) s.get(0);

        Tensor y = s.forward(x);
        assertTrue(y.requiresGrad(), "eval output keeps its graph when gradients are on");
        y.sum().backward();
        Tensor viaSequential = conv.weight().grad();
        assertNotNull(viaSequential);

        s.zeroGrad();
        oneByOne(s, x).sum().backward();
        assertClose(conv.weight().grad(), viaSequential, "weight gradient");
        assertEquals(DType.FLOAT32, viaSequential.dtype());
    }
}
