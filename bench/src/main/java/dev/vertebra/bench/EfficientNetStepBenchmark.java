package dev.vertebra.bench;

import dev.vertebra.bench.model.ModelBenchmark;
import dev.vertebra.core.Device;
import dev.vertebra.core.Precision;
import dev.vertebra.efficientnet.EfficientNetConfig;
import dev.vertebra.efficientnet.ModelSummary;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
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
 * The whole EfficientNet-B0 step of {@code bench-model} under JMH: a training step (forward, BCE loss, backward, SGD
 * with momentum) or an inference forward, on the CPU, at the side-by-side's sizes ({@code workload} "8x224": batch 8
 * at 224²; "32x128": batch 32 at 128²). Flops are the model's multiply-adds at that size ×2 ({@link ModelSummary}),
 * three times that for training, held against the FMA peak; images per second are the calls per second × the
 * batch. {@code bench-model} prints the same workload with a median over steps and a per-op profile.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms2g", "-Xmx2g"})
public class EfficientNetStepBenchmark {

    @Param({"train", "infer"})
    String mode;

    /** "batch x side". */
    @Param({"8x224", "32x128"})
    String workload;

    DoubleSupplier step;
    double flops;

    @Setup
    public void setUp() {
        ModelBenchmark.Mode m = mode.equals("train") ? ModelBenchmark.Mode.TRAIN : ModelBenchmark.Mode.INFER;
        String[] p = workload.split("x");
        int batch = Integer.parseInt(p[0]);
        int size = Integer.parseInt(p[1]);
        var options = new ModelBenchmark.Options("b0", batch, size, m, 1, 0, Device.CPU, 8, false, Precision.FP32);
        step = ModelBenchmark.prepare(options);
        flops = (m == ModelBenchmark.Mode.TRAIN ? 3.0 : 1.0) * batch
                * ModelSummary.of(EfficientNetConfig.b0().withClasses(8).withResolution(size)).flops();
    }

    /** One step; returns its wall time in seconds (JMH's own timing is what counts). */
    @Benchmark
    public double step(Rate rate) {
        rate.computeBound(0, flops);
        return step.getAsDouble();
    }
}
