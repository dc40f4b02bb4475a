package dev.vertebra.core.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class StridedLoopsTest {

    @Test
    void mergesDimensionsContiguousInEveryOperand() {
        // [N, H, W, C] times a [N, 1, 1, C] gate: H and W merge, N and C stay apart.
        StridedLoops.Plan plan = StridedLoops.plan(new int[]{2, 3, 4, 5}, new int[]{60, 20, 5, 1},
                new int[]{5, 0, 0, 1});
        assertArrayEquals(new int[]{2, 12, 5}, plan.dims());
        assertArrayEquals(new int[]{60, 5, 1}, plan.strides()[0]);
        assertArrayEquals(new int[]{5, 0, 1}, plan.strides()[1]);
    }

    @Test
    void cursorWalksTheSameOffsetsAsTheRowIndex() {
        StridedLoops.Plan plan = StridedLoops.plan(new int[]{3, 4, 2, 5, 7},
                new int[]{280, 70, 35, 7, 1}, new int[]{0, 2, 1, 8, 1}, new int[]{7, 0, 4, 1, 0});
        for (int start : new int[]{0, 1, 5, 17, plan.rows() - 1}) {
            StridedLoops.RowCursor at = plan.cursor(start);
            for (int r = start; r < plan.rows(); r++, at.next()) {
                for (int o = 0; o < 3; o++) {
                    assertEquals(plan.rowOffset(o, r), at.offset(o), "row " + r + " from " + start + ", operand " + o);
                }
            }
        }
    }
}
