package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Device;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A squeeze-and-excitation gate and the 1×1 projection after it as one op ({@link Backend#conv2dGated},
 * {@link GatedPointwiseBackward}): against the float64 reference's separate ops (product, convolution, their
 * gradients), the input gradient bit for bit the fast backend's separate ops', and through autograd
 * ({@link Functional#conv2dGated}) the separate ops' gradients. Cases: output channels narrow enough for the
 * transposed per-image product and wide enough for the direct one, channel counts with partial vectors, a gate
 * folded into the weights and one that scales x, and a map too small for the fused backward (the separate ops).
 */
class GatedConvTest {
    private static final ConvSpec POINTWISE = ConvSpec.of(1, 0, 1, 1);

    private final Backend cpu = Backends.get(Device.CPU);
    private final Backend reference = Backends.get(Device.REFERENCE);

    @ParameterizedTest(name = "[{0}, {1}, {2}, {3}] -> {4}")
    @CsvSource({"3, 12, 11, 37, 20", "2, 16, 16, 70, 33", "2, 9, 7, 48, 80", "4, 14, 14, 144, 40",
            "2, 3, 3, 40, 96"})
    void agreesWithTheSeparateOps(int n, int h, int w, int cin, int cout) {
        Tensor[] in = inputs(n, h, w, cin, cout);
        Tensor x = in[0];
        Tensor gate = in[1];
        Tensor weight = in[2];
        Tensor dy = in[3];
        Tensor rx = x.to(Device.REFERENCE);
        Tensor rGate = gate.to(Device.REFERENCE);
        Tensor rWeight = weight.to(Device.REFERENCE);
        Tensor rDy = dy.to(Device.REFERENCE);
        Tensor scaled = reference.binary(BinaryOp.MUL, rx, rGate);
        Tensor y = cpu.conv2dGated(x, gate, weight, POINTWISE);
        Tensor rY = reference.conv2d(scaled, rWeight, POINTWISE);
        Tensor yMagnitude = reference.conv2d(scaled.abs(), rWeight.abs(), POINTWISE);
        assertWithin(rY, yMagnitude, y, "output");

        Backend.GatedConvGrads got = cpu.conv2dGatedBackward(dy, x, gate, weight, POINTWISE);
        Tensor d = reference.conv2dBackwardInput(rDy, rWeight, rx.shape(), POINTWISE);
        Tensor dMagnitude = reference.conv2dBackwardInput(rDy.abs(), rWeight.abs(), rx.shape(), POINTWISE);
        assertWithin(reference.binary(BinaryOp.MUL, d, rGate), reference.binary(BinaryOp.MUL, dMagnitude,
                rGate.abs()), got.input(), "input gradient");
        int[] hw = {1, 2};
        assertWithin(reference.mulSum(d, rx, hw, true), reference.mulSum(dMagnitude, rx.abs(), hw, true),
                got.gate(), "gate gradient");
        assertWithin(reference.conv2dBackwardWeight(scaled, rDy, rWeight.shape(), POINTWISE),
                reference.conv2dBackwardWeight(scaled.abs(), rDy.abs(), rWeight.shape(), POINTWISE), got.weight(),
                "weight gradient");

        // The input gradient is the plain one scaled by the gate: the fast backend's separate ops, bit for bit.
        Tensor plain = cpu.conv2dBackwardInput(dy, weight, x.shape(), POINTWISE);
        assertArrayEquals(cpu.binary(BinaryOp.MUL, plain, gate).toFloatArray(), got.input().toFloatArray(),
                "input gradient against the separate ops");
    }

    @ParameterizedTest(name = "[{0}, {1}, {2}, {3}] -> {4}")
    @CsvSource({"2, 10, 10, 24, 16", "2, 8, 8, 32, 72", "2, 2, 2, 16, 40"})
    void autogradGivesTheSeparateOpsGradients(int n, int h, int w, int cin, int cout) {
        for (Device device : new Device[]{Device.CPU, Device.REFERENCE}) {
            Tensor[] in = inputs(n, h, w, cin, cout);
            Tensor[] fused = leaves(in, device);
            Functional.conv2dGated(fused[0], fused[1], fused[2], POINTWISE).backward(in[3].to(device), false);
            Tensor[] separate = leaves(in, device);
            Functional.conv2d(separate[0].mul(separate[1]), separate[2], null, POINTWISE)
                    .backward(in[3].to(device), false);
            String[] names = {"x", "gate", "weight"};
            for (int i = 0; i < 3; i++) {
                float[] want = separate[i].grad().toFloatArray();
                float[] got = fused[i].grad().toFloatArray();
                if (device == Device.REFERENCE) {
                    // The reference backend runs the op as the separate ops: the same values exactly.
                    assertArrayEquals(want, got, device + " " + names[i]);
                    continue;
                }
                float scale = 0;
                for (float v : want) {
                    scale = Math.max(scale, Math.abs(v));
                }
                for (int e = 0; e < want.length; e++) {
                    assertEquals(want[e], got[e], 1e-5f * (1 + scale), device + " " + names[i] + " element " + e);
                }
            }
        }
    }

    /** x [N, H, W, Cin], a gate in (0, 1), the weight [1, 1, Cin, Cout] and an output gradient, on the CPU. */
    private static Tensor[] inputs(int n, int h, int w, int cin, int cout) {
        Generator gen = new Generator(n * 1_000_003L + h * 1009L + w * 101L + cin * 11L + cout);
        return new Tensor[]{Init.normal(gen, Shape.of(n, h, w, cin), 0, 1, Device.CPU),
                Init.uniform(gen, Shape.of(n, 1, 1, cin), 0, 1, Device.CPU),
                Init.normal(gen, Shape.of(1, 1, cin, cout), 0, 0.2, Device.CPU),
                Init.normal(gen, Shape.of(n, h, w, cout), 0, 1, Device.CPU)};
    }

    private static Tensor[] leaves(Tensor[] in, Device device) {
        return new Tensor[]{in[0].to(device).requiresGrad(true), in[1].to(device).requiresGrad(true),
                in[2].to(device).requiresGrad(true)};
    }

    /**
     * Float rounding of sums grows with the magnitudes summed: each element within a small share of the same sum
     * over absolute values ({@code magnitude}).
     */
    private static void assertWithin(Tensor want, Tensor magnitude, Tensor got, String what) {
        assertEquals(want.shape(), got.shape(), what + ": shape");
        float[] w = want.toFloatArray();
        float[] m = magnitude.toFloatArray();
        float[] g = got.toFloatArray();
        for (int i = 0; i < w.length; i++) {
            assertEquals(w[i], g[i], 1e-6 + 2e-6 * m[i], what + ": element " + i);
        }
    }
}
