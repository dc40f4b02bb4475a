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
import java.util.Arrays;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Both gradients of a broadcast product on one pass ({@link Backend#broadcastMulGradients},
 * {@link FloatReduce#productSumAndScale}): bit for bit the fast backend's separate multiplication and
 * {@link Backend#mulSum}, and within float rounding of the float64 reference's separate ops. Cases: the
 * squeeze-excitation shape with and without a partial vector per row, more rows than one float run and one chunk,
 * a gate shared by the whole batch, one large enough for the backend to fuse, and the fallbacks (one column,
 * non-consecutive dimensions, an empty sum, a strided g).
 */
class BroadcastMulGradientsTest {

    private record Case(int[] a, int[] b) {
        @Override
        public String toString() {
            return Arrays.toString(a) + " · " + Arrays.toString(b);
        }
    }

    private static final Case[] CASES = {
            new Case(new int[]{2, 5, 7, 33}, new int[]{2, 1, 1, 33}),
            new Case(new int[]{2, 30, 30, 48}, new int[]{2, 1, 1, 48}),
            new Case(new int[]{3, 20, 15, 144}, new int[]{3, 1, 1, 144}),
            new Case(new int[]{3, 4, 4, 20}, new int[]{1, 1, 1, 20}),
            new Case(new int[]{2, 3, 3, 1}, new int[]{2, 1, 1, 1}),
            new Case(new int[]{3, 4, 5}, new int[]{1, 4, 1}),
            new Case(new int[]{2, 0, 3}, new int[]{2, 1, 3}),
            new Case(new int[]{2, 100, 100, 110}, new int[]{2, 1, 1, 110})};

    /** The cases the kernel itself takes: [outer, reduced, inner] with inner of at least 2. */
    private static final int[][] KERNEL_CASES = {{2, 35, 33}, {2, 900, 48}, {3, 300, 144}, {1, 48, 20}, {3, 7, 2}};

    private final Backend cpu = Backends.get(Device.CPU);
    private final Backend reference = Backends.get(Device.REFERENCE);

    @Test
    void equalsTheSeparateOpsBitForBit() {
        for (Case c : CASES) {
            Tensor[] in = inputs(c);
            Tensor[] got = cpu.broadcastMulGradients(in[0], in[1], in[2], dims(c));
            assertArrayEquals(cpu.binary(BinaryOp.MUL, in[0], in[2]).toFloatArray(), got[0].toFloatArray(),
                    "g·b for " + c);
            assertArrayEquals(cpu.mulSum(in[0], in[1], dims(c), true).toFloatArray(), got[1].toFloatArray(),
                    "Σ g·a for " + c);
            assertEquals(Shape.of(c.b()), got[1].shape(), "the gate gradient keeps b's shape: " + c);
        }
    }

    @Test
    void theKernelEqualsTheSeparateKernelsBitForBit() {
        for (int[] c : KERNEL_CASES) {
            int outer = c[0];
            int reduced = c[1];
            int inner = c[2];
            Generator gen = new Generator(outer * 1000L + reduced + inner);
            float[] g = Init.normal(gen, Shape.of(outer * reduced * inner + 3), 0, 1, Device.CPU).toFloatArray();
            float[] a = Init.normal(gen, Shape.of(outer * reduced * inner + 5), 0, 1, Device.CPU).toFloatArray();
            float[] b = Init.normal(gen, Shape.of(outer * inner + 2), 0, 1, Device.CPU).toFloatArray();
            float[] sums = new float[outer * inner];
            float[] scaled = new float[outer * reduced * inner];
            // Offsets into the arrays, as views of larger tensors have.
            FloatReduce.productSumAndScale(g, 3, a, 5, outer, reduced, inner, sums, b, 2, scaled);
            float[] wantSums = new float[outer * inner];
            FloatReduce.productSum(g, 3, a, 5, outer, reduced, inner, wantSums);
            float[] wantScaled = new float[scaled.length];
            for (int o = 0; o < outer; o++) {
                RowBroadcast.apply(BinaryOp.MUL, g, 3 + o * reduced * inner, b, 2 + o * inner, wantScaled,
                        o * reduced * inner, reduced, inner);
            }
            assertArrayEquals(wantSums, sums, "sums for " + Arrays.toString(c));
            assertArrayEquals(wantScaled, scaled, "g·b for " + Arrays.toString(c));
        }
    }

    @Test
    void agreesWithTheReference() {
        for (Case c : CASES) {
            Tensor[] in = inputs(c);
            Tensor[] got = cpu.broadcastMulGradients(in[0], in[1], in[2], dims(c));
            Tensor g = in[0].to(Device.REFERENCE);
            Tensor a = in[1].to(Device.REFERENCE);
            Tensor b = in[2].to(Device.REFERENCE);
            assertClose(reference.binary(BinaryOp.MUL, g, b).toFloatArray(), got[0].toFloatArray(), c + " g·b");
            // A float sum's rounding grows with the magnitudes summed: the bound is a small share of Σ |g·a|.
            Tensor products = reference.binary(BinaryOp.MUL, g, a);
            float[] want = reference.reduce(ReduceOp.SUM, products, dims(c), true).toFloatArray();
            float[] magnitude = reference.reduce(ReduceOp.SUM, products.abs(), dims(c), true).toFloatArray();
            float[] sums = got[1].toFloatArray();
            assertEquals(want.length, sums.length, c + " Σ g·a: size");
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], sums[i], 1e-5 + 1e-6 * magnitude[i], c + " Σ g·a: element " + i);
            }
        }
    }

    @Test
    void aStridedUpstreamGradientGivesTheSameValues() {
        Generator gen = new Generator(5);
        Tensor a = Init.normal(gen, Shape.of(2, 6, 5, 24), 0, 1, Device.CPU);
        Tensor b = Init.normal(gen, Shape.of(2, 1, 1, 24), 0, 1, Device.CPU);
        Tensor strided = Init.normal(gen, Shape.of(2, 5, 6, 24), 0, 1, Device.CPU).transpose(1, 2);
        Tensor contiguous = strided.contiguous();
        int[] dims = {1, 2};
        Tensor[] got = cpu.broadcastMulGradients(strided, a, b, dims);
        Tensor[] want = cpu.broadcastMulGradients(contiguous, a, b, dims);
        assertArrayEquals(want[0].toFloatArray(), got[0].toFloatArray());
        assertArrayEquals(want[1].toFloatArray(), got[1].toFloatArray());
    }

    @Test
    void autogradUsesItForBothGradientsOfAGate() {
        Generator gen = new Generator(9);
        Tensor x = Init.normal(gen, Shape.of(2, 9, 9, 40), 0, 1, Device.CPU).requiresGrad(true);
        Tensor gate = Init.uniform(gen, Shape.of(2, 1, 1, 40), 0, 1, Device.CPU).requiresGrad(true);
        Tensor upstream = Init.normal(gen, Shape.of(2, 9, 9, 40), 0, 1, Device.CPU);
        x.mul(gate).backward(upstream, false);
        assertArrayEquals(cpu.binary(BinaryOp.MUL, upstream, gate).toFloatArray(), x.grad().toFloatArray());
        assertArrayEquals(cpu.mulSum(upstream, x, new int[]{1, 2}, true).toFloatArray(), gate.grad().toFloatArray());
    }

    private static Tensor[] inputs(Case c) {
        Generator gen = new Generator(Arrays.hashCode(c.a()));
        Tensor g = Init.normal(gen, Shape.of(c.a()), 0, 1, Device.CPU);
        Tensor a = Init.normal(gen, Shape.of(c.a()), 0, 1, Device.CPU);
        Tensor b = Init.normal(gen, Shape.of(c.b()), 0, 1, Device.CPU);
        return new Tensor[]{g, a, b};
    }

    /** The dimensions b broadcasts over: size 1 in b, not in a. */
    private static int[] dims(Case c) {
        return java.util.stream.IntStream.range(0, c.a().length).filter(i -> c.b()[i] == 1 && c.a()[i] != 1)
                .toArray();
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what + ": size");
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])), what + ": element " + i);
        }
    }
}
