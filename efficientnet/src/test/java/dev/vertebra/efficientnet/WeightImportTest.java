package dev.vertebra.efficientnet;

import dev.vertebra.core.Generator;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.TensorFormatException;
import dev.vertebra.nn.StateDictException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SequencedMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Weight files: timm names, input-channel adaptation, and refusal of files that do not fit. */
class WeightImportTest {

    private static final EfficientNetConfig SMALL_B0 = EfficientNetConfig.custom(0.25, 0.5, 72, 0).withClasses(8);

    private static SequencedMap<String, Tensor> torchvisionState() {
        return GoldenFiles.read("small_b0.safetensors");
    }

    @Test
    void timmNamesFollowTimmsScheme() {
        SequencedMap<String, Tensor> timm = EfficientNetWeights.toTimm(torchvisionState(), SMALL_B0);
        // The first stage's blocks are timm's DepthwiseSeparable: conv_dw, bn1, se, conv_pw, bn2.
        for (String key : new String[]{"conv_stem.weight", "bn1.running_var", "blocks.0.0.conv_dw.weight",
                "blocks.0.0.bn1.num_batches_tracked", "blocks.0.0.se.conv_reduce.bias", "blocks.0.0.se.conv_expand.weight",
                "blocks.0.0.conv_pw.weight", "blocks.0.0.bn2.bias", "blocks.1.0.conv_pw.weight", "blocks.1.0.bn1.weight",
                "blocks.1.0.conv_dw.weight", "blocks.1.0.bn2.running_mean", "blocks.1.0.se.conv_reduce.weight",
                "blocks.1.0.conv_pwl.weight", "blocks.1.0.bn3.weight", "blocks.6.0.conv_pwl.weight", "conv_head.weight",
                "bn2.weight", "classifier.weight", "classifier.bias"}) {
            assertTrue(timm.containsKey(key), () -> "no timm key " + key + " in " + timm.keySet());
        }
        assertEquals(torchvisionState().size(), timm.size());
        // A depthwise 3×3 weight of the first InvertedResidual block: [expanded, 1, 3, 3].
        assertArrayEquals(new int[]{48, 1, 3, 3}, timm.get("blocks.1.0.conv_dw.weight").shape().dims());
    }

    @Test
    void timmRoundTripGivesTheSameModel(@TempDir Path dir) throws IOException {
        SequencedMap<String, Tensor> original = torchvisionState();
        SequencedMap<String, Tensor> back = EfficientNetWeights.fromTimm(
                EfficientNetWeights.toTimm(original, SMALL_B0), SMALL_B0);
        assertEquals(original.keySet(), back.keySet());
        original.forEach((k, v) -> assertArrayEquals(v.toDoubleArray(), back.get(k).toDoubleArray(), k));

        // A timm-named file loads through the same entry point and gives torchvision's logits.
        Path file = dir.resolve("timm.safetensors");
        EfficientNetWeights.write(file, EfficientNetWeights.toTimm(original, SMALL_B0));
        EfficientNet model = new EfficientNet(SMALL_B0, new Generator(9));
        EfficientNetWeights.load(model, file);
        model.eval();
        Map<String, Tensor> io = GoldenFiles.read("small_b0_io.safetensors");
        try (NoGrad _ = NoGrad.enter()) {
            Tensor logits = model.forward(GoldenFiles.nchwToNhwc(io.get("input")));
            assertTrue(GoldenFiles.relativeError(io.get("eval_logits"), logits) <= 1e-4);
        }
    }

    @Test
    void unknownTimmKeysAreNamed() {
        SequencedMap<String, Tensor> timm = EfficientNetWeights.toTimm(torchvisionState(), SMALL_B0);
        timm.put("blocks.9.0.conv_pw.weight", Tensor.zeros(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EfficientNetWeights.fromTimm(timm, SMALL_B0));
        assertTrue(e.getMessage().contains("blocks.9.0.conv_pw.weight"), e.getMessage());
    }

    @Test
    void saveAndLoadRoundTrip(@TempDir Path dir) throws IOException {
        EfficientNet a = new EfficientNet(SMALL_B0, new Generator(1));
        EfficientNet b = new EfficientNet(SMALL_B0, new Generator(2));
        Path file = dir.resolve("a.safetensors");
        EfficientNetWeights.save(a, file);
        EfficientNetWeights.load(b, file);
        Map<String, Tensor> sa = a.stateDict();
        b.stateDict().forEach((k, v) -> assertArrayEquals(sa.get(k).toDoubleArray(), v.toDoubleArray(), k));
    }

    @Test
    void anotherArchitectureIsRefusedNamingKeysAndShapesAndTheModelIsUnchanged(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("wider.safetensors");
        EfficientNetConfig wider = EfficientNetConfig.custom(0.5, 0.6, 72, 0).withClasses(8);
        EfficientNetWeights.save(new EfficientNet(wider, new Generator(1)), file);
        EfficientNet model = new EfficientNet(SMALL_B0, new Generator(2));
        Map<String, Tensor> before = model.stateDict();
        StateDictException e = assertThrows(StateDictException.class, () -> EfficientNetWeights.load(model, file));
        assertTrue(e.getMessage().contains("features.0.0.weight: file [16, 3, 3, 3] vs module [8, 3, 3, 3]"),
                e.getMessage());
        assertTrue(e.getMessage().contains("features.2.1"), "the extra block is named: " + e.getMessage());
        model.stateDict().forEach((k, v) -> assertArrayEquals(before.get(k).toDoubleArray(), v.toDoubleArray(),
                "changed by a refused load: " + k));
    }

    @Test
    void truncatedFileIsATypedError(@TempDir Path dir) throws IOException {
        byte[] whole = GoldenFiles.bytes("small_b0.safetensors");
        Path file = dir.resolve("truncated.safetensors");
        Files.write(file, Arrays.copyOf(whole, whole.length / 2));
        EfficientNet model = new EfficientNet(SMALL_B0, new Generator(2));
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> EfficientNetWeights.load(model, file));
        assertTrue(e.getMessage().contains("truncated.safetensors"), e.getMessage());
    }

    @Test
    void oneChannelStemSumsRgb() {
        Tensor rgb = Tensor.of(new float[]{1, 2, 3, 10, 20, 30}, 2, 3, 1, 1);
        assertArrayEquals(new double[]{6, 60}, EfficientNetWeights.adaptInputConv(rgb, 1).toDoubleArray());
        assertArrayEquals(new int[]{2, 1, 1, 1}, EfficientNetWeights.adaptInputConv(rgb, 1).shape().dims());
    }

    @Test
    void kChannelStemRepeatsTruncatesAndScales() {
        Tensor rgb = Tensor.of(new float[]{1, 2, 3, 10, 20, 30}, 2, 3, 1, 1);
        Tensor five = EfficientNetWeights.adaptInputConv(rgb, 5);   // RGB RG, scaled by 3/5
        assertArrayEquals(new int[]{2, 5, 1, 1}, five.shape().dims());
        double[] expected = {0.6, 1.2, 1.8, 0.6, 1.2, 6, 12, 18, 6, 12};
        double[] actual = five.toDoubleArray();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-6, "element " + i);
        }
    }

    @Test
    void rgbWeightsLoadIntoAOneChannelModel() {
        EfficientNet model = new EfficientNet(SMALL_B0.withInChannels(1), new Generator(4));
        SequencedMap<String, Tensor> state = torchvisionState();
        model.loadStateDict(EfficientNetWeights.adaptStem(state, 1), true);
        double[] summed = state.get("features.0.0.weight").sum(false, 1).toDoubleArray();
        double[] loaded = model.stateDict().get("features.0.0.weight").toDoubleArray();
        for (int i = 0; i < summed.length; i++) {
            assertEquals(summed[i], loaded[i], 1e-5, "stem element " + i);
        }
    }
}
