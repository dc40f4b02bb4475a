package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The CPU backend's one-pass {@link Backend#adamStep} against the elementwise ops its default runs (the CPU's own
 * kernels, written out here), bit for bit: AdamW's decay, Adam's, none; a first and a later step; lengths with and
 * without a partial last vector and over several parallel chunks.
 */
class AdamStepTest {

    @Test
    void adamWMatchesTheElementwiseOpsBitForBit() {
        assertMatchesElementwiseOps(1, Shape.of(3, 3, 8, 37), new Backend.AdamStep(3e-3, 0.9, 0.999, 1e-8, 1e-4,
                true, 1));
        assertMatchesElementwiseOps(2, Shape.of(40_003), new Backend.AdamStep(1e-2, 0.9, 0.999, 1e-8, 0.05, true, 10));
    }

    @Test
    void adamWithCoupledDecayOrNoneMatchesTheElementwiseOps() {
        assertMatchesElementwiseOps(3, Shape.of(129), new Backend.AdamStep(1e-3, 0.8, 0.99, 1e-6, 0.01, false, 3));
        assertMatchesElementwiseOps(4, Shape.of(7), new Backend.AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 2));
    }

    @Test
    void stepNumbersStartAtOne() {
        assertThrows(IllegalArgumentException.class, () -> new Backend.AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, true, 0));
    }

    private static void assertMatchesElementwiseOps(long seed, Shape shape, Backend.AdamStep step) {
        Generator gen = new Generator(seed);
        Backend cpu = Backends.get(Device.CPU);
        Tensor w = Init.normal(gen, shape, 0, 1, Device.CPU);
        Tensor g = Init.normal(gen, shape, 0, 0.1, Device.CPU);
        Tensor m = Init.normal(gen, shape, 0, 0.05, Device.CPU);
        Tensor v = Init.uniform(gen, shape, 0, 0.01, Device.CPU);

        // The default's ops on copies.
        Tensor w2 = w.contiguous().mul(1);
        Tensor m2 = m.mul(1);
        Tensor v2 = v.mul(1);
        Tensor grad = g;
        if (step.weightDecay() != 0) {
            if (step.decoupled()) {
                w2.assign(w2.mul(1 - step.lr() * step.weightDecay()));
            } else {
                grad = grad.add(w2.mul(step.weightDecay()));
            }
        }
        m2.scaleAddInPlace(step.beta1(), grad, 1 - step.beta1());
        v2.scaleAddInPlace(step.beta2(), grad.mul(grad), 1 - step.beta2());
        Tensor denom = v2.sqrt().div(step.correction2Sqrt()).add(step.eps());
        w2.scaleAddInPlace(1, m2.div(denom), -step.stepSize());

        cpu.adamStep(w, g, m, v, step);
        assertArrayEquals(m2.toFloatArray(), m.toFloatArray(), "m");
        assertArrayEquals(v2.toFloatArray(), v.toFloatArray(), "v");
        assertArrayEquals(w2.toFloatArray(), w.toFloatArray(), "w");
    }
}
