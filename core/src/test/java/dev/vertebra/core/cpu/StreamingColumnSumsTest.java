package dev.vertebra.core.cpu;

import dev.vertebra.core.ReduceOp;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link StreamingColumnSums} fed rows in uneven pieces gives the bits of {@link FloatReduce}'s column sums. The
 * values span many binary orders of magnitude, so a sum taken in another order (other float runs, other chunks,
 * double where float was) rounds differently and fails the comparison.
 */
class StreamingColumnSumsTest {

    @ParameterizedTest(name = "[{0}, {1}] in pieces of up to {2} rows")
    @CsvSource({
            "1, 2, 1",
            "255, 3, 7",
            "257, 16, 40",
            // 16384 / 96 = 170 rows a chunk: chunk ends fall inside float runs and inside pieces.
            "1000, 96, 56",
            "3136, 144, 56",
            // Chunks longer than a float run, ending off a run's multiple.
            "5000, 7, 300",
            // A 7² map of 1152 channels: 14-row chunks, pieces of one row of 7 pixels.
            "49, 1152, 7",
            "20000, 2, 1000",
            "1600, 37, 1",
    })
    void matchesFloatReduceBitForBit(int rows, int columns, int maxPiece) {
        SplittableRandom random = new SplittableRandom(31L * rows + columns);
        float[] x = new float[rows * columns];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextGaussian() * Math.scalb(1.0, random.nextInt(-12, 13)));
        }
        float[] want = new float[columns];
        FloatReduce.reduce(ReduceOp.SUM, x, 0, 1, rows, columns, want);

        float[] got = new float[columns + 3];
        StreamingColumnSums sums = new StreamingColumnSums(rows, columns);
        for (int r = 0; r < rows; ) {
            int piece = Math.min(rows - r, random.nextInt(1, maxPiece + 1));
            sums.add(x, r * columns, piece);
            r += piece;
        }
        sums.finish(got, 3);
        assertArrayEquals(bits(want), bits(Arrays.copyOfRange(got, 3, got.length)));
    }

    @Test
    void refusesOneColumnAndRowsItWasNotSizedFor() {
        assertThrows(IllegalArgumentException.class, () -> new StreamingColumnSums(10, 1));
        StreamingColumnSums sums = new StreamingColumnSums(3, 2);
        float[] x = new float[8];
        sums.add(x, 0, 2);
        assertThrows(IllegalStateException.class, () -> sums.finish(new float[2], 0), "finished a row early");
        assertThrows(IllegalStateException.class, () -> sums.add(x, 0, 2), "one row too many");
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }
}
