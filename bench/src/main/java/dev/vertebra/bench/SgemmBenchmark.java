package dev.vertebra.bench;

import dev.vertebra.core.cpu.Sgemm;
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
 * Square SGEMM, C = A·B, on all cores of the shared pool. One call is 2·n³ flops on 3·n² floats: compute bound,
 * so {@link Rate#ofLimit} is against the FMA peak; bench/NOTES.md keeps the figures.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SgemmBenchmark {

    @Param({"256", "1024", "2048"})
    int size;

    float[] a; // [size, size]
    float[] b; // [size, size]
    float[] c; // [size, size]

    @Setup
    public void setUp() {
        Random random = new Random(1);
        a = new float[size * size];
        b = new float[size * size];
        c = new float[size * size];
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextFloat() - 0.5f;
            b[i] = random.nextFloat() - 0.5f;
        }
    }

    /** C = A · B. */
    @Benchmark
    public float[] multiply(Rate rate) {
        Sgemm.sgemm(false, false, size, size, size, 1f, a, 0, size, b, 0, size, 0f, c, 0, size);
        count(rate);
        return c;
    }

    /** C = Aᵀ · Bᵀ: the same flops with both operands read across rows while packing. */
    @Benchmark
    public float[] multiplyTransposed(Rate rate) {
        Sgemm.sgemm(true, true, size, size, size, 1f, a, 0, size, b, 0, size, 0f, c, 0, size);
        count(rate);
        return c;
    }

    private void count(Rate rate) {
        double n = size;
        rate.computeBound(3 * n * n * 4, 2 * n * n * n);
    }
}
