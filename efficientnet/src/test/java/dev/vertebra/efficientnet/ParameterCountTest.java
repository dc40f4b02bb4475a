package dev.vertebra.efficientnet;

import dev.vertebra.core.Generator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Parameter counts at 1000 classes against the figures torchvision publishes for its EfficientNet weights. */
class ParameterCountTest {

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({"b0, 5288548", "b1, 7794184", "b2, 9109994", "b3, 12233232"})
    void builtModelsHaveTorchvisionsCount(String variant, long expected) {
        EfficientNet model = new EfficientNet(EfficientNetConfig.named(variant), new Generator(1));
        assertEquals(expected, model.numParameters(), "parameters of the built model");
        assertEquals(expected, model.config().parameterCount(), "parameters counted from the configuration");
    }

    /** B4–B7 (up to 66 M parameters) are counted from the configuration, which the built B0–B3 validate. */
    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({"b4, 19341616", "b5, 30389784", "b6, 43040704", "b7, 66347960"})
    void largerModelsCountedFromTheConfiguration(String variant, long expected) {
        assertEquals(expected, EfficientNetConfig.named(variant).parameterCount());
    }
}
