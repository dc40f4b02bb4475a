package dev.vertebra.core.io;

import dev.vertebra.core.DType;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Moves elements between file bytes (either byte order) and the heap arrays that back a {@link HostArray},
 * a bounded chunk at a time, so reading or writing an array never holds a second full copy of it.
 */
final class ElementCodec {

    /** Bytes moved per step; a multiple of every element size so no element straddles two chunks. */
    static final int CHUNK_BYTES = 1 << 20;

    /** The largest element count a Java array can hold on common JVMs. */
    static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private ElementCodec() {
    }

    /**
     * Checks a shape read from a file and returns its element count: every dimension non-negative and a Java
     * int, the product small enough for one heap array.
     */
    static int elementCount(long[] dims, String source, long offset) throws TensorFormatException {
        long count = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new TensorFormatException(source, offset, "negative dimension in shape " + Arrays.toString(dims));
            }
            if (d > Integer.MAX_VALUE) {
                throw new TensorFormatException(source, offset, "dimension " + d + " in shape "
                        + Arrays.toString(dims) + " does not fit a Java int");
            }
        }
        for (long d : dims) {
            if (d == 0) {
                return 0;
            }
            count *= d; // cannot overflow: count <= MAX_ELEMENTS and d < 2^31 before each step
            if (count > MAX_ELEMENTS) {
                throw new TensorFormatException(source, offset, "shape " + Arrays.toString(dims)
                        + " holds more elements than one Java array can (" + MAX_ELEMENTS + ")");
            }
        }
        return (int) count;
    }

    /** The shape as ints, once {@link #elementCount} has accepted it. */
    static int[] toIntShape(long[] dims) {
        int[] shape = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            shape[i] = Math.toIntExact(dims[i]);
        }
        return shape;
    }

    static Object allocate(DType dtype, int count) {
        return switch (dtype) {
            case FLOAT32 -> new float[count];
            case FLOAT64 -> new double[count];
            case INT64 -> new long[count];
            case INT32 -> new int[count];
            case INT16, FLOAT16, BFLOAT16 -> new short[count];
            case UINT8 -> new byte[count];
        };
    }

    /** The memory layout of one element as stored in a file, with the file's byte order. */
    static ValueLayout layout(DType dtype, ByteOrder order) {
        return switch (dtype) {
            case FLOAT32 -> ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(order);
            case FLOAT64 -> ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(order);
            case INT64 -> ValueLayout.JAVA_LONG_UNALIGNED.withOrder(order);
            case INT32 -> ValueLayout.JAVA_INT_UNALIGNED.withOrder(order);
            case INT16, FLOAT16, BFLOAT16 -> ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order);
            case UINT8 -> ValueLayout.JAVA_BYTE;
        };
    }

    /** Reads {@code count} elements stored at {@code position} of a source whose size the caller checked. */
    static Object readArray(ByteSource source, long position, DType dtype, ByteOrder order, int count)
            throws IOException {
        long byteLength = (long) count * dtype.byteSize();
        if (position < 0 || position > source.size() - byteLength) {
            throw new TensorFormatException(source.name(), position, "the data needs " + byteLength
                    + " bytes but the source has only " + Math.max(0, source.size() - position) + " left");
        }
        Object array = allocate(dtype, count);
        byte[] chunk = new byte[(int) Math.min(CHUNK_BYTES, byteLength)];
        MemorySegment chunkSegment = MemorySegment.ofArray(chunk);
        ValueLayout layout = layout(dtype, order);
        long done = 0;
        while (done < byteLength) {
            int step = (int) Math.min(chunk.length, byteLength - done);
            source.readFully(position + done, chunk, 0, step);
            MemorySegment.copy(chunkSegment, layout, 0, array, (int) (done / dtype.byteSize()),
                    step / dtype.byteSize());
            done += step;
        }
        return array;
    }

    /**
     * Reads {@code count} elements from a stream whose length is unknown: the bytes are gathered in chunks as
     * they arrive, so a header claiming a huge array cannot make us allocate more than the stream holds.
     */
    static Object readArray(InputStream in, String name, long position, DType dtype, ByteOrder order, int count)
            throws IOException {
        long byteLength = (long) count * dtype.byteSize();
        List<byte[]> chunks = new ArrayList<>();
        long done = 0;
        while (done < byteLength) {
            int step = (int) Math.min(CHUNK_BYTES, byteLength - done);
            byte[] chunk = in.readNBytes(step);
            if (chunk.length < step) {
                throw new TensorFormatException(name, position + done + chunk.length, "the data needs "
                        + byteLength + " bytes but the stream ended after " + (done + chunk.length));
            }
            chunks.add(chunk);
            done += step;
        }
        Object array = allocate(dtype, count);
        ValueLayout layout = layout(dtype, order);
        int index = 0;
        for (byte[] chunk : chunks) {
            int elements = chunk.length / dtype.byteSize();
            MemorySegment.copy(MemorySegment.ofArray(chunk), layout, 0, array, index, elements);
            index += elements;
        }
        return array;
    }

    /** Writes the elements of an array little-endian, as both .npy (as Vertebra writes it) and safetensors store them. */
    static void writeLittleEndian(HostArray array, OutputStream out) throws IOException {
        DType dtype = array.dtype();
        long byteLength = (long) array.size() * dtype.byteSize();
        byte[] chunk = new byte[(int) Math.min(CHUNK_BYTES, byteLength)];
        MemorySegment chunkSegment = MemorySegment.ofArray(chunk);
        ValueLayout layout = layout(dtype, ByteOrder.LITTLE_ENDIAN);
        long done = 0;
        while (done < byteLength) {
            int step = (int) Math.min(chunk.length, byteLength - done);
            MemorySegment.copy(array.data(), (int) (done / dtype.byteSize()), chunkSegment, layout, 0,
                    step / dtype.byteSize());
            out.write(chunk, 0, step);
            done += step;
        }
    }
}
