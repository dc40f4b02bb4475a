package dev.vertebra.examples;

import dev.vertebra.core.DType;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.core.io.Npy;
import dev.vertebra.efficientnet.EfficientNet;
import dev.vertebra.efficientnet.EfficientNetConfig;
import dev.vertebra.efficientnet.EfficientNetWeights;
import dev.vertebra.core.Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EfficientNetCommandsTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    @Test
    void summaryEndsWithTorchvisionsParameterCount() {
        assertEquals(0, run("summary", "--model", "b3"), err.toString());
        String[] lines = out.toString().strip().split("\n");
        assertEquals("parameters: 12233232", lines[lines.length - 1]);
        assertTrue(out.toString().contains("FLOPs:"), out.toString());
    }

    @Test
    void summaryTakesACustomModelAndNamesAWrongOneInOneLine() {
        assertEquals(0, run("summary", "--model", "custom:0.5:0.25"), err.toString());
        assertTrue(out.toString().contains("parameters: "), out.toString());
        assertEquals(1, run("summary", "--model", "b9"));
        assertEquals("vertebra summary: unknown EfficientNet variant 'b9': expected b0 … b7", err.toString().strip());
    }

    @Test
    void summaryWithClassesAndChannels() {
        assertEquals(0, run("summary", "--model", "b0", "--classes", "7", "--in-channels", "1"), err.toString());
        // 5,288,548 − 1280·993 − 993 (classifier) − 2·32·9 (stem inputs)
        long expected = 5_288_548L - 1280L * 993 - 993 - 2L * 32 * 9;
        assertTrue(out.toString().strip().endsWith("parameters: " + expected), out.toString());
    }

    @Test
    void logitsRunsOnNchwAndRefusesAWrongShape(@TempDir Path dir) throws IOException {
        Path weights = dir.resolve("b0.safetensors");
        EfficientNetWeights.save(new EfficientNet(EfficientNetConfig.b0().withClasses(4), new Generator(1)), weights);
        Path input = dir.resolve("x.npy");
        Npy.write(input, new HostArray(DType.FLOAT32, new int[]{2, 3, 64, 64}, new float[2 * 3 * 64 * 64]));
        Path output = dir.resolve("y.npy");
        assertEquals(0, run("logits", "--model", "b0", "--weights", weights.toString(), "--input", input.toString(),
                "--output", output.toString(), "--classes", "4"), err.toString());
        HostArray logits = Npy.read(output);
        assertEquals(DType.FLOAT32, logits.dtype());
        assertArrayEquals(new int[]{2, 4}, logits.shape());

        Path wrong = dir.resolve("wrong.npy");
        Npy.write(wrong, new HostArray(DType.FLOAT32, new int[]{3, 64, 64}, new float[3 * 64 * 64]));
        assertEquals(1, run("logits", "--model", "b0", "--weights", weights.toString(), "--input", wrong.toString(),
                "--output", output.toString(), "--classes", "4"));
        assertTrue(err.toString().contains("[3, 64, 64]"), err.toString());
    }
}
