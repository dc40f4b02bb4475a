package dev.vertebra.core.cpu;

import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.Generator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The plain loops that small row broadcasts take give the vector loops' bits: each element one IEEE operation,
 * special values (NaNs with payloads, infinities, signed zeros, subnormals) included, at offsets and with channel
 * counts that leave vector tails.
 */
class RowBroadcastPlainTest {

    @ParameterizedTest
    @CsvSource({"ADD, 8, 40", "SUB, 8, 40", "MUL, 3, 16", "DIV, 5, 21", "ADD, 1, 7", "MUL, 8, 1152"})
    void plainLoopsGiveTheVectorLoopsBits(BinaryOp op, int rows, int c) {
        Generator gen = new Generator(rows * 31L + c);
        float[] specials = {Float.NaN, Float.intBitsToFloat(0xffc0_0005), Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE, -Float.MIN_NORMAL, Float.MAX_VALUE, 1e-40f};
        int ao = 3;
        int bo = 5;
        float[] a = new float[ao + rows * c];
        float[] b = new float[bo + c];
        for (int i = 0; i < a.length; i++) {
            a[i] = i % 7 == 0 ? specials[i / 7 % specials.length] : (float) (gen.nextGaussian() * 10);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = i % 5 == 0 ? specials[(i / 5 + 3) % specials.length] : (float) (gen.nextGaussian() * 10);
        }
        float[] vector = new float[rows * c];
        float[] plain = new float[rows * c];
        RowBroadcast.apply(op, a, ao, b, bo, vector, 0, rows, c);
        RowBroadcast.applyPlain(op, a, ao, b, bo, plain, 0, rows, c);
        for (int i = 0; i < plain.length; i++) {
            float expected = (float) op.apply(a[ao + i], b[bo + i % c]);
            assertEquals(Float.floatToRawIntBits(vector[i]), Float.floatToRawIntBits(plain[i]),
                    op + " of " + a[ao + i] + " and " + b[bo + i % c] + " at " + i);
            if (!Float.isNaN(expected)) {
                assertEquals(expected, plain[i], 0f, op + " at " + i);
            }
        }
    }
}
