package dev.vertebra.examples.trainer;

import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Precision;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.core.io.Safetensors;
import dev.vertebra.nn.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {

    @TempDir
    Path tmp;

    /** Small studies with known truth: random pixels, C(k) visible on a band of slices, one fractured vertebra. */
    static List<StudySlices> studies(int n, int size, long seed) {
        Generator g = new Generator(seed);
        List<StudySlices> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int slices = 14;
            float[] pixels = new float[slices * size * size];
            for (int j = 0; j < pixels.length; j++) {
                pixels[j] = (float) g.nextDouble();
            }
            boolean[][] visible = new boolean[slices][7];
            for (int s = 0; s < slices; s++) {
                visible[s][Math.min(6, s / 2)] = true;
            }
            int[] labels = new int[8];
            if (i % 2 == 0) {
                labels[i % 7] = 1;
                labels[7] = 1;
            }
            out.add(new StudySlices("1.2.3." + i, slices, size, pixels, visible, null, labels));
        }
        return out;
    }

    static TrainConfig tiny(int epochs) {
        return new TrainConfig("custom:0.25:0.25", 32, 1.0, 3, epochs, 4, 1e-2, 1e-4, 4, 0.25, Pooling.TOPK_MEAN, 2,
                7);
    }

    static Map<String, Tensor> weights(Trainer t) {
        return t.model().net().stateDict();
    }

    @Test
    void resumedRunEndsWithTheSameWeightsAsAnUninterruptedOne() throws IOException {
        List<StudySlices> data = studies(6, 32, 3);
        // On the fast CPU backend, whose kernels round the same whatever the JIT has compiled so far: the three runs
        // start at different points of the JVM's warm-up and must still agree bit for bit.
        Trainer again = Trainer.start(tiny(3), data, tmp.resolve("again"), Device.CPU);
        again.run(3);
        Trainer whole = Trainer.start(tiny(3), data, tmp.resolve("whole"), Device.CPU);
        whole.run(3);

        Trainer interrupted = Trainer.start(tiny(3), data, tmp.resolve("split"), Device.CPU);
        interrupted.run(1);
        Trainer resumed = Trainer.resume(tmp.resolve("split"), data, Device.CPU);
        resumed.run(3);

        Map<String, Tensor> a = weights(whole);
        Map<String, Tensor> b = weights(resumed);
        assertEquals(a.keySet(), b.keySet());
        a.forEach((name, t) -> assertArrayEquals(t.toFloatArray(), b.get(name).toFloatArray(), name));
        Map<String, Tensor> c = weights(again);
        a.forEach((name, t) -> assertArrayEquals(t.toFloatArray(), c.get(name).toFloatArray(), "same seed: " + name));
        for (int e = 0; e < 3; e++) {
            assertEquals(whole.history().get(e).trainLoss(), resumed.history().get(e).trainLoss(), 1e-5);
            assertEquals(whole.history().get(e).valLoss(), resumed.history().get(e).valLoss(), 1e-5);
        }
        List<String> metrics = Files.readAllLines(tmp.resolve("split").resolve("metrics.csv"));
        assertEquals(4, metrics.size(), metrics.toString());
        // best.safetensors is the epoch whose validation loss, averaged with its neighbours', is the lowest.
        double[] v = whole.history().stream().mapToDouble(Trainer.Epoch::valLoss).toArray();
        double[] window = {(v[0] + v[1]) / 2, (v[0] + v[1] + v[2]) / 3, (v[1] + v[2]) / 2};
        int bestEpoch = 1;
        for (int e = 2; e <= 3; e++) {
            bestEpoch = window[e - 1] < window[bestEpoch - 1] ? e : bestEpoch;
        }
        for (String run : List.of("whole", "split")) {
            Path best = tmp.resolve(run).resolve("best.safetensors");
            assertEquals(Integer.toString(bestEpoch), Safetensors.read(best).metadata().get("epoch"), run);
            try (var pending = Files.list(tmp.resolve(run))) {
                assertEquals(List.of(), pending.map(f -> f.getFileName().toString())
                        .filter(f -> f.startsWith("pending")).toList(), "every epoch judged");
            }
        }
        // Training moved the weights away from their initial draw.
        Trainer fresh = Trainer.start(tiny(3), data, tmp.resolve("fresh"), Device.CPU);
        assertFalse(java.util.Arrays.equals(weights(fresh).get("classifier.1.weight").toFloatArray(),
                a.get("classifier.1.weight").toFloatArray()));
    }

    @Test
    void bestEpochIsJudgedOnItsNeighboursToo() {
        // Epoch 3 alone scores best, as an epoch whose calibration over-fits the validation studies does.
        double[] losses = {0.5, 0.3, 0.04, 0.3, 0.2, 0.1};
        List<Trainer.Epoch> history = new ArrayList<>();
        for (int e = 1; e <= losses.length; e++) {
            history.add(new Trainer.Epoch(e, 1, 1, losses[e - 1], 1e-3, 1));
        }
        assertEquals(0.4, Trainer.windowLoss(history, 1, 6), 1e-12, "the first epoch has one neighbour");
        assertEquals(0.64 / 3, Trainer.windowLoss(history, 3, 6), 1e-12);
        assertEquals(0.18, Trainer.windowLoss(history, 4, 6), 1e-12);
        assertEquals(0.15, Trainer.windowLoss(history, 6, 6), 1e-12, "the final epoch has one neighbour");
        assertEquals(0.25, Trainer.windowLoss(history, 5, 5), 1e-12, "epochs past the run's end do not count");
        history.set(3, new Trainer.Epoch(4, 1, 1, Double.NaN, 1e-3, 1));
        assertEquals(Double.POSITIVE_INFINITY, Trainer.windowLoss(history, 5, 6), "no validation is the worst");
    }

    /** The study at {@code index} with its segmentation kept but no vertebra on any slice. */
    static List<StudySlices> blind(List<StudySlices> studies, int index) {
        List<StudySlices> out = new ArrayList<>(studies);
        StudySlices st = out.get(index);
        out.set(index, new StudySlices(st.uid(), st.slices(), st.size(), st.pixels(), new boolean[st.slices()][7],
                st.boxed(), st.labels()));
        return out;
    }

    @Test
    void aStudyThatShowsNoVertebraGivesNoDrawsAndNoSteps() throws IOException {
        // Four training studies (none held out), four draws each, batches of four: counting the blind study as well
        // would ask for a fourth batch, and its draws would be missing.
        TrainConfig config = new TrainConfig("custom:0.25:0.25", 32, 1.0, 3, 1, 4, 1e-2, 1e-4, 4, 0,
                Pooling.TOPK_MEAN, 2, 7);
        List<StudySlices> seeing = studies(3, 32, 3);
        List<StudySlices> data = blind(studies(4, 32, 3), 1);
        Trainer trainer = Trainer.start(config, data, tmp.resolve("blind"), Device.CPU);
        assertEquals(Trainer.start(config, seeing, tmp.resolve("seeing"), Device.CPU).stepsPerEpoch(),
                trainer.stepsPerEpoch());
        trainer.run(1);
        assertTrue(Double.isFinite(trainer.history().getFirst().trainLoss()), trainer.history().toString());

        var e = assertThrows(IllegalArgumentException.class, () -> Trainer.start(config,
                blind(blind(studies(2, 32, 3), 0), 1), tmp.resolve("none"), Device.CPU));
        assertTrue(e.getMessage().contains("shows a vertebra"), e.getMessage());
    }

    @Test
    void splitIsByStudyAndSeeded() {
        List<StudySlices> data = studies(10, 32, 1);
        List<List<StudySlices>> a = Trainer.split(data, 0.2, 5);
        assertEquals(2, a.get(1).size());
        assertEquals(8, a.get(0).size());
        assertEquals(a, Trainer.split(data, 0.2, 5));
        assertTrue(a.get(0).stream().noneMatch(a.get(1)::contains));
    }

    @Test
    void multipleInstanceTargets() {
        boolean[][] visible = new boolean[3][7];
        visible[0][1] = true;
        visible[1][1] = true;
        visible[1][2] = true;
        int[] labels = {0, 1, 0, 0, 0, 0, 0, 1};
        StudySlices st = new StudySlices("u", 3, 32, new float[3 * 32 * 32], visible, null, labels);
        assertArrayEquals(new float[] {0, 1, 0, 0, 0, 0, 0, 1}, st.targets(0));
        assertArrayEquals(new float[] {0, 1, 1, 0, 0, 0, 0, 1}, st.targets(1));
        assertFalse(st.positive(2));
        StudySlices boxed = new StudySlices("u", 3, 32, new float[3 * 32 * 32], visible,
                new boolean[] {false, true, false}, labels);
        assertFalse(boxed.positive(0));
        assertTrue(boxed.positive(1));
    }

    @Test
    void unknownTargetsOfStudiesWithoutASegmentationStayOutOfTheLoss() throws IOException {
        int[] fractured = {0, 1, 0, 0, 0, 0, 0, 1};
        int[] healthy = new int[8];
        float[] px = new float[3 * 32 * 32];
        StudySlices bare = new StudySlices("u", 3, 32, px, null, null, fractured);
        assertArrayEquals(new float[8], bare.weights(1), "a fractured study with neither mask nor boxes: all unknown");
        StudySlices healthyBare = new StudySlices("h", 3, 32, px, null, null, healthy);
        assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 0, 1}, healthyBare.weights(1), "no fracture anywhere");
        assertEquals(0, healthyBare.targets(1)[FractureModel.FRACTURE]);
        StudySlices boxedBare = new StudySlices("b", 3, 32, px, null, new boolean[] {false, true, false}, fractured);
        assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 0, 1}, boxedBare.weights(0), "boxes say where");
        assertEquals(1, boxedBare.targets(1)[FractureModel.FRACTURE]);
        assertEquals(0, boxedBare.targets(0)[FractureModel.FRACTURE]);
        assertFalse(boxedBare.fullyLabelled());
        assertTrue(studies(1, 32, 1).getFirst().fullyLabelled());

        // A run mixing segmented studies with bare ones trains (the masked loss) and ends with finite weights.
        List<StudySlices> mixed = new ArrayList<>(studies(4, 32, 5));
        for (StudySlices st : studies(4, 32, 6)) {
            mixed.add(new StudySlices(st.uid() + ".9", st.slices(), st.size(), st.pixels(), null, null, st.labels()));
        }
        Trainer t = Trainer.start(tiny(1), mixed, tmp.resolve("mixed"), Device.CPU);
        t.run(1);
        assertTrue(Double.isFinite(t.history().getFirst().trainLoss()));
        weights(t).forEach((k, v) -> {
            for (float f : v.toFloatArray()) {
                assertTrue(Float.isFinite(f), k);
            }
        });
    }

    @Test
    void pooling() {
        double[] q = {0.1, 0.9, 0.5, 0.2};
        assertEquals(0.9, Pooling.MAX.pool(q, 3), 1e-12);
        assertEquals(0.7, Pooling.TOPK_MEAN.pool(q, 2), 1e-12);
        assertEquals(1 - 0.9 * 0.1 * 0.5 * 0.8, Pooling.NOISY_OR.pool(q, 3), 1e-12);
        assertEquals(1 - 0.5 * 0.5, Pooling.overall(new double[] {0.5, 0.5, 0, 0, 0, 0, 0, 0.99}), 1e-12);
    }

    @Test
    void configRoundTripsThroughJson() {
        TrainConfig c = tiny(5);
        assertEquals(c, TrainConfig.fromJson(c.toJson()));
        TrainConfig half = withPrecision(c, Precision.FP16);
        assertTrue(half.toJson().contains("\"precision\": \"fp16\""), half.toJson());
        assertEquals(half, TrainConfig.fromJson(half.toJson()));
        TrainConfig averaged = c.withEmaDecay(0.995);
        assertTrue(averaged.toJson().contains("\"emaDecay\": 0.995"), averaged.toJson());
        assertEquals(averaged, TrainConfig.fromJson(averaged.toJson()));
    }

    @Test
    void configsSavedBeforePrecisionExistedAreFp32() {
        String old = "{\"model\": \"b0\", \"imageSize\": 64, \"pixelMm\": 0.8, \"slices\": 3, \"epochs\": 8, "
                + "\"batch\": 32, \"lr\": 0.003, \"weightDecay\": 1.0E-4, \"samplesPerStudy\": 24, "
                + "\"valFraction\": 0.2, \"pooling\": \"TOPK_MEAN\", \"topK\": 3, \"seed\": 1}";
        assertEquals(Precision.FP32, TrainConfig.fromJson(old).precision());
        assertEquals(0, TrainConfig.fromJson(old).emaDecay());
    }

    static TrainConfig withPrecision(TrainConfig c, Precision p) {
        return new TrainConfig(c.model(), c.imageSize(), c.pixelMm(), c.slices(), c.epochs(), c.batch(), c.lr(),
                c.weightDecay(), c.samplesPerStudy(), c.valFraction(), c.pooling(), c.topK(), c.seed(), p);
    }

    @Test
    void float16RunsResumeExactlyScalerIncluded() throws IOException {
        List<StudySlices> data = studies(4, 32, 5);
        TrainConfig config = withPrecision(tiny(2), Precision.FP16);
        Trainer whole = Trainer.start(config, data, tmp.resolve("fp16-whole"), Device.CPU);
        whole.run(2);
        Trainer interrupted = Trainer.start(config, data, tmp.resolve("fp16-split"), Device.CPU);
        interrupted.run(1);
        Trainer resumed = Trainer.resume(tmp.resolve("fp16-split"), data, Device.CPU);
        resumed.run(2);
        Map<String, Tensor> a = weights(whole);
        Map<String, Tensor> b = weights(resumed);
        a.forEach((name, t) -> assertArrayEquals(t.toFloatArray(), b.get(name).toFloatArray(), name));
        Map<String, HostArray> scalerA = scalerState(tmp.resolve("fp16-whole"));
        assertEquals(Set.of("scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"),
                scalerA.keySet());
        assertEquals(scalerA, scalerState(tmp.resolve("fp16-split")));
        // Two epochs of two steps each: every step counted, none or some skipped, but the scale is a power of two.
        double scale = ((double[]) scalerA.get("scale").data())[0];
        assertEquals(0, Math.getExponent(scale) - Math.log(scale) / Math.log(2), 1e-12);
        for (Trainer.Epoch e : whole.history()) {
            assertTrue(Double.isFinite(e.trainLoss()), "finite training loss " + e);
        }
    }

    @Test
    void weightAverageRunsResumeExactlyAndBestHoldsTheAverage() throws IOException {
        List<StudySlices> data = studies(6, 32, 3);
        TrainConfig config = tiny(2).withEmaDecay(0.9);
        Trainer whole = Trainer.start(config, data, tmp.resolve("ema-whole"), Device.CPU);
        whole.run(2);
        Trainer interrupted = Trainer.start(config, data, tmp.resolve("ema-split"), Device.CPU);
        interrupted.run(1);

        // After one epoch of two, that epoch waits for the next to be judged: its pending checkpoint holds the
        // average, as best.safetensors will, and last.safetensors the live weights with the average beside them.
        Path split = tmp.resolve("ema-split");
        assertFalse(Files.exists(split.resolve("best.safetensors")), "judged only once epoch 2 is validated");
        Map<String, HostArray> last = Safetensors.read(split.resolve("last.safetensors")).tensors();
        Map<String, HostArray> best = Safetensors.read(split.resolve("pending-1.safetensors")).tensors();
        Map<String, Tensor> live = weights(interrupted);
        assertEquals(live.keySet(), prefixed(best, "").keySet());
        live.forEach((name, t) -> {
            assertArrayEquals(t.toFloatArray(), Tensor.fromHost(last.get(name), Device.CPU).toFloatArray(), name);
            assertArrayEquals(Tensor.fromHost(last.get(Checkpoint.EMA_PREFIX + name), Device.CPU).toFloatArray(),
                    Tensor.fromHost(best.get(name), Device.CPU).toFloatArray(), name);
        });
        String w = "classifier.1.weight";
        assertFalse(java.util.Arrays.equals(live.get(w).toFloatArray(),
                Tensor.fromHost(best.get(w), Device.CPU).toFloatArray()), "the average is not the live weights");

        Trainer resumed = Trainer.resume(tmp.resolve("ema-split"), data, Device.CPU);
        resumed.run(2);
        // Over two epochs both windows are the mean of the two losses: the tie goes to epoch 1, whose pending
        // checkpoint became best.safetensors as it was.
        Map<String, HostArray> judged = Safetensors.read(split.resolve("best.safetensors")).tensors();
        best.forEach((name, t) -> assertArrayEquals(Tensor.fromHost(t, Device.CPU).toFloatArray(),
                Tensor.fromHost(judged.get(name), Device.CPU).toFloatArray(), name));
        assertFalse(Files.exists(split.resolve("pending-1.safetensors")));
        assertFalse(Files.exists(split.resolve("pending-2.safetensors")));
        Map<String, Tensor> a = weights(whole);
        Map<String, Tensor> b = weights(resumed);
        a.forEach((name, t) -> assertArrayEquals(t.toFloatArray(), b.get(name).toFloatArray(), name));
        // Validation scores the average, so equal losses after the resume need the average restored too.
        for (int e = 0; e < 2; e++) {
            assertEquals(whole.history().get(e).valLoss(), resumed.history().get(e).valLoss(), 0.0);
        }
        Map<String, HostArray> averageA = prefixed(Safetensors.read(tmp.resolve("ema-whole").resolve(
                "last.safetensors")).tensors(), Checkpoint.EMA_PREFIX);
        Map<String, HostArray> averageB = prefixed(Safetensors.read(tmp.resolve("ema-split").resolve(
                "last.safetensors")).tensors(), Checkpoint.EMA_PREFIX);
        assertEquals(a.keySet(), averageA.keySet());
        averageA.forEach((name, t) -> assertArrayEquals(Tensor.fromHost(t, Device.CPU).toFloatArray(),
                Tensor.fromHost(averageB.get(name), Device.CPU).toFloatArray(), name));
    }

    /** The entries under {@code prefix}, without it; with "" the unprefixed ones (the model's weights). */
    private static Map<String, HostArray> prefixed(Map<String, HostArray> tensors, String prefix) {
        Map<String, HostArray> out = new java.util.TreeMap<>();
        tensors.forEach((k, v) -> {
            if (prefix.isEmpty() ? !k.startsWith("__") : k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    private static Map<String, HostArray> scalerState(Path run) throws IOException {
        return prefixed(Safetensors.read(run.resolve("last.safetensors")).tensors(), Checkpoint.SCALER_PREFIX);
    }
}
