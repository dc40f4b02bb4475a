package dev.vertebra.bench;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
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
 * Training-mode batch norm fused with SiLU ({@link Backend#batchNormSilu}, {@link Backend#batchNormSiluBackward}) on
 * EfficientNet-B0's activations at batch 8, 224² input: {@code layer} "112x96" is the widest (stage 2's expansion),
 * "28x240" a mid-network one; with "/32" at batch 32, 128² input ({@link DepthwiseConvBenchmark#parse}). Through the
 * backend as the model calls it, each call in a {@link MemoryScope} as a training step runs. Bytes are the
 * compulsory traffic (forward: read x, write z; backward: read dz and x, write dx); the kernels make more passes
 * (statistics first), so {@link Rate#ofLimit} is an upper bound's share.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class BatchNormSiluBenchmark {

    private static final double EPS = 1e-3;

    @Param({"112x96", "28x240", "64x96/32", "16x240/32"})
    String layer;

    @Param({"warm", "cold"})
    String cache;

    Backend cpu;
    Tensor[] x; // copies of [N, H, W, C]
    Tensor[] dz; // copies of [N, H, W, C]
    Tensor weight; // [C]
    Tensor bias; // [C]
    Tensor mean; // [C], of x[0]
    Tensor invStd; // [C], of x[0]
    Tensor pooledPart; // [N, 1, 1, C]: a squeeze-excitation pooling's part of dz
    Tensor pooledPartBroadcast; // the same, expanded to [N, H, W, C]
    double elementBytes;
    int copy;
    float sink;

    @Setup
    public void setUp() {
        String[] p = DepthwiseConvBenchmark.shapeOf(layer).split("x");
        int batch = DepthwiseConvBenchmark.batchOf(layer);
        int side = Integer.parseInt(p[0]);
        int c = Integer.parseInt(p[1]);
        Shape shape = Shape.of(batch, side, side, c);
        elementBytes = shape.numel() * 4.0;
        int copies = cache.equals("cold") ? ColdCache.copiesFor((long) (2 * elementBytes)) : 1;
        Generator gen = new Generator(4);
        x = new Tensor[copies];
        dz = new Tensor[copies];
        for (int k = 0; k < copies; k++) {
            x[k] = Init.normal(gen, shape, 0.5, 2, Device.CPU);
            dz[k] = Init.normal(gen, shape, 0, 1, Device.CPU);
        }
        weight = Init.uniform(gen, Shape.of(c), 0.5, 1.5, Device.CPU);
        bias = Init.normal(gen, Shape.of(c), 0, 0.5, Device.CPU);
        cpu = Backends.get(Device.CPU);
        Backend.BatchNormResult stats = cpu.batchNormSilu(x[0], weight, bias, EPS);
        mean = stats.mean();
        invStd = stats.invStd();
        pooledPart = Init.normal(gen, Shape.of(batch, 1, 1, c), 0, 0.01, Device.CPU);
        pooledPartBroadcast = pooledPart.expand(shape);
    }

    /** Before each call when cold: the next copy of the activations, and caches swept. */
    @Setup(Level.Invocation)
    public void evict() {
        if (x.length > 1) {
            copy = (copy + 1) % x.length;
            sink += ColdCache.sweep();
        }
    }

    /** z = silu(batchnorm(x)) with the batch's statistics. */
    @Benchmark
    public Tensor forward(Rate rate) {
        rate.memoryBound(2 * elementBytes, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.batchNormSilu(x[copy], weight, bias, EPS).output();
        }
    }

    /**
     * z and its sums over H and W for a squeeze-excitation's pooling, summed as z is written (how a training step
     * runs an inverted bottleneck's depthwise layer), against {@link #forwardThenPooling}.
     */
    @Benchmark
    public Tensor forwardWithPooling(Rate rate) {
        rate.memoryBound(2 * elementBytes, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.batchNormSiluPooled(x[copy], weight, bias, EPS).channelSums();
        }
    }

    /** The same as {@link #forwardWithPooling} by the two ops: z, then a pass over it to sum. */
    @Benchmark
    public Tensor forwardThenPooling(Rate rate) {
        rate.memoryBound(2 * elementBytes, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            Tensor z = cpu.batchNormSilu(x[copy], weight, bias, EPS).output();
            return cpu.reduce(ReduceOp.SUM, z, new int[]{1, 2}, true);
        }
    }

    /** dx, dweight, dbias from dz. */
    @Benchmark
    public Tensor backward(Rate rate) {
        rate.memoryBound(3 * elementBytes, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.batchNormSiluBackward(dz[copy], x[copy], weight, bias, mean, invStd).input();
        }
    }

    /**
     * The backward of an activation a squeeze-excitation also pools: dz plus the pooling's per-image part, added
     * inside the kernel (how autograd runs it), against {@link #backwardAfterSummingPooledPart}.
     */
    @Benchmark
    public Tensor backwardWithPooledPart(Rate rate) {
        rate.memoryBound(3 * elementBytes, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.batchNormSiluBackward(dz[copy], pooledPart, x[copy], weight, bias, mean, invStd).input();
        }
    }

    /** The same sum as autograd formed it before: the broadcast part added into dz in place, then the backward. */
    @Benchmark
    public Tensor backwardAfterSummingPooledPart(Rate rate) {
        rate.memoryBound(3 * elementBytes, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            cpu.accumulate(dz[copy], pooledPartBroadcast);
            return cpu.batchNormSiluBackward(dz[copy], x[copy], weight, bias, mean, invStd).input();
        }
    }
}
