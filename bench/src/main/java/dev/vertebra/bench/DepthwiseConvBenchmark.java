package dev.vertebra.bench;

import dev.vertebra.core.cpu.Conv2dShape;
import dev.vertebra.core.cpu.DepthwiseConv2d;
import java.util.Random;
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
 * Depthwise convolutions of EfficientNet-B0 (NHWC), forward and both backward kernels: {@code layer} is "side x
 * channels k kernel s stride", at batch 8 with a 224² input (the side-by-side's b=8 workloads) or, with "/32", at
 * batch 32 with a 128² input (its b=32 training) — 3×3 stride 1 (stage 1), 3×3 stride 2 (stage 2's first block),
 * 5×5 stride 2 (stage 3's first block), 5×5 stride 1 (stage 3's repeats, and stages 5 and 6 on the small maps,
 * rows of sixteen pixels or fewer) — plus the widest map's 96 channels 3×3 stride 1, the shape of this file's
 * earlier figures in bench/NOTES.md. Memory bound at the large maps (about two flops per byte):
 * {@link Rate#ofLimit} is against copy bandwidth. {@code cache=cold} evicts the caches before each call and cycles
 * through copies of the activations, as inside a model; {@code warm} repeats one call on the same arrays.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class DepthwiseConvBenchmark {

    @Param({"112x32k3s1", "112x96k3s2", "56x144k5s2", "28x240k5s1", "14x672k5s1", "7x1152k5s1", "112x96k3s1",
            "64x32k3s1/32", "64x96k3s2/32", "32x144k5s2/32", "16x240k5s1/32", "8x672k5s1/32", "4x1152k5s1/32",
            "64x96k3s1/32"})
    String layer;

    @Param({"warm", "cold"})
    String cache;

    Conv2dShape shape;
    float[][] x; // copies of [N, H, W, C]
    float[][] y; // copies of [N, OH, OW, C]: the output, and dy for the backward kernels
    float[][] dx; // copies of [N, H, W, C]
    float[] w; // [K, K, 1, C]
    float[] dw; // [K, K, 1, C]
    int copy;
    float sink;

    @Setup
    public void setUp() {
        shape = parse(layer);
        Random random = new Random(2);
        int copies = cache.equals("cold") ? ColdCache.copiesFor((shape.inputSize() + shape.outputSize()) * 4) : 1;
        x = new float[copies][(int) shape.inputSize()];
        y = new float[copies][(int) shape.outputSize()];
        dx = new float[copies][(int) shape.inputSize()];
        for (int k = 0; k < copies; k++) {
            fill(random, x[k]);
            fill(random, y[k]);
        }
        w = new float[(int) shape.weightSize()];
        dw = new float[w.length];
        fill(random, w);
    }

    /** Before each call when cold: the next copy of the arrays, and caches swept. */
    @Setup(Level.Invocation)
    public void evict() {
        if (x.length > 1) {
            copy = (copy + 1) % x.length;
            sink += ColdCache.sweep();
        }
    }

    /** "112x96k3s2": N = 8, 112² × 96 channels, 3×3, stride 2, padding (k − 1) / 2; "64x96k3s2/32": N = 32. */
    static Conv2dShape parse(String layer) {
        String[] p = shapeOf(layer).split("[xks]");
        int side = Integer.parseInt(p[0]);
        int c = Integer.parseInt(p[1]);
        int k = Integer.parseInt(p[2]);
        int stride = Integer.parseInt(p[3]);
        return Conv2dShape.symmetric(batchOf(layer), side, side, c, c, k, stride, (k - 1) / 2, 1, c);
    }

    /** A layer name's batch: N after a "/", else 8 (B0 at 224² as the side-by-side runs it). */
    static int batchOf(String layer) {
        int slash = layer.indexOf('/');
        return slash < 0 ? 8 : Integer.parseInt(layer.substring(slash + 1));
    }

    /** A layer name without its batch. */
    static String shapeOf(String layer) {
        int slash = layer.indexOf('/');
        return slash < 0 ? layer : layer.substring(0, slash);
    }

    /** Bytes of one forward or backward-data call: input, output and weight once each. */
    static double bytes(Conv2dShape s) {
        return (s.inputSize() + s.outputSize() + s.weightSize()) * 4.0;
    }

    /** Flops of one call of any of the three kernels: a multiply-add per tap and output. */
    static double flops(Conv2dShape s) {
        return 2.0 * s.outputSize() * s.kernelH() * s.kernelW();
    }

    /** y = depthwise(x, w). */
    @Benchmark
    public float[] forward(Rate rate) {
        DepthwiseConv2d.forward(shape, x[copy], 0, w, 0, null, 0, y[copy], 0, false);
        rate.memoryBound(bytes(shape), flops(shape));
        return y[copy];
    }

    /** dx from dy (here y) and w: the same bytes as the forward. */
    @Benchmark
    public float[] backwardData(Rate rate) {
        DepthwiseConv2d.backwardData(shape, y[copy], 0, w, 0, dx[copy], 0, false);
        rate.memoryBound(bytes(shape), flops(shape));
        return dx[copy];
    }

    /** dw from x and dy (here y): reads both activations, writes almost nothing. */
    @Benchmark
    public float[] backwardWeight(Rate rate) {
        DepthwiseConv2d.backwardWeight(shape, x[copy], 0, y[copy], 0, dw, 0, false);
        rate.memoryBound(bytes(shape), flops(shape));
        return dw;
    }

    private static void fill(Random random, float[] a) {
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextFloat() - 0.5f;
        }
    }
}
