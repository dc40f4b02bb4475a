package dev.vertebra.examples;

import dev.vertebra.core.Device;
import dev.vertebra.data.rsna.PreparedStudy;
import dev.vertebra.data.rsna.VolumeCache;
import dev.vertebra.data.synth.CervicalPhantom;
import dev.vertebra.data.synth.FracturePrevalence;
import dev.vertebra.data.synth.SyntheticDataset;
import dev.vertebra.examples.metric.CompetitionMetric;
import dev.vertebra.examples.metric.StudyLabels;
import dev.vertebra.examples.metric.Submission;
import dev.vertebra.examples.trainer.StudySlices;
import dev.vertebra.examples.trainer.TrainConfig;
import dev.vertebra.examples.trainer.Trainer;
import dev.vertebra.examples.trainer.TrainerStudies;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer's commands as a user runs them, on a tiny synthetic dataset: train, evaluate, predict, score,
 * resume, prepare and --cache, help, and the errors a wrong path or setting gives.
 */
class TrainerCommandsTest {
    /** Phantoms of 48×48 pixels and 40–44 slices: every vertebra shows, and the whole class takes seconds. */
    static final CervicalPhantom.PhantomSize TINY = new CervicalPhantom.PhantomSize(48, 48, 40, 44);

    @TempDir
    static Path dir;
    static Path data;
    static Path run;
    static Path submission;
    static List<SyntheticDataset.Study> truth;

    record Result(int exit, String out, String err) {
        String lastLine() {
            String[] lines = out.strip().split("\n");
            return lines[lines.length - 1];
        }
    }

    static Result run(Object... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int exit = cmd.execute(Arrays.stream(args).map(String::valueOf).toArray(String[]::new));
        return new Result(exit, out.toString(), err.toString());
    }

    static void assertSucceeded(Result r) {
        assertEquals(0, r.exit(), () -> r.out() + r.err());
    }

    @BeforeAll
    static void writeDataTrainAndPredict() throws IOException {
        data = dir.resolve("data");
        truth = SyntheticDataset.write(data, new SyntheticDataset.Config(5, 2, 11, TINY, FracturePrevalence.RSNA_2022,
                0.25, 0.33));
        run = dir.resolve("run");
        assertSucceeded(run("train", "--data", data, "--model", "custom:0.25:0.25", "--image-size", 32, "--epochs", 2,
                "--batch", 4, "--samples-per-study", 4, "--out", run, "--seed", 3, "--threads", 1));
        submission = dir.resolve("submission.csv");
        assertSucceeded(run("predict", "--checkpoint", run.resolve("best.safetensors"), "--data", data, "--out",
                submission));
    }

    static List<SyntheticDataset.Study> testStudies() {
        return truth.stream().filter(SyntheticDataset.Study::test).toList();
    }

    @Test
    void trainWritesCheckpointsMetricsAndTheSettingsItWasGiven() throws IOException {
        assertTrue(Files.isRegularFile(run.resolve("last.safetensors")));
        assertTrue(Files.isRegularFile(run.resolve("best.safetensors")));
        List<String> metrics = Files.readAllLines(run.resolve("metrics.csv"));
        assertEquals(3, metrics.size(), metrics.toString());
        assertTrue(metrics.get(1).startsWith("1,") && metrics.get(2).startsWith("2,"), metrics.toString());
        TrainConfig config = Trainer.configOf(run.resolve("last.safetensors"));
        assertEquals(config, TrainConfig.fromJson(Files.readString(run.resolve("config.json"))));
        assertEquals("custom:0.25:0.25", config.model());
        assertEquals(List.of(32, 2, 4, 4, 3L), List.of(config.imageSize(), config.epochs(), config.batch(),
                config.samplesPerStudy(), config.seed()));
    }

    @Test
    void predictWritesEightRowsPerTestStudy() throws IOException {
        List<String> lines = Files.readAllLines(submission);
        assertEquals("row_id,fractured", lines.getFirst());
        List<String> expected = new ArrayList<>();
        for (SyntheticDataset.Study study : testStudies()) {
            for (String target : List.of("C1", "C2", "C3", "C4", "C5", "C6", "C7", "patient_overall")) {
                expected.add(study.uid() + "_" + target);
            }
        }
        List<String> ids = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] fields = line.split(",");
            assertEquals(2, fields.length, line);
            ids.add(fields[0]);
            double p = Double.parseDouble(fields[1]);
            assertTrue(p >= 0 && p <= 1, line);
        }
        assertEquals(expected, ids);
    }

    @Test
    void evaluateWritesTheCompetitionLossAndPerTargetLogLossAndAuc() throws IOException {
        Path out = dir.resolve("evaluate");
        Result r = run("evaluate", "--checkpoint", run.resolve("best.safetensors"), "--data", data, "--test", "--out",
                out);
        assertSucceeded(r);
        String json = Files.readString(out.resolve("metrics.json"));
        Matcher loss = Pattern.compile("\"competition_loss\": ([-+.0-9eE]+)").matcher(json);
        assertTrue(loss.find(), json);
        // The same checkpoint on the same studies: evaluate's loss is the score of predict's submission.
        double expected = CompetitionMetric.score(StudyLabels.read(data.resolve("test_labels.csv")),
                Submission.read(submission)).score();
        assertEquals(expected, Double.parseDouble(loss.group(1)), 1e-12);
        for (String target : CompetitionMetric.TARGETS) {
            Matcher m = Pattern.compile("\"" + target
                    + "\": \\{\"log_loss\": ([-+.0-9eE]+), \"auc\": ([-+.0-9eE]+|null)}").matcher(json);
            assertTrue(m.find(), target + " in " + json);
            assertTrue(Double.parseDouble(m.group(1)) >= 0, json);
        }
        assertTrue(r.out().contains("on " + testStudies().size() + " studies"), r.out());
        assertTrue(Files.isRegularFile(out.resolve("roc.png")));
    }

    @Test
    void scorePrintsTheMetricOfTheSameFilesOnItsLastLine() throws IOException {
        Path solution = data.resolve("test_labels.csv");
        Result r = run("score", "--solution", solution, "--submission", submission);
        assertSucceeded(r);
        double expected = CompetitionMetric.score(StudyLabels.read(solution), Submission.read(submission)).score();
        assertEquals(expected, Double.parseDouble(r.lastLine()));
    }

    @Test
    void resumingAFinishedRunChangesNothing() throws IOException {
        Path copy = dir.resolve("finished");
        Files.createDirectories(copy);
        try (var files = Files.list(run)) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        assertSucceeded(run("train", "--resume", copy, "--data", data, "--threads", 1));
        for (String name : List.of("last.safetensors", "best.safetensors", "metrics.csv")) {
            assertEquals(-1, Files.mismatch(run.resolve(name), copy.resolve(name)), name);
        }
    }

    @Test
    void resumingAnInterruptedRunEndsAsTheUninterruptedOne() throws IOException {
        // The first of the two epochs, through the API with the settings train wrote; the second through the command.
        TrainConfig config = TrainConfig.fromJson(Files.readString(run.resolve("config.json")));
        Path partial = dir.resolve("partial");
        Trainer.start(config, TrainerStudies.train(data, config.imageSize(), config.pixelMm(), 1), partial,
                Device.CPU).run(1);
        assertNotEquals(-1, Files.mismatch(run.resolve("last.safetensors"), partial.resolve("last.safetensors")));
        assertSucceeded(run("train", "--resume", partial, "--data", data, "--threads", 1));
        // Weights, optimiser state, generator states and the fitted calibration, bit for bit.
        assertEquals(-1, Files.mismatch(run.resolve("last.safetensors"), partial.resolve("last.safetensors")));
        assertEquals(Files.readAllLines(run.resolve("metrics.csv")).size(),
                Files.readAllLines(partial.resolve("metrics.csv")).size());
    }

    @Test
    void everyTrainerCommandHasHelp() {
        for (String command : List.of("train", "evaluate", "predict", "score", "prepare", "demo")) {
            Result r = run(command, "--help");
            assertSucceeded(r);
            assertTrue(r.out().startsWith("Usage: vertebra " + command), r.out());
        }
        for (String command : List.of("train", "evaluate", "predict")) {
            Result r = run(command, "--help");
            assertTrue(r.out().contains("--data") && r.out().contains("--cache"), r.out());
        }
    }

    @Test
    void trainOnAFolderThatIsNoDatasetSaysSo() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Result r = run("train", "--data", empty, "--out", dir.resolve("nothing"));
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains(empty + " is not a dataset") && r.err().contains("train.csv"), r.err());
        assertFalse(r.err().contains("\tat "), "a message, not a stack trace: " + r.err());

        Path missing = dir.resolve("missing");
        r = run("train", "--data", missing);
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains(missing.toString()), r.err());
    }

    @Test
    void aMissingCheckpointOrRunIsNamed() {
        Path missing = dir.resolve("no-such.safetensors");
        for (String command : List.of("predict", "evaluate")) {
            Result r = run(command, "--checkpoint", missing, "--data", data, "--out", dir.resolve(command + "-x"));
            assertNotEquals(0, r.exit());
            assertTrue(r.err().contains(missing.toString()), r.err());
        }
        Path noRun = dir.resolve("no-run");
        Result r = run("train", "--resume", noRun, "--data", data);
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains(noRun + " holds no last.safetensors"), r.err());
    }

    @Test
    void badSettingsAreRefusedWithAMessage() {
        Result r = run("train", "--data", data, "--image-size", 16, "--out", dir.resolve("small"));
        assertNotEquals(0, r.exit());
        assertTrue(r.err().startsWith("vertebra train: bad training settings"), r.err());
    }

    @Test
    void anUnusableDeviceFailsBeforeAnyDataIsWritten() {
        Path fresh = dir.resolve("never-written");
        Result r = run("demo", "--device", "tpu:0", "--data", fresh, "--out", dir.resolve("never-run"));
        assertNotEquals(0, r.exit());
        assertTrue(r.err().startsWith("vertebra demo: ") && r.err().contains("tpu:0"), r.err());
        assertFalse(Files.exists(fresh), "the synthetic dataset was not written");
        Result t = run("train", "--data", data, "--device", "tpu:0", "--out", dir.resolve("never-trained"));
        assertNotEquals(0, t.exit());
        assertTrue(t.err().startsWith("vertebra train: ") && t.err().contains("tpu:0"), t.err());
    }

    static void assertSameStudies(List<StudySlices> expected, List<StudySlices> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            StudySlices e = expected.get(i);
            StudySlices a = actual.get(i);
            assertEquals(List.of(e.uid(), e.slices(), e.size()), List.of(a.uid(), a.slices(), a.size()));
            assertArrayEquals(e.pixels(), a.pixels(), e.uid());
            assertArrayEquals(e.visible(), a.visible(), e.uid());
            assertArrayEquals(e.boxed(), a.boxed(), e.uid());
            assertArrayEquals(e.labels(), a.labels(), e.uid());
        }
    }

    @Test
    void studiesReadFromThePreparedCacheAreTheDecodedOnes() throws IOException {
        Path cache = dir.resolve("cache");
        assertSucceeded(run("prepare", "--data", data, "--cache", cache, "--threads", 1));
        List<StudySlices> decoded = TrainerStudies.train(data, 32, 0.8, 1);
        assertSameStudies(decoded, TrainerStudies.train(data, cache, 32, 0.8, 1));
        assertSameStudies(TrainerStudies.test(data, 32, 0.8, 1), TrainerStudies.test(data, cache, 32, 0.8, 1));

        // The cache is what is read: a changed entry changes that study, and only that one.
        String uid = decoded.get(1).uid();
        PreparedStudy p = VolumeCache.read(cache, uid);
        short[] brighter = p.hu().clone();
        for (int i = 0; i < brighter.length; i++) {
            brighter[i] += 200;
        }
        VolumeCache.write(cache, new PreparedStudy(uid, p.slices(), p.rows(), p.cols(), brighter, p.spacing(),
                p.instanceNumbers(), p.visible(), p.boxed(), p.fractured(), p.labelled()));
        List<StudySlices> changed = TrainerStudies.train(data, cache, 32, 0.8, 1);
        assertFalse(Arrays.equals(decoded.get(1).pixels(), changed.get(1).pixels()));
        assertSameStudies(List.of(decoded.get(0)), List.of(changed.get(0)));
    }

    @Test
    void predictFromACacheThatLacksAStudyDecodesThatOne() throws IOException {
        Path cache = dir.resolve("partial-cache");
        assertSucceeded(run("prepare", "--data", data, "--cache", cache, "--threads", 1));
        Files.delete(cache.resolve(testStudies().getFirst().uid() + ".json"));
        Path out = dir.resolve("submission-from-cache.csv");
        assertSucceeded(run("predict", "--checkpoint", run.resolve("best.safetensors"), "--data", data, "--cache",
                cache, "--out", out));
        assertEquals(-1, Files.mismatch(submission, out));
    }

    @Test
    void aCacheMadeOtherwiseIsRefused() throws IOException {
        Path resized = dir.resolve("resized-cache");
        assertSucceeded(run("prepare", "--data", data, "--cache", resized, "--size", "20,32,32", "--threads", 1));
        Result r = run("predict", "--checkpoint", run.resolve("best.safetensors"), "--data", data, "--cache", resized,
                "--out", dir.resolve("never.csv"));
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains(resized.toString()) && r.err().contains("native grid"), r.err());
        assertFalse(Files.exists(dir.resolve("never.csv")));

        r = run("prepare", "--data", data, "--cache", resized);
        assertNotEquals(0, r.exit(), "studies made two ways in one cache");
        assertTrue(r.err().contains("resized to 20×32×32"), r.err());

        Path notACache = Files.createDirectories(dir.resolve("not-a-cache"));
        r = run("train", "--data", data, "--cache", notACache, "--out", dir.resolve("never"));
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains(notACache + " is not a volume cache"), r.err());
    }
}
