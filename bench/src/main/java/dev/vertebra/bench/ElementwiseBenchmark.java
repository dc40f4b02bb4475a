package dev.vertebra.bench;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.UnaryOp;
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
 * Elementwise primitives of the fast CPU backend on B0's largest activation, [8, 112, 112, 96] (9.63 M floats,
 * 38.5 MB): SiLU forward and backward against negation and addition, plain memory-bound ops moving the same bytes.
 * Each call runs in a {@link MemoryScope}, as a model step does, so its output reuses the previous call's array.
 * Bytes per call: neg and silu 77.1 MB, add and silu_grad 115.6 MB.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ElementwiseBenchmark {

    // One [8, 112, 112, 96] float32 tensor.
    private static final double BYTES = 8.0 * 112 * 112 * 96 * 4;

    Backend cpu;
    Tensor x; // [8, 112, 112, 96]
    Tensor g; // [8, 112, 112, 96]

    @Setup
    public void setUp() {
        Generator gen = new Generator(0);
        x = Init.normal(gen, Shape.of(8, 112, 112, 96), 0, 2, Device.CPU);
        g = Init.normal(gen, Shape.of(8, 112, 112, 96), 0, 1, Device.CPU);
        cpu = Backends.get(Device.CPU);
    }

    @Benchmark
    public Tensor silu(Rate rate) {
        rate.memoryBound(2 * BYTES, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.unary(UnaryOp.SILU, x);
        }
    }

    @Benchmark
    public Tensor siluGrad(Rate rate) {
        rate.memoryBound(3 * BYTES, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.binary(BinaryOp.SILU_GRAD, x, g);
        }
    }

    @Benchmark
    public Tensor neg(Rate rate) {
        rate.memoryBound(2 * BYTES, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.unary(UnaryOp.NEG, x);
        }
    }

    @Benchmark
    public Tensor add(Rate rate) {
        rate.memoryBound(3 * BYTES, 0);
        try (MemoryScope _ = MemoryScope.open()) {
            return cpu.binary(BinaryOp.ADD, x, g);
        }
    }
}
