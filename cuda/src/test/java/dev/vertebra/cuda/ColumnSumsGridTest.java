package dev.vertebra.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How {@link ColumnSums.Grid} lays a launch over [outer, rows, c]: every column covered once, blocks in range. */
class ColumnSumsGridTest {

    @ParameterizedTest(name = "outer {0}, rows {1}, c {2}, aligned {3}")
    @CsvSource({"1, 802816, 32, true", "1, 802816, 96, true", "64, 3136, 96, true", "1, 3136, 1280, true",
            "1, 3136, 1152, false", "1, 5, 7, true", "1, 0, 16, true", "3000, 49, 1152, true", "2, 100, 1030, true"})
    void coversEveryColumnOnceWithinTheLimits(long outer, long rows, int c, boolean aligned) {
        ColumnSums.Grid g = ColumnSums.Grid.of(outer, rows, c, aligned);
        assertEquals(aligned && c % 4 == 0 ? 4 : 1, g.vector());
        int vectorColumns = c / g.vector();
        // chunks × columns per block reach every vector column, and the last chunk is not empty.
        assertTrue((long) g.chunks() * g.colsPerBlock() >= vectorColumns);
        assertTrue((long) (g.chunks() - 1) * g.colsPerBlock() < vectorColumns);
        // A block is whole rows of its columns, at most 256 threads (the kernel's shared array).
        assertTrue(g.threads() <= 256 && g.threads() >= g.colsPerBlock());
        assertEquals(0, g.threads() % g.colsPerBlock());
        assertTrue(g.slices() >= 1 && g.slices() <= 1024);
        // No slice is left without rows, when there are rows.
        long rowsPerStep = g.threads() / g.colsPerBlock();
        assertTrue(rows == 0 || (long) (g.slices() - 1) * rowsPerStep < rows);
    }

    @Test
    void partialSumsThatWouldNotFitOneTensorAreRefused() {
        assertTrue(ColumnSums.partialsFit(64, 3136, 96));
        assertFalse(ColumnSums.partialsFit(65535, 10, 40000));
    }
}
