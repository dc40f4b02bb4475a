package dev.vertebra.nn;

import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.nn.optim.Adam;
import dev.vertebra.nn.optim.GradClip;
import dev.vertebra.nn.optim.Optimizer;
import dev.vertebra.nn.optim.ParamGroup;
import dev.vertebra.nn.optim.Sgd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training steps inside {@link MemoryScope}s give the same bits as without: the pooled, uncleared arrays, the
 * gradients autograd hands back during backward and the scope's end change no result; what must outlive a step
 * (parameters, batch-norm statistics, optimiser state, the EMA) does.
 */
class ScopedTrainingTest {

    @AfterEach
    void emptyThePool() {
        MemoryScope.releaseCached();
    }

    private static Sequential net() {
        Generator gen = new Generator(5);
        return new Sequential(
                new Conv2d(3, 16, 3, 1, Padding.same(), 1, 1, false, gen),
                new BatchNorm2d(16),
                new SiLU(),
                new Conv2d(16, 16, 3, 2, Padding.same(), 1, 16, false, gen),
                new BatchNorm2d(16),
                new SiLU(),
                new Conv2d(16, 32, 3, 1, Padding.same(), 1, 1, false, gen), // 4608 weights: pooled sizes
                new BatchNorm2d(32),
                new AdaptiveAvgPool2d(),
                new Flatten(),
                new Linear(32, 4, true, gen));
    }

    private record Run(Map<String, float[]> state, List<Double> losses, float[] evalOutput) {
    }

    private static Run train(boolean scoped, Function<Sequential, Optimizer> optimizer) {
        Sequential net = net();
        Optimizer opt = optimizer.apply(net);
        ModelEma ema = new ModelEma(net, 0.9, false);
        Generator gen = new Generator(9);
        Tensor x = Init.normal(gen, Shape.of(4, 24, 24, 3), 0, 1, Device.CPU);
        Tensor y = Tensor.ofLongs(new long[]{0, 1, 2, 3}, 4);
        List<Double> losses = new ArrayList<>();
        for (int step = 0; step < 3; step++) {
            MemoryScope scope = scoped ? MemoryScope.open() : null;
            opt.zeroGrad();
            Tensor loss = Losses.crossEntropy(net.forward(x), y, 0, Reduction.MEAN);
            loss.backward();
            GradClip.clipByGlobalNorm(net.parameters(), 1.0);
            opt.step();
            ema.update(net);
            losses.add(loss.item());
            if (scope != null) {
                scope.close();
                assertTrue(MemoryScope.cachedBytes() > 0, "the step's arrays are kept for the next one");
            }
        }
        net.eval();
        float[] evalOutput;
        try (NoGrad _ = NoGrad.enter(); MemoryScope _ = MemoryScope.open()) {
            evalOutput = net.forward(x).toFloatArray();
        }
        ema.copyTo(net);
        Map<String, float[]> state = new java.util.TreeMap<>();
        net.stateDict().forEach((k, v) -> state.put(k, v.to(DType.FLOAT32).toFloatArray()));
        opt.stateDict().forEach((k, v) -> state.put("opt." + k, v.to(DType.FLOAT32).toFloatArray()));
        return new Run(state, losses, evalOutput);
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd", "adam"})
    void stepsInScopesMatchStepsWithoutBitForBit(String name) {
        Function<Sequential, Optimizer> optimizer = name.equals("sgd")
                ? n -> new Sgd(List.of(ParamGroup.of(n.parameters(), 0.1, 1e-4)), 0.9, 0, true)
                : n -> new Adam(List.of(ParamGroup.of(n.parameters(), 0.01, 0)), 0.9, 0.999, 1e-8);
        Run plain = train(false, optimizer);
        Run scoped = train(true, optimizer);
        assertEquals(plain.losses(), scoped.losses());
        assertArrayEquals(plain.evalOutput(), scoped.evalOutput());
        assertEquals(plain.state().keySet(), scoped.state().keySet());
        plain.state().forEach((k, v) -> assertArrayEquals(v, scoped.state().get(k), k));
    }
}
