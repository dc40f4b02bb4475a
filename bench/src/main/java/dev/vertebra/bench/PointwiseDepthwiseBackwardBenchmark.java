package dev.vertebra.bench;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * An inverted bottleneck's first half in training, backward, at B0's shapes: from the depthwise layer's output
 * gradient, the gradients of the depthwise weight, of the expansion's batch norm and of the 1×1 expansion's input
 * and weight, as one op ({@link Backend#pointwiseBatchNormSiluDepthwiseGrads}: the batch norm's input gradient
 * made a block of rows at a time for both products) against the three calls it replaces (the depthwise and batch
 * norm backward, then the expansion's two products reading that gradient back). Each call in a {@link MemoryScope}
 * after the caches are swept. The traffic counted is the fused op's compulsory one: the output gradient, the batch
 * norm's input, the expansion's input and its gradient once, and the weights.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class PointwiseDepthwiseBackwardBenchmark {
    private static final double EPS = 1e-3;
    private static final ConvSpec POINTWISE = ConvSpec.of(1, 0, 1, 1);

    /** As {@link PointwiseDepthwiseBenchmark#layer}: B0's expansions that the fused backward takes. */
    @Param({"112x16x96k3s2", "56x24x144k3s1", "56x24x144k5s2", "28x40x240k5s1", "64x16x96k3s2/32"})
    String layer;

    Backend cpu;
    Tensor input;     // [N, H, W, Cin]
    Tensor pointwise; // [1, 1, Cin, C]
    Tensor x;         // the batch norm's input: [N, H, W, C]
    Tensor weight;
    Tensor bias;
    Backend.BatchNormResult statistics;
    Tensor dwWeight;  // [K, K, 1, C]
    ConvSpec spec;
    Tensor dy;        // [N, OH, OW, C]
    double bytes;
    double flops;
    float sink;

    @Setup
    public void setUp() {
        PointwiseDepthwiseBenchmark.Expansion e = PointwiseDepthwiseBenchmark.Expansion.parse(layer);
        Generator gen = new Generator(5);
        cpu = Backends.get(Device.CPU);
        input = Init.normal(gen, Shape.of(e.batch(), e.side(), e.side(), e.in()), 0, 1, Device.CPU);
        pointwise = Init.normal(gen, Shape.of(1, 1, e.in(), e.c()), 0, 0.2, Device.CPU);
        x = cpu.conv2d(input, pointwise, POINTWISE);
        weight = Init.uniform(gen, Shape.of(e.c()), 0.5, 1.5, Device.CPU);
        bias = Init.normal(gen, Shape.of(e.c()), 0, 0.5, Device.CPU);
        statistics = cpu.batchNormSilu(x, weight, bias, EPS);
        dwWeight = Init.normal(gen, Shape.of(e.k(), e.k(), 1, e.c()), 0, 0.3, Device.CPU);
        spec = ConvSpec.of(e.stride(), (e.k() - 1) / 2, 1, e.c());
        int outSide = spec.outHeight(e.side(), e.k());
        dy = Init.normal(gen, Shape.of(e.batch(), outSide, outSide, e.c()), 0, 1, Device.CPU);
        double pixels = (double) e.batch() * e.side() * e.side();
        double outPixels = (double) e.batch() * outSide * outSide;
        double taps = (double) e.k() * e.k() * e.c();
        bytes = 4 * (outPixels * e.c() + pixels * e.c() + 2 * pixels * e.in() + (double) e.in() * e.c() + taps);
        // The depthwise input and weight gradients, the expansion's input and weight gradients.
        flops = 2 * 2 * (outPixels * taps + pixels * e.in() * e.c());
    }

    /** Before each call: the caches swept, so the activations come from memory. */
    @Setup(Level.Invocation)
    public void evict() {
        sink += ColdCache.sweep();
    }

    /** The batch norm's input gradient a block at a time, read by both of the expansion's products in cache. */
    @Benchmark
    public Backend.PointwiseBatchNormSiluDepthwiseGrads fused(Rate rate) {
        rate.memoryBound(bytes, flops);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.pointwiseBatchNormSiluDepthwiseGrads(dy, dwWeight, spec, x, weight, bias, statistics.mean(),
                    statistics.invStd(), input, pointwise, POINTWISE);
        }
    }

    /** The batch norm's input gradient written whole, then read back by each of the expansion's products. */
    @Benchmark
    public Tensor threeCalls(Rate rate, Blackhole hole) {
        rate.memoryBound(bytes, flops);
        try (MemoryScope _ = MemoryScope.open()) {
            Backend.DepthwiseBatchNormSiluGrads g = cpu.depthwiseBatchNormSiluGrads(dy, dwWeight, spec, x, weight,
                    bias, statistics.mean(), statistics.invStd());
            Tensor dx = g.batchNorm().input();
            hole.consume(g);
            hole.consume(cpu.conv2dBackwardInput(dx, pointwise, input.shape(), POINTWISE));
            return cpu.conv2dBackwardWeight(input, dx, pointwise.shape(), POINTWISE);
        }
    }
}
