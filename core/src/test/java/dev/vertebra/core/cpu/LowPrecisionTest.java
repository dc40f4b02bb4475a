package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.ReduceOp;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.UnaryOp;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * float16/bfloat16 on the fast CPU backend and the reference backend: results keep the 16-bit type and are the
 * exact result (float64 on the reference backend, from the same 16-bit inputs) rounded once, give or take float32
 * accumulation.
 */
class LowPrecisionTest {
    private static final Backend CPU = Backends.get(Device.CPU);
    private static final Backend REFERENCE = Backends.get(Device.REFERENCE);

    /** One unit in the last place, relative: 8 significant bits for bfloat16, 11 for float16. */
    private static double ulp(DType t) {
        return t == DType.BFLOAT16 ? 0x1p-7 : 0x1p-10;
    }

    private static Tensor random(DType t, long seed, int... shape) {
        return Init.normal(new Generator(seed), Shape.of(shape), 0, 1, Device.CPU).to(t);
    }

    /** The same values on the reference backend in float64: exact copies of the 16-bit inputs. */
    private static Tensor exact(Tensor t) {
        return t.to(DType.FLOAT64).to(Device.REFERENCE);
    }

    /**
     * Within half an ulp of the exact value (the one rounding) plus float32 accumulation error, bounded by
     * {@code 2⁻²⁰ × scale} where scale is the largest exact magnitude.
     */
    private static void assertRoundedOnce(Tensor exact, Tensor actual, DType t, String what) {
        assertEquals(t, actual.dtype(), what + ": dtype");
        assertEquals(exact.shape(), actual.shape(), what + ": shape");
        double[] e = exact.toDoubleArray();
        double[] a = actual.toDoubleArray();
        double scale = 0;
        for (double v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < e.length; i++) {
            double bound = ulp(t) / 2 * Math.abs(e[i]) * (1 + 1e-3) + 0x1p-20 * scale;
            assertTrue(Math.abs(a[i] - e[i]) <= bound, what + "[" + i + "]: exact " + e[i] + ", got " + a[i]);
        }
    }

    /** The CPU backend, and the reference backend on the same 16-bit inputs, against the exact result. */
    private static void check(DType t, String what, BiFunction<Backend, Tensor[], Tensor> op, Tensor... inputs) {
        Tensor[] wide = new Tensor[inputs.length];
        Tensor[] onReference = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            wide[i] = exact(inputs[i]);
            onReference[i] = inputs[i].to(Device.REFERENCE);
        }
        Tensor exact = op.apply(REFERENCE, wide);
        assertRoundedOnce(exact, op.apply(CPU, inputs), t, what);
        assertRoundedOnce(exact, op.apply(REFERENCE, onReference), t, what + " on the reference backend");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BFLOAT16", "FLOAT16"})
    void matmulIncludingTransposedOperands(DType t) {
        Tensor a = random(t, 1, 2, 7, 33);
        Tensor b = random(t, 2, 2, 33, 5);
        check(t, "matmul", (be, x) -> be.matmul(x[0], x[1]), a, b);
        check(t, "matmul of transposed views", (be, x) -> be.matmul(x[1].transpose(1, 2), x[0].transpose(1, 2)), a, b);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BFLOAT16", "FLOAT16"})
    void convolutionForwardAndBothBackwards(DType t) {
        ConvSpec spec = ConvSpec.of(2, 1, 1, 2);
        Tensor x = random(t, 3, 2, 9, 8, 4);        // [N, H, W, Cin]
        Tensor w = random(t, 4, 3, 3, 2, 6);        // [KH, KW, Cin/groups, Cout]
        Tensor dy = random(t, 5, 2, 5, 4, 6);       // [N, OH, OW, Cout]
        Tensor depthwise = random(t, 6, 3, 3, 1, 4);
        check(t, "conv2d", (be, v) -> be.conv2d(v[0], v[1], spec), x, w);
        check(t, "depthwise conv2d", (be, v) -> be.conv2d(v[0], v[1], ConvSpec.of(1, 1, 1, 4)), x, depthwise);
        check(t, "conv2d backward input", (be, v) -> be.conv2dBackwardInput(v[0], v[1], x.shape(), spec), dy, w);
        check(t, "conv2d backward weight", (be, v) -> be.conv2dBackwardWeight(v[0], v[1], w.shape(), spec), x, dy);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BFLOAT16", "FLOAT16"})
    void elementwiseOpsAndReductions(DType t) {
        Tensor a = random(t, 7, 4, 6, 5);
        Tensor b = random(t, 8, 6, 1);
        check(t, "silu", (be, x) -> be.unary(UnaryOp.SILU, x[0]), a);
        check(t, "exp of a strided view", (be, x) -> be.unary(UnaryOp.EXP, x[0].transpose(0, 2)), a);
        check(t, "broadcast add", (be, x) -> be.binary(BinaryOp.ADD, x[0], x[1]), a, b);
        check(t, "silu gradient", (be, x) -> be.binary(BinaryOp.SILU_GRAD, x[0], x[1]), a, b);
        check(t, "scalar multiply", (be, x) -> be.binaryScalar(BinaryOp.MUL, x[0], 0.3), a);
        check(t, "sum", (be, x) -> be.reduce(ReduceOp.SUM, x[0], new int[]{0, 1}, false), a);
        check(t, "max", (be, x) -> be.reduce(ReduceOp.MAX, x[0], new int[]{2}, true), a);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BFLOAT16", "FLOAT16"})
    void castsAgreeBitForBitWithTheReference(DType t) {
        // Values around the rounding boundaries of both types, NaN and infinities included, read through a view.
        float[] values = new float[64];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) ((i - 30) * 1.00390625 * Math.pow(2, i % 7 - 3));
        }
        values[3] = Float.NaN;
        values[4] = Float.POSITIVE_INFINITY;
        values[5] = 70000f;   // beyond float16's range
        values[6] = 1e-8f;    // float16 subnormal range
        Tensor f = Tensor.of(values, 8, 8).transpose(0, 1);
        Tensor low = Tensor.zeros(Shape.of(8, 8), t, Device.CPU);
        Tensor lowRef = Tensor.zeros(Shape.of(8, 8), t, Device.REFERENCE);
        CPU.copyInto(f, low);
        REFERENCE.copyInto(f.to(Device.REFERENCE), lowRef);
        assertEquals(lowRef.toHost(), low.toHost());
        Tensor back = Tensor.zeros(Shape.of(8, 8), DType.FLOAT32, Device.CPU);
        CPU.copyInto(low.transpose(0, 1), back);
        Tensor backRef = Tensor.zeros(Shape.of(8, 8), DType.FLOAT32, Device.REFERENCE);
        REFERENCE.copyInto(lowRef.transpose(0, 1), backRef);
        assertEquals(backRef.toHost(), back.toHost());
        DType other = t == DType.BFLOAT16 ? DType.FLOAT16 : DType.BFLOAT16;
        Tensor across = Tensor.zeros(Shape.of(8, 8), other, Device.CPU);
        Tensor acrossRef = Tensor.zeros(Shape.of(8, 8), other, Device.REFERENCE);
        CPU.copyInto(low, across);
        REFERENCE.copyInto(lowRef, acrossRef);
        assertEquals(acrossRef.toHost(), across.toHost());
    }
}
