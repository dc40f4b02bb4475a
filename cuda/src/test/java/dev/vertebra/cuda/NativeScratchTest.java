package dev.vertebra.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native-call scratch (no GPU needed): alignment, zeroed memory, marks that nest, its limits, and a kernel's
 * parameter list built in it.
 */
class NativeScratchTest {

    @Test
    void allocationsAreAlignedDisjointAndZeroed() {
        NativeScratch s = NativeScratch.current();
        long mark = s.mark();
        try {
            MemorySegment a = s.allocateFrom(JAVA_INT, 7);
            MemorySegment b = s.allocateFrom(JAVA_LONG, -1L);
            MemorySegment c = s.allocate(72, 8);
            assertEquals(0, b.address() % 8, "a long is 8-byte aligned");
            assertTrue(b.address() >= a.address() + 4, "the long lies after the int");
            assertTrue(c.address() >= b.address() + 8, "the struct lies after the long");
            assertEquals(7, a.get(JAVA_INT, 0));
            assertEquals(-1L, b.get(JAVA_LONG, 0));
            for (long i = 0; i < c.byteSize(); i++) {
                assertEquals(0, c.get(JAVA_BYTE, i), "byte " + i + " of a fresh struct");
            }
        } finally {
            s.release(mark);
        }
        assertEquals(mark, s.mark());
    }

    @Test
    void memoryHandedBackIsReusedAndZeroedAgain() {
        NativeScratch s = NativeScratch.current();
        long mark = s.mark();
        MemorySegment first = s.allocateFrom(JAVA_LONG, 42L);
        s.release(mark);
        MemorySegment again = s.allocate(JAVA_LONG);
        assertEquals(first.address(), again.address(), "the released slot comes back");
        assertEquals(0L, again.get(JAVA_LONG, 0), "and comes back zeroed");
        s.release(mark);
    }

    @Test
    void aNestedCallStacksAboveTheOuterArguments() {
        NativeScratch s = NativeScratch.current();
        long outer = s.mark();
        MemorySegment kept = s.allocateFrom(JAVA_LONG, 11L);
        long inner = s.mark();
        MemorySegment nested = s.allocateFrom(JAVA_LONG, 22L);
        assertTrue(nested.address() > kept.address());
        s.release(inner);
        MemorySegment next = s.allocateFrom(ADDRESS, kept);
        assertEquals(11L, kept.get(JAVA_LONG, 0), "the outer call's value survives the nested call");
        assertEquals(kept.address(), next.get(ADDRESS, 0).address());
        s.release(outer);
    }

    @Test
    @SuppressWarnings("restricted") // reading the values behind the parameter list's raw pointers
    void kernelArgumentsPointAtTheirValues() {
        NativeScratch s = NativeScratch.current();
        long mark = s.mark();
        try {
            MemorySegment params = new KernelArgs(s).pointer(0x1234_5678_9ABCL).i32(-7).f64(2.5).ints(1, 2, 3)
                    .build();
            assertEquals(4 * ADDRESS.byteSize(), params.byteSize());
            MemorySegment[] p = new MemorySegment[4];
            for (int i = 0; i < 4; i++) {
                p[i] = params.getAtIndex(ADDRESS, i).reinterpret(16);
            }
            assertEquals(0x1234_5678_9ABCL, p[0].get(JAVA_LONG, 0));
            assertEquals(-7, p[1].get(JAVA_INT, 0));
            assertEquals(2.5, p[2].get(JAVA_DOUBLE, 0));
            assertEquals(3, p[3].get(JAVA_INT, 8));
        } finally {
            s.release(mark);
        }
    }

    @Test
    void refusesWhatItCannotHold() {
        NativeScratch s = NativeScratch.current();
        long mark = s.mark();
        assertThrows(IllegalStateException.class, () -> s.allocate(NativeScratch.BYTES + 1, 8));
        assertThrows(IllegalArgumentException.class, () -> s.allocate(8, 3));
        assertThrows(IllegalArgumentException.class, () -> s.release(mark + 8));
        assertEquals(mark, s.mark(), "a refused allocation takes nothing");
    }
}
