package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.ReduceOp;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fast backend's sum of a product ({@link Backend#mulSum}) against the product and the sum as separate ops
 * on the float64 reference: consecutive dimensions (the fused kernel, with and without a partial vector per row,
 * more rows than one float run), a single column, non-consecutive dimensions (the fallback) and an empty sum.
 */
class MulSumTest {

    private record Case(int[] shape, int[] dims, boolean keepDim) {
    }

    @Test
    void matchesTheSeparateOpsOnTheReference() {
        Case[] cases = {
                new Case(new int[]{2, 5, 7, 33}, new int[]{1, 2}, true),
                new Case(new int[]{2, 30, 30, 48}, new int[]{1, 2}, true),
                new Case(new int[]{2, 20, 15, 144}, new int[]{1, 2}, true),
                new Case(new int[]{2, 5, 7, 33}, new int[]{1, 2}, false),
                new Case(new int[]{1000, 1}, new int[]{0}, true),
                new Case(new int[]{3, 4, 5}, new int[]{0, 2}, false),
                new Case(new int[]{2, 0, 3}, new int[]{1}, true)};
        Backend cpu = Backends.get(Device.CPU);
        Backend reference = Backends.get(Device.REFERENCE);
        for (Case c : cases) {
            Generator gen = new Generator(c.shape().length * 17L + c.dims().length);
            Tensor a = Init.normal(gen, Shape.of(c.shape()), 0, 1, Device.CPU);
            Tensor b = Init.normal(gen, Shape.of(c.shape()), 0, 1, Device.CPU);
            float[] got = cpu.mulSum(a, b, c.dims(), c.keepDim()).toFloatArray();
            Tensor ar = a.to(Device.REFERENCE);
            Tensor br = b.to(Device.REFERENCE);
            float[] want = reference.reduce(ReduceOp.SUM, reference.binary(BinaryOp.MUL, ar, br), c.dims(),
                    c.keepDim()).toFloatArray();
            assertEquals(want.length, got.length, "size for " + java.util.Arrays.toString(c.shape()));
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])),
                        java.util.Arrays.toString(c.shape()) + " dims " + java.util.Arrays.toString(c.dims())
                                + " element " + i);
            }
        }
    }
}
