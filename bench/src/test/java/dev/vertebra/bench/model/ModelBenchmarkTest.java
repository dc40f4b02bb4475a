package dev.vertebra.bench.model;

import dev.vertebra.core.Device;
import dev.vertebra.core.Precision;
import dev.vertebra.core.cpu.CpuThreads;
import dev.vertebra.core.cpu.LoopStatistics;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelBenchmarkTest {

    private static String[] lines(StringWriter out) {
        return out.toString().strip().split("\n");
    }

    @Test
    void trainingOnATinyImageEndsWithImagesPerSecondAndProfiles() {
        StringWriter out = new StringWriter();
        var options = new ModelBenchmark.Options("b0", 2, 32, ModelBenchmark.Mode.TRAIN, 2, 0, Device.CPU, 8, true);
        ModelBenchmark.Result r = ModelBenchmark.run(options, new PrintWriter(out, true));
        String[] lines = lines(out);
        assertTrue(lines[lines.length - 1].matches("img/s: \\d+\\.\\d\\d"), out.toString());
        assertEquals(2, r.stepSeconds().length);
        assertEquals(2 / r.medianSeconds(), r.imagesPerSecond(), 1e-9);
        for (String op : new String[]{"conv2d fwd 1x1", "conv2d bwd-input+weight depthwise", "conv2d bwd-weight dense",
                "batch norm bwd", "optimiser: ", "(outside primitives)", "threads (", "serial ms", "idle ms"}) {
            assertTrue(out.toString().contains(op), op + " missing from\n" + out);
        }
    }

    @Test
    void preparedStepsOfTheSameOptionsKeepTheSameBits() {
        for (ModelBenchmark.Mode mode : ModelBenchmark.Mode.values()) {
            var options = new ModelBenchmark.Options("custom:0.25:0.25", 2, 32, mode, 1, 0, Device.CPU, 8, false);
            ModelBenchmark.PreparedStep a = ModelBenchmark.prepare(options);
            ModelBenchmark.PreparedStep b = ModelBenchmark.prepare(options);
            a.getAsDouble();
            b.getAsDouble();
            assertEquals(a.fingerprint(), b.fingerprint(), mode + ": the same steps, the same bits");
            if (mode == ModelBenchmark.Mode.TRAIN) {
                b.getAsDouble();
                assertNotEquals(a.fingerprint(), b.fingerprint(), "one step more changes the weights");
            }
        }
        // The same model and weights on larger images: only the logits tell the two apart.
        var small = new ModelBenchmark.Options("custom:0.25:0.25", 2, 32, ModelBenchmark.Mode.INFER, 1, 0,
                Device.CPU, 8, false);
        var large = new ModelBenchmark.Options("custom:0.25:0.25", 2, 40, ModelBenchmark.Mode.INFER, 1, 0,
                Device.CPU, 8, false);
        assertNotEquals(ModelBenchmark.prepare(small).fingerprint(), ModelBenchmark.prepare(large).fingerprint());
    }

    @Test
    void threadUseGivesPerStepFiguresOfTheLoops() {
        // two steps of 100 ms: loops open 160 ms, chunks 150 + 130 ms, waits 10 ms, four joins 20 µs late in all
        var loops = new LoopStatistics(1144, 30_000, 160_000_000L, 150_000_000L, 130_000_000L, 10_000_000L, 4,
                20_000);
        String line = ModelBenchmark.threadUse(loops, 100.0, 2);
        int threads = CpuThreads.parallelism();
        assertTrue(line.startsWith("threads (" + threads + "): 572 parallel loops a step, open 80.0 of its 100.0 ms"),
                line);
        assertTrue(line.contains(String.format(Locale.ROOT, "ran chunks %.0f %% of the time (caller 75.0 ms, "
                + "workers 65.0 ms)", 100 * 280.0 / (160.0 * threads))), line);
        assertTrue(line.contains("waited 5.0 ms for workers' last chunks, a worker joined 5 µs after"), line);
        assertTrue(line.strip().endsWith("; 20.0 ms outside loops"), line);
    }

    @Test
    void inferenceWithoutProfile() {
        StringWriter out = new StringWriter();
        var options = new ModelBenchmark.Options("b0", 1, 32, ModelBenchmark.Mode.INFER, 1, 0, Device.CPU, 3, false);
        ModelBenchmark.run(options, new PrintWriter(out, true));
        String[] lines = lines(out);
        assertTrue(lines[lines.length - 1].startsWith("img/s: "), out.toString());
        assertTrue(lines[lines.length - 2].startsWith("step 1: ") || lines[lines.length - 2].startsWith("peak RSS"),
                out.toString());
        assertTrue(!out.toString().contains("profile of"), out.toString());
    }

    @Test
    void mixedPrecisionTrainingSteps() {
        for (Precision p : new Precision[]{Precision.BF16, Precision.FP16, Precision.TF32}) {
            StringWriter out = new StringWriter();
            var options = new ModelBenchmark.Options("b0", 2, 32, ModelBenchmark.Mode.TRAIN, 1, 0, Device.CPU, 8,
                    false, p);
            ModelBenchmark.Result r = ModelBenchmark.run(options, new PrintWriter(out, true));
            assertTrue(out.toString().startsWith("b0 train batch=2 size=32 classes=8 precision=" + p.cliName()),
                    out.toString());
            assertTrue(r.imagesPerSecond() > 0);
        }
    }

    @Test
    void medianOfEvenAndOddCounts() {
        assertEquals(2, ModelBenchmark.median(new double[]{3, 1, 2}));
        assertEquals(2.5, ModelBenchmark.median(new double[]{4, 1, 3, 2}));
    }

    @Test
    void refusesNonsense() {
        assertThrows(IllegalArgumentException.class,
                () -> new ModelBenchmark.Options("b0", 0, 224, ModelBenchmark.Mode.TRAIN, 1, 0, Device.CPU, 8, false));
    }
}
