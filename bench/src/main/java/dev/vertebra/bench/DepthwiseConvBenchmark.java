package dev.vertebra.bench;

import dev.vertebra.core.cpu.Conv2dShape;
import dev.vertebra.core.cpu.DepthwiseConv2d;
import java.util.Random;
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
 * Depthwise 3×3, stride 1, pad 1 on N=8, 112×112, C=96 (NHWC): EfficientNet-B0's second stage shape. Memory
 * bound: bytes = (input + output + weight) · 4 = 77.1 MB per forward call, so GB/s = 77.1 / ms per call.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class DepthwiseConvBenchmark {

    final Conv2dShape shape = Conv2dShape.symmetric(8, 112, 112, 96, 96, 3, 1, 1, 1, 96);
    float[] x; // [8, 112, 112, 96]
    float[] w; // [3, 3, 1, 96]
    float[] y; // [8, 112, 112, 96]
    float[] dx; // [8, 112, 112, 96]
    float[] dw; // [3, 3, 1, 96]

    @Setup
    public void setUp() {
        Random random = new Random(2);
        x = new float[(int) shape.inputSize()];
        w = new float[(int) shape.weightSize()];
        y = new float[(int) shape.outputSize()];
        dx = new float[x.length];
        dw = new float[w.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat() - 0.5f;
            y[i] = random.nextFloat() - 0.5f;
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = random.nextFloat() - 0.5f;
        }
    }

    /** y = depthwise(x, w). */
    @Benchmark
    public float[] forward() {
        DepthwiseConv2d.forward(shape, x, 0, w, 0, null, 0, y, 0, false);
        return y;
    }

    /** dx from dy (here y) and w: the same bytes as the forward. */
    @Benchmark
    public float[] backwardData() {
        DepthwiseConv2d.backwardData(shape, y, 0, w, 0, dx, 0, false);
        return dx;
    }

    /** dw from x and dy (here y): reads both activations, writes almost nothing. */
    @Benchmark
    public float[] backwardWeight() {
        DepthwiseConv2d.backwardWeight(shape, x, 0, y, 0, dw, 0, false);
        return dw;
    }
}
