package dev.vertebra.bench;

import dev.vertebra.core.Activation;
import dev.vertebra.core.Backend;
import dev.vertebra.core.Backend.ConvAffine;
import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.ReduceOp;
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

/**
 * An inverted bottleneck's first half in evaluation at B0's shapes: the 1×1 expansion (batch norm and SiLU
 * folded in) then the depthwise convolution (the same), as one op ({@link Backend#conv2dAffineChain}, which need
 * not write the expanded activation) against the two {@link Backend#conv2dAffine} calls it replaces. Through the
 * backend as the model calls it, each call in a {@link MemoryScope} after the caches are swept (the input comes
 * from memory, as in a network). The traffic counted is the compulsory one of the fused op: input, output and
 * weights once; the separate calls move the expansion out and back in besides.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class PointwiseDepthwiseBenchmark {

    /**
     * "112x16x96k3s2": 112² input of 16 channels expanded to 96, then a 3×3 depthwise convolution at stride 2, at
     * batch 8 (a 224² input); "/32": batch 32 (a 128² input), as {@link DepthwiseConvBenchmark#parse} reads it.
     */
    @Param({"112x16x96k3s2", "56x24x144k3s1", "28x40x240k5s1", "14x112x672k5s1", "7x192x1152k5s1",
            "64x16x96k3s2/32", "32x24x144k3s1/32", "16x40x240k5s1/32", "8x112x672k5s1/32", "4x192x1152k5s1/32"})
    String layer;

    Backend cpu;
    Tensor x; // [N, H, W, Cin]
    ConvAffine expansion;
    ConvAffine depthwise;
    double bytes;
    double flops;
    float sink;

    /** A {@link #layer} name's numbers: "112x16x96k3s2" is side 112, 16 inputs, 96 channels, 3×3, stride 2. */
    record Expansion(int batch, int side, int in, int c, int k, int stride) {
        static Expansion parse(String layer) {
            String[] p = DepthwiseConvBenchmark.shapeOf(layer).split("[xks]");
            return new Expansion(DepthwiseConvBenchmark.batchOf(layer), Integer.parseInt(p[0]),
                    Integer.parseInt(p[1]), Integer.parseInt(p[2]), Integer.parseInt(p[3]), Integer.parseInt(p[4]));
        }
    }

    @Setup
    public void setUp() {
        Expansion e = Expansion.parse(layer);
        int batch = e.batch();
        int side = e.side();
        int in = e.in();
        int c = e.c();
        int k = e.k();
        int stride = e.stride();
        Generator gen = new Generator(4);
        cpu = Backends.get(Device.CPU);
        x = Init.normal(gen, Shape.of(batch, side, side, in), 0, 1, Device.CPU);
        expansion = layer(gen, Shape.of(1, 1, in, c), ConvSpec.of(1, 0, 1, 1));
        depthwise = layer(gen, Shape.of(k, k, 1, c), ConvSpec.of(stride, (k - 1) / 2, 1, c));
        int outSide = depthwise.spec().outHeight(side, k);
        double pixels = (double) batch * side * side;
        double outPixels = (double) batch * outSide * outSide;
        bytes = 4 * (pixels * in + outPixels * c + (double) in * c + (double) k * k * c);
        flops = 2 * (pixels * in * c + outPixels * k * k * c);
    }

    private static ConvAffine layer(Generator gen, Shape weight, ConvSpec spec) {
        int c = weight.dim(3);
        return new ConvAffine(Init.normal(gen, weight, 0, 0.2, Device.CPU), spec,
                Init.uniform(gen, Shape.of(c), 0.5, 1.5, Device.CPU), Init.normal(gen, Shape.of(c), 0, 1, Device.CPU),
                Activation.SILU);
    }

    /** Before each call: the caches swept, so the input comes from memory. */
    @Setup(Level.Invocation)
    public void evict() {
        sink += ColdCache.sweep();
    }

    /** The expansion's rows computed band by band into cache and consumed there by the depthwise rows. */
    @Benchmark
    public Tensor fused(Rate rate) {
        rate.memoryBound(bytes, flops);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.conv2dAffineChain(x, expansion, depthwise);
        }
    }

    /**
     * {@link #fused} with the squeeze-excitation's pooling: each output row summed into its image's channel sums
     * while in L1 ({@link Backend#conv2dAffineChainPooled}), as the model's inference calls it.
     */
    @Benchmark
    public Tensor fusedPooled(Rate rate) {
        rate.memoryBound(bytes, flops);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.conv2dAffineChainPooled(x, expansion, depthwise).channelSums();
        }
    }

    /** {@link #fused}, then the pooling as a reduction over the output read back from memory. */
    @Benchmark
    public Tensor fusedThenPooled(Rate rate) {
        rate.memoryBound(bytes, flops);
        try (MemoryScope _ = MemoryScope.open()) {
            Tensor y = cpu.conv2dAffineChain(x, expansion, depthwise);
            return cpu.reduce(ReduceOp.SUM, y, new int[]{1, 2}, true);
        }
    }

    /** The expansion written whole, then read back by the depthwise convolution. */
    @Benchmark
    public Tensor separate(Rate rate) {
        rate.memoryBound(bytes, flops);
        try (MemoryScope _ = MemoryScope.open()) {
            Tensor middle = cpu.conv2dAffine(x, null, expansion.weight(), expansion.spec(), expansion.scale(),
                    expansion.shift(), expansion.activation());
            return cpu.conv2dAffine(middle, null, depthwise.weight(), depthwise.spec(), depthwise.scale(),
                    depthwise.shift(), depthwise.activation());
        }
    }
}
