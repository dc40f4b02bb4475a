package dev.vertebra.core.cpu;

import dev.vertebra.core.Activation;
import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU backend's {@link Backend#conv2dAffine} called directly (the conformance suite reaches it through
 * {@code Functional}, which checks shapes first): an input scale that is not per image and channel broadcasts as
 * the default does, a per-image gate folded into the weights matches scaling x first, and a scale of the wrong
 * length is refused.
 */
class Conv2dAffineTest {

    @Test
    void anInputScaleSharedByAllImagesBroadcastsLikeTheSeparateOps() {
        assertMatchesSeparateOps(4, Shape.of(2, 6, 5, 12), Shape.of(1, 1, 1, 12), 0.5, 1.5, 7, 0.3, Activation.SILU);
    }

    @Test
    void aPerImageGateFoldedIntoTheWeightsMatchesTheSeparateOps() {
        // Large enough to run on the pool, with several row tiles per image sharing each image's packed weights.
        assertMatchesSeparateOps(6, Shape.of(3, 20, 20, 64), Shape.of(3, 1, 1, 64), 0, 1, 24, 0.2, Activation.NONE);
    }

    @Test
    void aGatePerImageWithOneRowTileAnImageMatchesTheSeparateOps() {
        // Images of 196 pixels, enough of them for every thread: each image's GEMM is one task packing its own
        // scaled weights.
        assertMatchesSeparateOps(7, Shape.of(2 * CpuThreads.parallelism(), 14, 14, 64),
                Shape.of(2 * CpuThreads.parallelism(), 1, 1, 64), 0, 1, 24, 0.2, Activation.SILU);
    }

    /** conv2dAffine of a gated 1×1 convolution against gate, convolution, scale, shift and activation one by one. */
    private static void assertMatchesSeparateOps(long seed, Shape xShape, Shape gateShape, double gateLo,
                                                 double gateHi, int cout, double weightStd, Activation activation) {
        Generator gen = new Generator(seed);
        Tensor x = Init.normal(gen, xShape, 0, 1, Device.CPU);
        Tensor gate = Init.uniform(gen, gateShape, gateLo, gateHi, Device.CPU);
        Tensor w = Init.normal(gen, Shape.of(1, 1, xShape.dim(3), cout), 0, weightStd, Device.CPU);
        Tensor scale = Init.uniform(gen, Shape.of(cout), 0.5, 1.5, Device.CPU);
        Tensor shift = Init.normal(gen, Shape.of(cout), 0, 1, Device.CPU);
        ConvSpec spec = ConvSpec.of(1, 0, 1, 1);
        Backend cpu = Backends.get(Device.CPU);
        double[] got = cpu.conv2dAffine(x, gate, w, spec, scale, shift, activation).toDoubleArray();
        Tensor affine = cpu.conv2d(x.mul(gate), w, spec).mul(scale).add(shift);
        double[] want = (activation == Activation.SILU ? affine.silu() : affine).toDoubleArray();
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])), "element " + i);
        }
    }

    @Test
    void aScaleOfTheWrongLengthIsRefused() {
        Generator gen = new Generator(5);
        Tensor x = Init.normal(gen, Shape.of(1, 4, 4, 3), 0, 1, Device.CPU);
        Tensor w = Init.normal(gen, Shape.of(1, 1, 3, 5), 0, 1, Device.CPU);
        Tensor wrong = Init.normal(gen, Shape.of(6), 0, 1, Device.CPU);
        Tensor right = Init.normal(gen, Shape.of(5), 0, 1, Device.CPU);
        Backend cpu = Backends.get(Device.CPU);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cpu.conv2dAffine(x, null, w, ConvSpec.of(1, 0, 1, 1), wrong, right, Activation.NONE));
        assertTrue(e.getMessage().contains("5 output channels"), e.getMessage());
    }
}
