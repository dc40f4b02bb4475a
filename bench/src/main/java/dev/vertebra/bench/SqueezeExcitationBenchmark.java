package dev.vertebra.bench;

import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.efficientnet.SqueezeExcitation;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Squeeze-and-excitation as EfficientNet-B0's stage-2 blocks run it, batch 8, 56² × 144 channels squeezed to 6:
 * average pool, 1×1 → SiLU → 1×1 → sigmoid, and the gate times the input. Inference is a no-grad forward;
 * training a forward with autograd and its backward. The pooled path is tiny; the bytes are the activation's:
 * forward reads x and writes y (and reads x once more to pool it), backward reads dy and x and writes dx.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 8, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SqueezeExcitationBenchmark {

    private static final Shape SHAPE = Shape.of(8, 56, 56, 144);
    private static final double ACTIVATION_BYTES = SHAPE.numel() * 4.0;

    SqueezeExcitation se;
    Tensor x; // [8, 56, 56, 144]
    Tensor dy; // [8, 56, 56, 144]

    @Setup
    public void setUp() {
        Generator gen = new Generator(5);
        se = new SqueezeExcitation(144, 6, gen);
        x = Init.normal(gen, SHAPE, 0, 1, Device.CPU);
        dy = Init.normal(gen, SHAPE, 0, 1, Device.CPU);
    }

    /** y = x · gate(x) without autograd. */
    @Benchmark
    public Tensor inference(Rate rate) {
        rate.memoryBound(3 * ACTIVATION_BYTES, 0);
        try (NoGrad _ = NoGrad.enter(); MemoryScope _ = MemoryScope.open()) {
            return se.forward(x);
        }
    }

    /** The forward with autograd, then backward from dy: gradients of x and of the two 1×1 layers. */
    @Benchmark
    public Tensor training(Rate rate) {
        rate.memoryBound(6 * ACTIVATION_BYTES, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            Tensor input = x.detach().requiresGrad(true);
            se.forward(input).backward(dy, false);
            se.zeroGrad();
            return input.grad();
        }
    }
}
