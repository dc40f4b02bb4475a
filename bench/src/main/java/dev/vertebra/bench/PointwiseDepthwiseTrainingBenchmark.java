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

import java.util.concurrent.TimeUnit;

/**
 * An inverted bottleneck's first half in training, forward, at B0's shapes: the 1×1 expansion, its batch norm +
 * SiLU and the depthwise layer, as one op ({@link Backend#pointwiseBatchNormSiluDepthwise}: the batch statistics
 * gathered from each tile of the expansion's output as the product writes it) against the two calls it replaces
 * (the product writing x, then {@link Backend#batchNormSiluDepthwise} reading x once for the statistics and once
 * for the rows). Each call in a {@link MemoryScope} after the caches are swept. The traffic counted is the fused
 * op's compulsory one: the input read, x written and read once, the output written, and the weights.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class PointwiseDepthwiseTrainingBenchmark {
    private static final double EPS = 1e-3;
    private static final ConvSpec POINTWISE = ConvSpec.of(1, 0, 1, 1);

    /** As {@link PointwiseDepthwiseBenchmark#layer}: B0's expansions over maps the fused forward takes. */
    @Param({"112x16x96k3s2", "56x24x144k3s1", "56x24x144k5s2", "28x40x240k5s1", "64x16x96k3s2/32"})
    String layer;

    Backend cpu;
    Tensor input;     // [N, H, W, Cin]
    Tensor pointwise; // [1, 1, Cin, C]
    Tensor weight;    // [C]
    Tensor bias;      // [C]
    Tensor dwWeight;  // [K, K, 1, C]
    ConvSpec spec;
    double bytes;
    double flops;
    float sink;

    @Setup
    public void setUp() {
        PointwiseDepthwiseBenchmark.Expansion e = PointwiseDepthwiseBenchmark.Expansion.parse(layer);
        Generator gen = new Generator(6);
        cpu = Backends.get(Device.CPU);
        input = Init.normal(gen, Shape.of(e.batch(), e.side(), e.side(), e.in()), 0, 1, Device.CPU);
        pointwise = Init.normal(gen, Shape.of(1, 1, e.in(), e.c()), 0, 0.2, Device.CPU);
        weight = Init.uniform(gen, Shape.of(e.c()), 0.5, 1.5, Device.CPU);
        bias = Init.normal(gen, Shape.of(e.c()), 0, 0.5, Device.CPU);
        dwWeight = Init.normal(gen, Shape.of(e.k(), e.k(), 1, e.c()), 0, 0.3, Device.CPU);
        spec = ConvSpec.of(e.stride(), (e.k() - 1) / 2, 1, e.c());
        int outSide = spec.outHeight(e.side(), e.k());
        double pixels = (double) e.batch() * e.side() * e.side();
        double outPixels = (double) e.batch() * outSide * outSide;
        double taps = (double) e.k() * e.k() * e.c();
        bytes = 4 * (pixels * e.in() + 2 * pixels * e.c() + outPixels * e.c() + (double) e.in() * e.c() + taps);
        flops = 2 * (pixels * e.in() * e.c() + outPixels * taps);
    }

    /** Before each call: the caches swept, so the input comes from memory. */
    @Setup(Level.Invocation)
    public void evict() {
        sink += ColdCache.sweep();
    }

    /** The statistics from each tile of x as the product writes it; x then read once. */
    @Benchmark
    public Tensor fused(Rate rate) {
        rate.memoryBound(bytes, flops);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.pointwiseBatchNormSiluDepthwise(input, pointwise, POINTWISE, weight, bias, EPS, dwWeight, spec)
                    .result().output();
        }
    }

    /** The product writing x, then the statistics and the rows each reading it. */
    @Benchmark
    public Tensor twoCalls(Rate rate) {
        rate.memoryBound(bytes, flops);
        try (MemoryScope _ = MemoryScope.open()) {
            Tensor x = cpu.conv2d(input, pointwise, POINTWISE);
            return cpu.batchNormSiluDepthwise(x, weight, bias, EPS, dwWeight, spec).output();
        }
    }
}
