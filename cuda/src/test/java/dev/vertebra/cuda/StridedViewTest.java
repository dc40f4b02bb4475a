package dev.vertebra.cuda;

import dev.vertebra.core.Layout;
import dev.vertebra.core.Shape;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Host-side index arithmetic the kernels rely on: dimension merging and the struct's byte layout. */
class StridedViewTest {

    /** Element offsets of a view, computed as vx_offset does. */
    private static int[] offsets(StridedView v, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int rem = i;
            int off = v.offset();
            for (int d = v.shape().length - 1; d >= 0; d--) {
                off += (rem % v.shape()[d]) * v.strides()[d];
                rem /= v.shape()[d];
            }
            out[i] = off;
        }
        return out;
    }

    @Test
    void contiguousLayoutsMergeToOneDimension() {
        StridedView v = StridedView.merged(Layout.contiguous(Shape.of(2, 3, 4)))[0];
        assertArrayEquals(new int[]{24}, v.shape());
        assertArrayEquals(new int[]{1}, v.strides());
    }

    @Test
    void mergingKeepsEveryOffsetOfEveryLayout() {
        Layout base = Layout.contiguous(Shape.of(4, 3, 5, 2));
        Layout permuted = base.permute(2, 0, 1, 3);
        Layout narrowed = Layout.contiguous(Shape.of(5, 4, 6, 2)).narrow(2, 1, 3);
        Layout broadcast = Layout.contiguous(Shape.of(1, 4, 1, 2)).expand(Shape.of(5, 4, 3, 2));
        StridedView[] v = StridedView.merged(permuted, narrowed, broadcast);
        Layout[] layouts = {permuted, narrowed, broadcast};
        for (int k = 0; k < layouts.length; k++) {
            assertArrayEquals(layouts[k].elementOffsets(), offsets(v[k], 120), "layout " + k);
        }
    }

    @Test
    void sizeOneDimensionsDisappear() {
        StridedView v = StridedView.merged(new Layout(Shape.of(1, 5, 1), new int[]{99, 3, 7}, 2))[0];
        assertArrayEquals(new int[]{5}, v.shape());
        assertArrayEquals(new int[]{3}, v.strides());
        assertEquals(2, v.offset());
    }

    @Test
    void tooManyDimensionsAreRefusedClearly() {
        int[] dims = {2, 2, 2, 2, 2, 2, 2, 2, 2};
        Layout l = Layout.contiguous(Shape.of(dims)).permute(8, 7, 6, 5, 4, 3, 2, 1, 0);
        assertThrows(UnsupportedOperationException.class, () -> StridedView.merged(l));
    }

    @Test
    void structBytesMatchTheKernelHeader() {
        StridedView v = new StridedView(7, new int[]{3, 4}, new int[]{4, 1});
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(StridedView.BYTES);
            v.writeTo(s);
            assertEquals(72, StridedView.BYTES);
            assertEquals(2, s.get(JAVA_INT, 0));
            assertEquals(7, s.get(JAVA_INT, 4));
            assertEquals(3, s.get(JAVA_INT, 8));
            assertEquals(4, s.get(JAVA_INT, 12));
            assertEquals(4, s.get(JAVA_INT, 8 + 32));
            assertEquals(1, s.get(JAVA_INT, 8 + 36));
        }
    }

    @Test
    void allocatorBucketsRoundUp() {
        assertEquals(512, CachingAllocator.bucket(1));
        assertEquals(512, CachingAllocator.bucket(512));
        assertEquals(1024, CachingAllocator.bucket(513));
        assertEquals(1L << 20, CachingAllocator.bucket((1L << 20) - 1));
        assertEquals(2L << 20, CachingAllocator.bucket((1L << 20) + 1));
    }
}
