package dev.vertebra.bench.model;

import dev.vertebra.core.Device;
import dev.vertebra.core.Precision;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        for (String op : new String[]{"conv2d fwd 1x1", "conv2d bwd-input depthwise", "conv2d bwd-weight dense",
                "batch norm bwd", "optimiser: ", "(outside primitives)"}) {
            assertTrue(out.toString().contains(op), op + " missing from\n" + out);
        }
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
