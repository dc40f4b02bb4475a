package dev.vertebra.efficientnet;

import dev.vertebra.core.Generator;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scaling rules and the model's shapes, with expected values from torchvision's published architectures. */
class EfficientNetConfigTest {

    @Test
    void channelRoundingFollowsTheReferenceRule() {
        assertEquals(32, EfficientNetConfig.roundChannels(32));
        assertEquals(40, EfficientNetConfig.roundChannels(24 * 1.6));   // 38.4 → 40
        assertEquals(16, EfficientNetConfig.roundChannels(10));          // 8 would lose more than 10%
        assertEquals(8, EfficientNetConfig.roundChannels(3));            // never below 8
        assertEquals(232, EfficientNetConfig.roundChannels(192 * 1.2));  // 230.4 → 232 (B3)
    }

    @Test
    void b3StagesMatchTorchvision() {
        // torchvision's efficientnet_b3: stem 40, stages 24/32/48/96/136/232/384 with repeats 2,3,3,5,5,6,2; head 1536.
        EfficientNetConfig b3 = EfficientNetConfig.b3();
        assertEquals(40, b3.stemChannels());
        assertEquals(List.of(24, 32, 48, 96, 136, 232, 384), b3.stages().stream().map(StageSpec::outChannels).toList());
        assertEquals(List.of(2, 3, 3, 5, 5, 6, 2), b3.stages().stream().map(StageSpec::repeats).toList());
        assertEquals(1536, b3.headChannels());
        assertEquals(1280, EfficientNetConfig.b0().headChannels());
    }

    @Test
    void stochasticDepthGrowsLinearlyOverBlocks() {
        List<BlockSpec> blocks = EfficientNetConfig.b0().blocks().stream().flatMap(List::stream).toList();
        assertEquals(16, blocks.size());
        assertEquals(0, blocks.getFirst().dropPath());
        assertEquals(0.2 * 15 / 16, blocks.getLast().dropPath(), 1e-12);
    }

    @Test
    void batchNormAndPaddingSettings() {
        assertEquals(1e-5, EfficientNetConfig.b4().bnEps());
        assertEquals(0.1, EfficientNetConfig.b4().bnMomentum());
        assertEquals(1e-3, EfficientNetConfig.b6().bnEps());
        assertEquals(0.01, EfficientNetConfig.b6().bnMomentum());
        EfficientNetConfig tf = EfficientNetConfig.b0().tfVariant();
        assertTrue(tf.tfSamePadding());
        assertEquals(1e-3, tf.bnEps());
    }

    @Test
    void compoundScalingUsesThePapersBases() {
        EfficientNetConfig phi2 = EfficientNetConfig.compound(2);
        assertEquals(1.44, phi2.depthMult(), 1e-12);
        assertEquals(1.21, phi2.widthMult(), 1e-12);
        assertEquals(296, phi2.resolution());           // 224 · 1.15² = 296.2
        assertEquals(EfficientNetConfig.b0().parameterCount(), EfficientNetConfig.compound(0).parameterCount());
    }

    @Test
    void unknownVariantIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EfficientNetConfig.named("b9"));
        assertTrue(e.getMessage().contains("b9"), e.getMessage());
    }

    @Test
    void parseTakesVariantsAndCustomMultipliers() {
        assertEquals(EfficientNetConfig.b3(), EfficientNetConfig.parse("B3"));
        EfficientNetConfig demo = EfficientNetConfig.parse("custom:0.5:0.25");
        assertEquals(0.5, demo.widthMult());
        assertEquals(0.25, demo.depthMult());
        assertEquals(EfficientNetConfig.custom(0.5, 0.25, 224, 0.2), demo);
    }

    @Test
    void parseNamesWhatIsWrongWithACustomModel() {
        for (String bad : new String[]{"custom:0.5", "custom:0.5:0.25:1", "custom:half:1", "custom:0:1", "custom:1:-2",
                "custom:1:NaN", "b9"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> EfficientNetConfig.parse(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    @Test
    void featureMapsAndLogitsHaveTheDocumentedShapes() {
        EfficientNetConfig config = EfficientNetConfig.custom(0.25, 0.25, 64, 0.2).withClasses(5).withInChannels(2);
        EfficientNet model = new EfficientNet(config, new Generator(0));
        model.eval();
        try (NoGrad _ = NoGrad.enter()) {
            Tensor x = Tensor.zeros(2, 64, 64, 2);
            List<Tensor> maps = model.features(x);
            assertEquals(9, maps.size());
            assertArrayEquals(new int[]{2, 32, 32, 8}, maps.get(0).shape().dims());
            assertArrayEquals(new int[]{2, 2, 2, config.headChannels()}, maps.get(8).shape().dims());
            assertArrayEquals(new int[]{2, 5}, model.forward(x).shape().dims());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.forward(Tensor.zeros(2, 3, 64, 64)));
            assertTrue(e.getMessage().contains("[2, 3, 64, 64]"), e.getMessage());
        }
    }

    @Test
    void tfSamePaddingRunsOnOddSizes() {
        EfficientNet model = new EfficientNet(EfficientNetConfig.custom(0.25, 0.25, 64, 0).tfVariant(),
                new Generator(0));
        model.eval();
        try (NoGrad _ = NoGrad.enter()) {
            // TF-SAME: every stride-2 layer outputs ceil(in / 2): 65 → 33 → 17 → 9 → 5 → 3.
            assertArrayEquals(new int[]{1, 3, 3, 320}, model.features(Tensor.zeros(1, 65, 65, 3)).get(8).shape().dims());
        }
    }
}
