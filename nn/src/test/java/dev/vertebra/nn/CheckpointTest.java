package dev.vertebra.nn;

import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.core.io.Safetensors;
import dev.vertebra.core.io.TensorFormatException;
import dev.vertebra.nn.optim.Adam;
import dev.vertebra.nn.optim.Optimizer;
import dev.vertebra.nn.optim.ParamGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointTest {

    @TempDir
    Path dir;

    private static Sequential mlp(Generator gen) {
        return new Sequential(new Linear(4, 6, true, gen), new ReLU(), new Linear(6, 2, true, gen));
    }

    private static void trainStep(Module model, Optimizer opt) {
        Tensor x = Tensor.of(new float[]{1, 2, 3, 4, -1, 0.5f, 2, -2}, 2, 4);
        Tensor y = Tensor.of(new float[]{1, 0, 0, 1}, 2, 2);
        opt.zeroGrad();
        Losses.weightedBceWithLogits(model.forward(x), y, null, null, Reduction.MEAN).backward();
        opt.step();
    }

    @Test
    void resumingReproducesUninterruptedTraining() throws IOException {
        Sequential a = mlp(new Generator(1));
        Optimizer optA = new Adam(List.of(ParamGroup.of(a.parameters(), 0.01, 0)), 0.9, 0.999, 1e-8);
        Generator genA = new Generator(5);
        trainStep(a, optA);
        trainStep(a, optA);
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, a, optA, new Checkpoint.Info(3, 2, "{\"model\":\"mlp\"}"), Map.of("data", genA));
        long expectedDraw = genA.nextLong();
        trainStep(a, optA);

        Sequential b = mlp(new Generator(99));
        Optimizer optB = new Adam(List.of(ParamGroup.of(b.parameters(), 0.5, 0)), 0.9, 0.999, 1e-8);
        Generator genB = new Generator(0);
        Checkpoint.Info info = Checkpoint.load(file, b, optB, Map.of("data", genB));
        assertEquals(new Checkpoint.Info(3, 2, "{\"model\":\"mlp\"}"), info);
        assertEquals(0.01, optB.groups().getFirst().lr(), 1e-12);
        assertEquals(expectedDraw, genB.nextLong());
        trainStep(b, optB);
        SequencedMap<String, Tensor> sa = a.stateDict();
        b.stateDict().forEach((k, v) -> assertArrayEquals(sa.get(k).toFloatArray(), v.toFloatArray(), 0f, k));
    }

    @Test
    void theSameStateMakesTheSameFileWhateverTheGeneratorMapsOrder() throws IOException {
        Sequential a = mlp(new Generator(1));
        Checkpoint.Info info = new Checkpoint.Info(1, 1, "{}");
        SequencedMap<String, Generator> forward = new LinkedHashMap<>();
        SequencedMap<String, Generator> backward = new LinkedHashMap<>();
        for (String name : List.of("augment", "data", "model")) {
            forward.put(name, new Generator(name.length()));
            backward.putFirst(name, new Generator(name.length()));
        }
        Path first = dir.resolve("first.safetensors");
        Path second = dir.resolve("second.safetensors");
        Checkpoint.save(first, a, null, info, forward);
        Checkpoint.save(second, a, null, info, backward);
        assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(second));
    }

    private static Sequential withDropout(Generator gen) {
        return new Sequential(new Linear(4, 6, true, gen), new Dropout(0.5, gen.split()), new ReLU(),
                new DropPath(0.5, gen.split()), new Linear(6, 2, true, gen));
    }

    @Test
    void dropoutAndDropPathMasksResumeWhereTheyStopped() throws IOException {
        Sequential a = withDropout(new Generator(1));
        assertEquals(List.of("1", "3"), List.copyOf(a.namedGenerators().keySet()));
        Optimizer optA = new Adam(List.of(ParamGroup.of(a.parameters(), 0.01, 0)), 0.9, 0.999, 1e-8);
        a.train();
        trainStep(a, optA);
        Path file = dir.resolve("dropout.safetensors");
        Checkpoint.save(file, a, optA, new Checkpoint.Info(1, 1, "{}"), Map.of());
        trainStep(a, optA);
        trainStep(a, optA);

        Sequential b = withDropout(new Generator(1));   // same weights at first, generators at their start
        Optimizer optB = new Adam(List.of(ParamGroup.of(b.parameters(), 0.01, 0)), 0.9, 0.999, 1e-8);
        b.train();
        Checkpoint.load(file, b, optB, Map.of());
        trainStep(b, optB);
        trainStep(b, optB);
        SequencedMap<String, Tensor> sa = a.stateDict();
        b.stateDict().forEach((k, v) -> assertArrayEquals(sa.get(k).toFloatArray(), v.toFloatArray(), 0f, k));

        // Without the masks' generators restored the run goes elsewhere: the test above can fail.
        Sequential c = withDropout(new Generator(1));
        Optimizer optC = new Adam(List.of(ParamGroup.of(c.parameters(), 0.01, 0)), 0.9, 0.999, 1e-8);
        c.train();
        Checkpoint.load(file, c, optC, Map.of());
        c.namedGenerators().values().forEach(g -> g.setState(new Generator(77).state()));
        trainStep(c, optC);
        trainStep(c, optC);
        boolean differs = false;
        for (var e : c.stateDict().entrySet()) {
            differs |= !Arrays.equals(sa.get(e.getKey()).toFloatArray(), e.getValue().toFloatArray());
        }
        assertTrue(differs, "other masks give other weights");
    }

    @Test
    void anotherArchitectureIsRefusedWithItsKeysAndNothingChanges() throws IOException {
        Sequential a = mlp(new Generator(1));
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, a, null, new Checkpoint.Info(0, 0, "{}"), Map.of());
        Sequential other = new Sequential(new Linear(4, 6, true, new Generator(2)), new ReLU(),
                new Linear(6, 3, true, new Generator(2)), new Linear(3, 1, false, new Generator(2)));
        SequencedMap<String, Tensor> before = other.stateDict();
        StateDictException e = assertThrows(StateDictException.class,
                () -> Checkpoint.load(file, other, null, Map.of()));
        assertEquals(List.of("3.weight"), e.report().missing());
        assertEquals(2, e.report().mismatched().size());
        assertTrue(e.getMessage().contains("2.weight"), e.getMessage());
        ModuleTest.assertUnchanged(before, other);
    }

    @Test
    void truncatedFileIsATypedErrorAndNothingChanges() throws IOException {
        Sequential a = mlp(new Generator(1));
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, a, null, new Checkpoint.Info(0, 0, "{}"), Map.of());
        byte[] bytes = Files.readAllBytes(file);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 10));
        Sequential b = mlp(new Generator(2));
        SequencedMap<String, Tensor> before = b.stateDict();
        assertThrows(TensorFormatException.class, () -> Checkpoint.load(cut, b, null, Map.of()));
        assertThrows(TensorFormatException.class, () -> Checkpoint.loadWeights(cut, b, true));
        ModuleTest.assertUnchanged(before, b);
    }

    @Test
    void badOptimizerStateOrMissingGeneratorLeavesModelUntouched() throws IOException {
        Sequential a = mlp(new Generator(1));
        Optimizer optA = new Adam(List.of(ParamGroup.of(a.parameters(), 0.01, 0)), 0.9, 0.999, 1e-8);
        trainStep(a, optA);
        Path file = dir.resolve("ckpt.safetensors");
        Checkpoint.save(file, a, optA, new Checkpoint.Info(1, 1, "{}"), Map.of());

        Sequential b = mlp(new Generator(2));
        SequencedMap<String, Tensor> before = b.stateDict();
        Optimizer wrongParams = new Adam(List.of(ParamGroup.of(b.parameters().subList(0, 2), 0.01, 0)), 0.9,
                0.999, 1e-8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoint.load(file, b, wrongParams, Map.of()));
        assertTrue(e.getMessage().contains("state.2"), e.getMessage());
        ModuleTest.assertUnchanged(before, b);

        Generator gen = new Generator(3);
        long[] genBefore = gen.state();
        e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(file, b, null, Map.of("aug", gen)));
        assertTrue(e.getMessage().contains("'aug'"), e.getMessage());
        ModuleTest.assertUnchanged(before, b);
        assertArrayEquals(genBefore, gen.state());
    }

    @Test
    void plainWeightFileIsNotACheckpoint() throws IOException {
        Sequential a = mlp(new Generator(1));
        Path file = dir.resolve("weights.safetensors");
        Checkpoint.saveWeights(file, a);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoint.load(file, a, null, Map.of()));
        assertTrue(e.getMessage().contains("not a Vertebra checkpoint"));
        assertTrue(Checkpoint.loadWeights(file, mlp(new Generator(4)), true).isClean());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary files left behind");
        }
    }

    /** A convolution (stored OIHW, held HWIO) and a batch norm (running statistics, an integer counter). */
    private static Sequential convNet(Generator gen) {
        return new Sequential(new Conv2d(2, 3, 3, gen), new BatchNorm2d(3));
    }

    /** Moves every floating-point parameter and buffer of {@code m} by an amount that depends on {@code k}. */
    private static void nudge(Module m, int k) {
        try (NoGrad _ = NoGrad.enter()) {
            m.namedParameters().values().forEach(p -> p.data().assign(p.data().add(0.25 * k)));
            m.namedBuffers().values().forEach(b -> {
                if (b.data().dtype().isFloating()) {
                    b.data().assign(b.data().mul(1 + 0.5 * k));
                }
            });
        }
    }

    @Test
    void weightAverageResumesWhereItStopped() throws IOException {
        Sequential a = convNet(new Generator(1));
        ModelEma emaA = new ModelEma(a, 0.9, true);
        nudge(a, 1);
        emaA.update(a);
        nudge(a, 2);
        emaA.update(a);
        Path file = dir.resolve("ema.safetensors");
        Checkpoint.save(file, a, null, null, emaA, new Checkpoint.Info(1, 2, "{}"), Map.of());
        SequencedMap<String, Tensor> savedWeights = a.stateDict();
        nudge(a, 3);
        emaA.update(a);

        Sequential b = convNet(new Generator(2));
        ModelEma emaB = new ModelEma(b, 0.9, true);
        Checkpoint.load(file, b, null, null, emaB, Map.of());
        assertEquals(2, emaB.updates());
        nudge(b, 3);
        emaB.update(b);
        SequencedMap<String, Tensor> expected = emaA.stateDict(a);
        assertSameEntries(expected, emaB.stateDict(b));
        // The average is not the weights, so the check above tells the two apart.
        assertFalse(Arrays.equals(a.stateDict().get("0.weight").toFloatArray(),
                expected.get("0.weight").toFloatArray()));

        // The file's unprefixed entries are the live weights (what PyTorch and loadWeights read), not the average.
        Sequential c = convNet(new Generator(3));
        assertTrue(Checkpoint.loadWeights(file, c, true).isClean());
        c.stateDict().forEach((k, v) ->
                assertArrayEquals(savedWeights.get(k).toFloatArray(), v.toFloatArray(), 0f, k));
    }

    @Test
    void missingOrMisshapenWeightAverageIsRefusedAndNothingChanges() throws IOException {
        Sequential a = convNet(new Generator(1));
        Path plain = dir.resolve("plain.safetensors");
        Checkpoint.save(plain, a, null, new Checkpoint.Info(0, 0, "{}"), Map.of());
        Sequential b = convNet(new Generator(2));
        ModelEma emaB = new ModelEma(b, 0.9, true);
        SequencedMap<String, Tensor> before = b.stateDict();
        SequencedMap<String, Tensor> averageBefore = emaB.stateDict(b);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoint.load(plain, b, null, null, emaB, Map.of()));
        assertTrue(e.getMessage().contains("no weight average"), e.getMessage());
        ModuleTest.assertUnchanged(before, b);
        assertSameEntries(averageBefore, emaB.stateDict(b));

        // The same checkpoint with one averaged entry transposed: refused before the weights are touched.
        Path good = dir.resolve("good.safetensors");
        Checkpoint.save(good, a, null, null, new ModelEma(a, 0.9, true), new Checkpoint.Info(0, 0, "{}"), Map.of());
        Safetensors.Contents contents = Safetensors.read(good);
        SequencedMap<String, HostArray> tensors = new LinkedHashMap<>(contents.tensors());
        String key = Checkpoint.EMA_PREFIX + "0.weight";
        tensors.put(key, Tensor.fromHost(tensors.get(key), Device.CPU).permute(1, 0, 2, 3).contiguous().toHost());
        Path bad = dir.resolve("bad.safetensors");
        Safetensors.write(bad, tensors, contents.metadata());
        e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(bad, b, null, null, emaB, Map.of()));
        assertTrue(e.getMessage().contains("'0.weight'"), e.getMessage());
        ModuleTest.assertUnchanged(before, b);
        assertSameEntries(averageBefore, emaB.stateDict(b));
        assertEquals(0, emaB.updates());
    }

    private static void assertSameEntries(Map<String, Tensor> expected, Map<String, Tensor> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((k, v) -> assertArrayEquals(v.toDoubleArray(), actual.get(k).toDoubleArray(), 0.0, k));
    }
}
