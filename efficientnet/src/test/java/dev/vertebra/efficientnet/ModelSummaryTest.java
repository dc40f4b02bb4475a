package dev.vertebra.efficientnet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stage tables and operation counts. */
class ModelSummaryTest {

    /** torchvision's published GFLOPS (multiply-adds) at its evaluation crop sizes, within 2%. */
    @ParameterizedTest(name = "{0} at {1}: {2} G")
    @CsvSource({"b0, 224, 0.39", "b1, 240, 0.69", "b2, 288, 1.09", "b3, 300, 1.83", "b4, 380, 4.39",
            "b5, 456, 10.27", "b6, 528, 19.07", "b7, 600, 37.75"})
    void multiplyAddsMatchTorchvisionsFigures(String variant, int resolution, double giga) {
        long macs = ModelSummary.of(EfficientNetConfig.named(variant).withResolution(resolution)).multiplyAdds();
        assertEquals(giga, macs / 1e9, giga * 0.02, variant + ": " + macs);
    }

    @Test
    void tableShowsStagesAndEndsWithParameters() {
        String text = ModelSummary.of(EfficientNetConfig.b0()).render();
        String[] lines = text.split("\n");
        assertEquals("parameters: 5288548", lines[lines.length - 1]);
        assertTrue(text.contains("stem   Conv3x3-BN-SiLU       3      2       32       1    112×112"), text);
        assertTrue(text.contains("6      MBConv6               5      2      192       4        7×7"), text);
        assertTrue(text.contains("head   Conv1x1-BN-SiLU       1      1     1280       1        7×7"), text);
    }
}
