package dev.vertebra.examples;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchModelCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    @Test
    void lastLineIsImagesPerSecond() {
        assertEquals(0, run("bench-model", "--model", "b0", "--batch", "1", "--size", "32", "--mode", "infer",
                "--steps", "1", "--warmup", "0", "--device", "cpu", "--classes", "8"), err.toString());
        String[] lines = out.toString().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("img/s: \\d+\\.\\d\\d"), out.toString());
    }

    @Test
    void takesAPrecision() {
        assertEquals(0, run("bench-model", "--batch", "2", "--size", "32", "--mode", "train", "--steps", "1",
                "--warmup", "0", "--precision", "BF16"), err.toString());
        assertTrue(out.toString().contains("precision=bf16"), out.toString());
        assertEquals(2, run("bench-model", "--precision", "fp8"));
        assertTrue(err.toString().contains("--precision") && err.toString().contains("fp32, tf32, bf16 or fp16"),
                err.toString());
    }

    @Test
    void helpSaysTf32IsFp32OnTheCpu() {
        assertEquals(0, run("bench-model", "--help"));
        assertTrue(out.toString().replaceAll("\\s+", " ").contains("on the CPU exactly fp32"), out.toString());
        out.getBuffer().setLength(0);
        assertEquals(0, run("train", "--help"));
        assertTrue(out.toString().contains("--precision"), out.toString());
    }

    @Test
    void takesTheDemosCustomModelAndRefusesAnUnknownOneCleanly() {
        assertEquals(0, run("bench-model", "--model", "custom:0.5:0.25", "--batch", "2", "--size", "32", "--mode",
                "train", "--steps", "1", "--warmup", "0"), err.toString());
        assertTrue(out.toString().startsWith("custom:0.5:0.25 train batch=2"), out.toString());
        assertEquals(2, run("bench-model", "--model", "b9"));
        assertTrue(err.toString().startsWith("vertebra bench-model: unknown EfficientNet variant 'b9'"),
                err.toString());
    }

    @Test
    void profilesAsManyStepsAsAskedAndRefusesNone() {
        assertEquals(0, run("bench-model", "--batch", "1", "--size", "32", "--mode", "infer", "--steps", "1",
                "--warmup", "0", "--profile", "--profile-steps", "2"), err.toString());
        assertTrue(out.toString().contains("profile of a infer step on cpu+profile (mean of 2)"), out.toString());
        assertEquals(2, run("bench-model", "--profile", "--profile-steps", "0"));
        assertTrue(err.toString().contains("--profile-steps must be at least 1"), err.toString());
    }

    @Test
    void refusesAnUnknownMode() {
        assertEquals(2, run("bench-model", "--mode", "fly"));
        assertTrue(err.toString().contains("--mode must be train or infer"), err.toString());
    }
}
