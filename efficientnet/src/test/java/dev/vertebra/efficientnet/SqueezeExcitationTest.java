package dev.vertebra.efficientnet;

import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The squeeze-and-excitation's gate runs its convolutions' biases and SiLU in their epilogues when no gradient is
 * recorded; recorded, the layers' ops. Both give the same bits, and the recorded one its gradients.
 */
class SqueezeExcitationTest {

    @Test
    void theGateIsTheSameBitsWithAndWithoutARecordedGradient() {
        for (int[] sizes : new int[][]{{96, 4}, {1152, 48}, {40, 10}}) {
            Generator gen = new Generator(sizes[0]);
            SqueezeExcitation se = new SqueezeExcitation(sizes[0], sizes[1], gen);
            Tensor x = Init.normal(gen, Shape.of(3, 5, 4, sizes[0]), 0, 2, Device.CPU);
            Tensor recorded = se.gate(x);
            assertEquals("sigmoid", recorded.gradFn());
            recorded.sum().backward();
            assertNotNull(se.fc1().weight().grad(), "fc1's weight gradient");
            Tensor inference;
            try (NoGrad _ = NoGrad.enter()) {
                inference = se.gate(x);
            }
            assertEquals(Shape.of(3, 1, 1, sizes[0]), inference.shape());
            assertArrayEquals(recorded.toFloatArray(), inference.toFloatArray(), 0f, sizes[0] + " → " + sizes[1]);
        }
    }
}
