package dev.vertebra.bench;

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
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
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

    @Setup
    public void setUp() {
        String[] io = channels.split(":");
        shape = Conv2dShape.symmetric(8, 56, 56, Integer.parseInt(io[0]), Integer.parseInt(io[1]), 1, 1, 0, 1, 1);
        Random random = new Random(3);
        x = new float[(int) shape.inputSize()];
        w = new float[(int) shape.weightSize()];
        y = new float[(int) shape.outputSize()];
        dw = new float[w.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat() - 0.5f;
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = random.nextFloat() - 0.5f;
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = random.nextFloat() - 0.5f;
        }
    }

    /** y = x · w. */
    @Benchmark
    public float[] forward() {
        Conv2dGemm.forward(shape, x, 0, w, 0, null, 0, y, 0, false);
        return y;
    }

    /** dw = xᵀ · dy (here y): the long reduction over the 25088 pixels. */
    @Benchmark
    public float[] backwardWeight() {
        Conv2dGemm.backwardWeight(shape, x, 0, y, 0, dw, 0, false);
        return dw;
    }
}
