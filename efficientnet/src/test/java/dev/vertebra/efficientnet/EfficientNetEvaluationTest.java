package dev.vertebra.efficientnet;

import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * In evaluation {@link EfficientNet#forward} runs the stem and the first block's depthwise layer as one op where
 * the backend can ({@link MBConv#forwardAfterStem}); {@link EfficientNet#features} runs every layer on its own. The
 * logits must be the same bits either way.
 */
class EfficientNetEvaluationTest {

    @Test
    void theFusedStemGivesTheLayerByLayerLogitsBitForBit() {
        // B0 (a 32-channel stem, two vectors); the demo's network on one channel (a 16-channel stem); the TensorFlow
        // variant at an odd size (asymmetric padding); a width whose 8-channel stem the fused kernel does not take.
        assertSameLogits(EfficientNetConfig.b0().withClasses(8), Shape.of(2, 64, 64, 3));
        assertSameLogits(EfficientNetConfig.custom(0.5, 0.25, 64, 0).withClasses(8).withInChannels(1),
                Shape.of(3, 48, 40, 1));
        assertSameLogits(EfficientNetConfig.b0().tfVariant(), Shape.of(1, 65, 63, 3));
        assertSameLogits(EfficientNetConfig.custom(0.25, 0.25, 64, 0), Shape.of(2, 32, 32, 3));
    }

    private static void assertSameLogits(EfficientNetConfig config, Shape input) {
        Generator gen = new Generator(input.numel());
        EfficientNet model = new EfficientNet(config, gen);
        try (NoGrad _ = NoGrad.enter()) {
            // Batch statistics of a random batch move the running buffers off 0 and 1, so the folded batch norms
            // are not the identity.
            model.train();
            model.forward(Init.normal(gen, input, 0.5, 2, Device.CPU));
            model.eval();
            Tensor x = Init.normal(gen, input, 0, 1, Device.CPU);
            List<Tensor> maps = model.features(x);
            Tensor layerByLayer = model.classifier().forward(maps.getLast().mean(false, 1, 2));
            assertArrayEquals(layerByLayer.toFloatArray(), model.forward(x).toFloatArray(), 0f, config.name());
        }
    }
}
