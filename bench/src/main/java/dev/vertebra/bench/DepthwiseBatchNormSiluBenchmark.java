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
import dev.vertebra.core.cpu.Conv2dShape;
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
 * The backward of an inverted bottleneck's expansion batch norm + SiLU and the depthwise convolution over its output
 * at EfficientNet-B0's shapes: {@link Backend#depthwiseBatchNormSiluBackward}, which carries each row of the
 * convolution's input gradient through the batch norm's first pass while it is in cache, against the two calls it
 * replaces ({@link #separate}); with the depthwise weight's gradient, taken in the same pass from the convolution's
 * input recomputed ({@link #fusedWithWeight}) against the same from the input kept ({@link #fusedThenWeight}); and
 * the forward that never writes the batch norm + SiLU output ({@link #forward}) against the two ops
 * ({@link #forwardSeparate}). {@code layer} is "side x channels k kernel s stride" of the depthwise convolution,
 * at batch 8 with a 224² input or, with "/32", at batch 32 with a 128² input ({@link DepthwiseConvBenchmark#parse}).
 * Bytes are the compulsory traffic: dy, x and dx once each (the forward's: x twice, y once); {@link Rate#ofLimit}
 * is against copy bandwidth. Through the backend, in a {@link MemoryScope} as a training step runs, caches swept
 * before each call ({@code cache=cold}) with the activations cycled through copies.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class DepthwiseBatchNormSiluBenchmark {

    private static final double EPS = 1e-3;

    @Param({"112x96k3s2", "56x144k3s1", "28x240k5s1", "14x672k5s1", "7x1152k5s1",
            "64x96k3s2/32", "32x144k3s1/32", "16x240k5s1/32", "8x672k5s1/32", "4x1152k5s1/32"})
    String layer;

    Backend cpu;
    ConvSpec spec;
    Tensor[] x;     // copies of [N, H, W, C]: the batch norm's input
    Tensor[] z;     // copies of [N, H, W, C]: silu(batchNorm(x)), the convolution's input
    Tensor[] dy;    // copies of [N, OH, OW, C]: the depthwise output's gradient
    Tensor w;       // [K, K, 1, C]
    Tensor weight;  // [C]
    Tensor bias;    // [C]
    Tensor mean;    // [C], of x[0]
    Tensor invStd;  // [C], of x[0]
    double bytes;
    double forwardBytes;
    int copy;
    float sink;

    @Setup
    public void setUp() {
        Conv2dShape s = DepthwiseConvBenchmark.parse(layer);
        int c = s.inChannels();
        int k = s.kernelH();
        spec = ConvSpec.of(s.strideH(), (k - 1) / 2, 1, c);
        Shape in = Shape.of(s.batch(), s.height(), s.width(), c);
        Shape out = Shape.of(s.batch(), s.outHeight(), s.outWidth(), c);
        bytes = (2.0 * in.numel() + out.numel()) * 4;
        forwardBytes = bytes; // the forward's: x read twice (statistics, rows), y written
        int copies = ColdCache.copiesFor((long) bytes);
        Generator gen = new Generator(5);
        x = new Tensor[copies];
        dy = new Tensor[copies];
        for (int i = 0; i < copies; i++) {
            x[i] = Init.normal(gen, in, 0.5, 2, Device.CPU);
            dy[i] = Init.normal(gen, out, 0, 1, Device.CPU);
        }
        w = Init.normal(gen, Shape.of(k, k, 1, c), 0, 0.3, Device.CPU);
        weight = Init.uniform(gen, Shape.of(c), 0.5, 1.5, Device.CPU);
        bias = Init.normal(gen, Shape.of(c), 0, 0.5, Device.CPU);
        cpu = Backends.get(Device.CPU);
        Backend.BatchNormResult stats = cpu.batchNormSilu(x[0], weight, bias, EPS);
        mean = stats.mean();
        invStd = stats.invStd();
        z = new Tensor[copies];
        for (int i = 0; i < copies; i++) {
            z[i] = cpu.batchNormSilu(x[i], weight, bias, EPS).output();
        }
    }

    /** Before each call: the next copy of the activations, and caches swept. */
    @Setup(Level.Invocation)
    public void evict() {
        copy = (copy + 1) % x.length;
        sink += ColdCache.sweep();
    }

    /** The batch norm's dx, dweight, dbias in one call. */
    @Benchmark
    public Tensor fused(Rate rate) {
        rate.memoryBound(bytes, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.depthwiseBatchNormSiluBackward(dy[copy], w, spec, x[copy], weight, bias, mean, invStd).input();
        }
    }

    /**
     * The batch norm's gradients and the depthwise weight's in one call ({@link Backend#depthwiseBatchNormSiluGrads}:
     * the convolution's input recomputed a row at a time, as a training step now runs it on the CPU).
     */
    @Benchmark
    public Tensor fusedWithWeight(Rate rate) {
        rate.memoryBound(bytes, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.depthwiseBatchNormSiluGrads(dy[copy], w, spec, x[copy], weight, bias, mean, invStd)
                    .depthwiseWeight();
        }
    }

    /**
     * The same as {@link #fused}, then the depthwise weight's gradient from the convolution's input kept from the
     * forward (z, a copy per copy of x), as a step ran it before: z and dy read again. Bytes as {@link
     * #fusedWithWeight}'s, for the two to compare.
     */
    @Benchmark
    public Tensor fusedThenWeight(Rate rate) {
        rate.memoryBound(bytes, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            cpu.depthwiseBatchNormSiluBackward(dy[copy], w, spec, x[copy], weight, bias, mean, invStd);
            return cpu.conv2dBackwardWeight(z[copy], dy[copy], w.shape(), spec);
        }
    }

    /**
     * The forward: the batch norm's statistics, then the depthwise convolution over batch norm + SiLU rows made a
     * band at a time ({@link Backend#batchNormSiluDepthwise}: z never written).
     */
    @Benchmark
    public Tensor forward(Rate rate) {
        rate.memoryBound(forwardBytes, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.batchNormSiluDepthwise(x[copy], weight, bias, EPS, w, spec).output();
        }
    }

    /** The same as two ops: batch norm + SiLU writing z, then the depthwise convolution reading it. */
    @Benchmark
    public Tensor forwardSeparate(Rate rate) {
        rate.memoryBound(forwardBytes, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.conv2d(cpu.batchNormSilu(x[copy], weight, bias, EPS).output(), w, spec);
        }
    }

    /** The same from the convolution's input gradient, written out, then the batch norm + SiLU backward. */
    @Benchmark
    public Tensor separate(Rate rate) {
        rate.memoryBound(bytes, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            Tensor dz = cpu.conv2dBackwardInput(dy[copy], w, x[copy].shape(), spec);
            return cpu.batchNormSiluBackward(dz, x[copy], weight, bias, mean, invStd).input();
        }
    }
}
