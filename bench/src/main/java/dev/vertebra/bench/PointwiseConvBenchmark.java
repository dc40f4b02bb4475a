package dev.vertebra.bench;

import dev.vertebra.core.Activation;
import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.cpu.Conv2dGemm;
import dev.vertebra.core.cpu.Conv2dShape;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * 1×1 convolutions of EfficientNet-B0's MBConv blocks at batch 8, 56×56 (stage 3 input): the expansion
 * 24 → 144 and the projection 144 → 24. Each is a GEMM [25088, Cin] × [Cin, Cout]: 2·25088·24·144 = 173 MFLOP,
 * and (25088·(24 + 144) + 24·144) · 4 = 16.9 MB moved, so at most ~10 flops per byte: bandwidth decides.
 * {@code forwardAffineSilu} is the evaluation-mode conv → BN → SiLU as one op ({@link Backend#conv2dAffine}),
 * through the backend as the model calls it (a new output tensor per call, in a {@link MemoryScope} as in a model
 * step), against {@code forwardThenSeparateOps}: the same convolution followed by the three separate passes it
 * replaces. {@code backwardData} is dx = dy · wᵀ.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class PointwiseConvBenchmark {

    @Param({"24:144", "144:24"})
    String channels;

    Conv2dShape shape;
    float[] x; // [8, 56, 56, Cin]
    float[] w; // [1, 1, Cin, Cout]
    float[] y; // [8, 56, 56, Cout]
    float[] dw; // [1, 1, Cin, Cout]
    float[] dx; // [8, 56, 56, Cin]
    Backend cpu;
    Tensor xt; // x, w as tensors; scale and shift [Cout]
    Tensor wt;
    Tensor scale;
    Tensor shift;

    @Setup
    public void setUp() {
        String[] io = channels.split(":");
        shape = Conv2dShape.symmetric(8, 56, 56, Integer.parseInt(io[0]), Integer.parseInt(io[1]), 1, 1, 0, 1, 1);
        Random random = new Random(3);
        x = new float[(int) shape.inputSize()];
        w = new float[(int) shape.weightSize()];
        y = new float[(int) shape.outputSize()];
        dw = new float[w.length];
        dx = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat() - 0.5f;
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = random.nextFloat() - 0.5f;
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = random.nextFloat() - 0.5f;
        }
        cpu = Backends.get(Device.CPU);
        Generator gen = new Generator(3);
        xt = Init.normal(gen, Shape.of(8, 56, 56, shape.inChannels()), 0, 1, Device.CPU);
        wt = Init.normal(gen, Shape.of(1, 1, shape.inChannels(), shape.outChannels()), 0, 0.2, Device.CPU);
        scale = Init.uniform(gen, Shape.of(shape.outChannels()), 0.5, 1.5, Device.CPU);
        shift = Init.normal(gen, Shape.of(shape.outChannels()), 0, 1, Device.CPU);
    }

    /** silu(conv(x, w)·scale + shift), the epilogue applied to each tile of the output while it is in cache. */
    @Benchmark
    public Tensor forwardAffineSilu(Rate rate) {
        count(rate);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.conv2dAffine(xt, null, wt, ConvSpec.of(1, 0, 1, 1), scale, shift, Activation.SILU);
        }
    }

    /** The same as the convolution then a multiply, an add and a SiLU pass, each with a new output. */
    @Benchmark
    public Tensor forwardThenSeparateOps(Rate rate) {
        count(rate);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.conv2d(xt, wt, ConvSpec.of(1, 0, 1, 1)).mul(scale).add(shift).silu();
        }
    }

    /** y = x · w. */
    @Benchmark
    public float[] forward(Rate rate) {
        Conv2dGemm.forward(shape, x, 0, w, 0, null, 0, y, 0, false);
        count(rate);
        return y;
    }

    /** dx = dy (here y) · wᵀ. */
    @Benchmark
    public float[] backwardData(Rate rate) {
        Conv2dGemm.backwardData(shape, y, 0, w, 0, dx, 0, false);
        count(rate);
        return dx;
    }

    /** dw = xᵀ · dy (here y): the long reduction over the 25088 pixels. */
    @Benchmark
    public float[] backwardWeight(Rate rate) {
        Conv2dGemm.backwardWeight(shape, x, 0, y, 0, dw, 0, false);
        count(rate);
        return dw;
    }

    /** Every kernel here reads or writes the two activations and the weight once: bandwidth decides. */
    private void count(Rate rate) {
        double pixels = shape.batch() * shape.height() * shape.width();
        rate.memoryBound((pixels * (shape.inChannels() + shape.outChannels()) + shape.weightSize()) * 4,
                2 * pixels * shape.inChannels() * shape.outChannels());
    }
}
