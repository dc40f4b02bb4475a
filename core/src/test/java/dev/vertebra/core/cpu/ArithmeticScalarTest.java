package dev.vertebra.core.cpu;

import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@link FloatElementwise#arithmeticScalar}, the plain loop small tensors take for a tensor op scalar: the same
 * floats as the vector loop of {@link FloatElementwise#binary} (IEEE arithmetic either way, correctly rounded), for
 * ordinary values and the special ones (zeros of both signs, subnormals, infinities, NaN), and through the backend
 * the same as a large tensor's elements.
 */
class ArithmeticScalarTest {
    private static final float[] SPECIAL = {0f, -0f, Float.MIN_VALUE, -Float.MIN_NORMAL, Float.MAX_VALUE,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1e-38f, 3f, -7.5f};

    @ParameterizedTest
    @EnumSource(value = BinaryOp.class, names = {"ADD", "SUB", "MUL", "DIV"})
    void givesTheVectorLoopsBits(BinaryOp op) {
        Random random = new Random(op.ordinal());
        float[] a = new float[1000 + SPECIAL.length];
        for (int i = 0; i < 1000; i++) {
            a[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(20) - 10));
        }
        System.arraycopy(SPECIAL, 0, a, 1000, SPECIAL.length);
        for (float s : new float[]{0.1f, -3f, 0f, Float.MIN_VALUE, Float.POSITIVE_INFINITY, Float.NaN, 1e30f}) {
            float[] vector = new float[a.length + 3];
            float[] plain = new float[a.length + 3];
            FloatElementwise.binary(op, a, 0, 1, new float[]{s}, 0, 0, vector, 3, a.length);
            assertEquals(true, FloatElementwise.arithmeticScalar(op, a, 0, s, plain, 3, a.length));
            assertArrayEquals(bits(vector), bits(plain), op + " " + s);
        }
    }

    @Test
    void takesOnlyTheFourArithmeticOps() {
        assertFalse(FloatElementwise.arithmeticScalar(BinaryOp.POW, new float[4], 0, 2f, new float[4], 0, 4));
    }

    /** A small tensor (the plain loop) and a large one (the threads' vector loops) scaled alike. */
    @Test
    void aSmallTensorScalesAsALargeOneDoes() {
        Tensor large = Init.normal(new Generator(3), Shape.of(64, 1024), 0, 1, Device.CPU);
        Tensor small = large.narrow(0, 0, 2).contiguous();
        for (BinaryOp op : new BinaryOp[]{BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV}) {
            float[] fromLarge = java.util.Arrays.copyOf(large.backend().binaryScalar(op, large, 1.0 / 49)
                    .toFloatArray(), 2048);
            assertArrayEquals(fromLarge, small.backend().binaryScalar(op, small, 1.0 / 49).toFloatArray(), 0f,
                    op.toString());
        }
    }

    /** Bit patterns, every NaN as the canonical one (NaN payloads aside). */
    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToIntBits(values[i]);
        }
        return out;
    }
}
