package dev.vertebra.bench;

import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.efficientnet.BlockSpec;
import dev.vertebra.efficientnet.EfficientNetConfig;
import dev.vertebra.efficientnet.MBConv;
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
 * One MBConv block of EfficientNet-B0 (stage 2's second block: 24 channels → expand to 144 → 3×3 depthwise → SE →
 * project to 24, residual) on its 56² input at batch 8 (a 224² image) or its 32² input at batch 32 (a 128² image):
 * the training forward with autograd and its backward, and the evaluation forward (expansion and depthwise
 * convolution in one pass, gate folded into the projection). Flops are the convolutions' multiply-adds ×2 (the
 * backward twice the forward's), held against the FMA peak as the model figures are.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 8, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class MBConvBenchmark {

    /** "batch x side" of the block's input: B0's 224² input at batch 8, or its 128² input at batch 32. */
    @Param({"8x56", "32x32"})
    String input;

    MBConv training;
    MBConv evaluation;
    Tensor x; // [N, H, W, 24]
    Tensor dy; // [N, H, W, 24]
    double forwardFlops;
    double activationBytes; // input, expanded, depthwise output and output activations once each

    @Setup
    public void setUp() {
        EfficientNetConfig config = EfficientNetConfig.b0();
        BlockSpec spec = config.blocks().get(1).get(1);
        Generator gen = new Generator(6);
        training = new MBConv(spec, config, gen);
        training.train();
        evaluation = new MBConv(spec, config, gen);
        evaluation.eval();
        String[] p = input.split("x");
        int batch = Integer.parseInt(p[0]);
        int side = Integer.parseInt(p[1]);
        x = Init.normal(gen, Shape.of(batch, side, side, spec.inChannels()), 0, 1, Device.CPU);
        dy = Init.normal(gen, Shape.of(batch, side, side, spec.outChannels()), 0, 1, Device.CPU);
        double pixels = (double) batch * side * side;
        int e = spec.expandedChannels();
        double macs = pixels * (spec.inChannels() * e + spec.kernel() * spec.kernel() * e + e * spec.outChannels())
                + 2.0 * batch * e * spec.squeezeChannels();
        forwardFlops = 2 * macs;
        activationBytes = pixels * (spec.inChannels() + 2 * e + spec.outChannels()) * 4;
    }

    /** Forward with autograd and backward from dy; the parameter gradients are dropped after. */
    @Benchmark
    public Tensor trainingStep(Rate rate) {
        rate.computeBound(3 * activationBytes, 3 * forwardFlops);
        try (MemoryScope _ = MemoryScope.open()) {
            Tensor input = x.detach().requiresGrad(true);
            training.forward(input).backward(dy, false);
            training.zeroGrad();
            return input.grad();
        }
    }

    /** The evaluation-mode forward without autograd. */
    @Benchmark
    public Tensor inference(Rate rate) {
        rate.computeBound(activationBytes, forwardFlops);
        try (NoGrad _ = NoGrad.enter(); MemoryScope _ = MemoryScope.open()) {
            return evaluation.forward(x);
        }
    }
}
