package dev.vertebra.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A kernel's parameter list as {@code cuLaunchKernel} wants it: an array of pointers, one per parameter, each to
 * a copy of the value. The driver copies the values at launch, so their memory can be reused right after
 * ({@link NativeScratch}).
 */
final class KernelArgs {
    private final SegmentAllocator arena;
    private final List<MemorySegment> values = new ArrayList<>();

    KernelArgs(SegmentAllocator arena) {
        this.arena = arena;
    }

    /** A device pointer ({@code T*}). */
    KernelArgs pointer(long address) {
        values.add(arena.allocateFrom(JAVA_LONG, address));
        return this;
    }

    KernelArgs i32(int value) {
        values.add(arena.allocateFrom(JAVA_INT, value));
        return this;
    }

    KernelArgs i64(long value) {
        values.add(arena.allocateFrom(JAVA_LONG, value));
        return this;
    }

    KernelArgs f64(double value) {
        values.add(arena.allocateFrom(JAVA_DOUBLE, value));
        return this;
    }

    /** A {@code VxView} struct by value. */
    KernelArgs view(StridedView view) {
        MemorySegment s = arena.allocate(StridedView.BYTES, 8);
        view.writeTo(s);
        values.add(s);
        return this;
    }

    /** A struct of 32-bit ints by value (the convolution and pooling geometries). */
    KernelArgs ints(int... fields) {
        values.add(arena.allocateFrom(JAVA_INT, fields));
        return this;
    }

    /** A struct of {@code bytes} bytes by value (8-byte aligned), written by {@code fill}. */
    KernelArgs struct(long bytes, Consumer<MemorySegment> fill) {
        MemorySegment s = arena.allocate(bytes, 8);
        fill.accept(s);
        values.add(s);
        return this;
    }

    MemorySegment build() {
        MemorySegment array = arena.allocate(ADDRESS, Math.max(1, values.size()));
        for (int i = 0; i < values.size(); i++) {
            array.setAtIndex(ADDRESS, i, values.get(i));
        }
        return array;
    }
}
