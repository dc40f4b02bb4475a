package dev.vertebra.core.io;

import dev.vertebra.core.DType;

import java.util.Arrays;
import java.util.Objects;

/**
 * A dense, C-ordered array on the Java heap: what file formats read and write before it becomes a tensor.
 *
 * <p>The backing Java array depends on the dtype: {@code float[]} for FLOAT32, {@code double[]} for FLOAT64,
 * {@code long[]} for INT64, {@code int[]} for INT32, {@code short[]} for INT16, FLOAT16 and BFLOAT16 (raw bits),
 * {@code byte[]} for UINT8.
 *
 * @param dtype element type
 * @param shape dimensions, outermost first (C order)
 * @param data  the backing array, of the Java type the dtype names, with exactly product(shape) elements
 */
public record HostArray(DType dtype, int[] shape, Object data) {

    public HostArray {
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
        Class<?> expected = javaArrayType(dtype);
        if (data == null || data.getClass() != expected) {
            throw new IllegalArgumentException("a " + dtype + " array needs a " + expected.getSimpleName()
                    + " backing array, got " + (data == null ? "null" : data.getClass().getSimpleName()));
        }
        long count = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            count *= d;
        }
        int length = java.lang.reflect.Array.getLength(data);
        if (count != length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count
                    + " elements but the data has " + length);
        }
    }

    /** The Java array class that backs a dtype on the heap. */
    public static Class<?> javaArrayType(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case INT64 -> long[].class;
            case INT32 -> int[].class;
            case INT16, FLOAT16, BFLOAT16 -> short[].class;
            case UINT8 -> byte[].class;
        };
    }

    /** Number of elements. */
    public int size() {
        return java.lang.reflect.Array.getLength(data);
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HostArray other && dtype == other.dtype && Arrays.equals(shape, other.shape)
                && Objects.deepEquals(data, other.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(dtype, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return "HostArray[" + dtype + ", " + Arrays.toString(shape) + "]";
    }
}
