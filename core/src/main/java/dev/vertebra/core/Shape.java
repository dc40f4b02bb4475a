package dev.vertebra.core;

import java.util.Arrays;

/**
 * The dimensions of a tensor, outermost first. Immutable.
 *
 * <p>Negative dimension indices count from the end, as in PyTorch: {@code shape.dim(-1)} is the last.
 * Element counts are limited to {@link Integer#MAX_VALUE} because CPU storage lives in Java arrays.
 *
 * <pre>{@code
 * Shape s = Shape.of(8, 224, 224, 3);   // NHWC
 * s.numel();                            // 1204224
 * }</pre>
 */
public final class Shape {
    private static final Shape SCALAR = new Shape(new int[0]);

    private final int[] dims;

    private Shape(int[] dims) {
        this.dims = dims;
    }

    /** A shape with the given dimensions; each must be ≥ 0 and the product must fit an int. */
    public static Shape of(int... dims) {
        long n = 1;
        for (int d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " has more than "
                        + Integer.MAX_VALUE + " elements");
            }
        }
        return dims.length == 0 ? SCALAR : new Shape(dims.clone());
    }

    /** The shape of a 0-dimensional tensor (one element). */
    public static Shape scalar() {
        return SCALAR;
    }

    public int rank() {
        return dims.length;
    }

    /** Size of dimension {@code d}; negative {@code d} counts from the end. */
    public int dim(int d) {
        return dims[axis(d)];
    }

    /** A copy of the dimensions. */
    public int[] dims() {
        return dims.clone();
    }

    /** Number of elements (1 for a scalar). */
    public int numel() {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        return n;
    }

    /** Normalises a possibly negative dimension index to 0..rank-1, or throws naming the shape. */
    public int axis(int d) {
        int a = d < 0 ? d + dims.length : d;
        if (a < 0 || a >= dims.length) {
            throw new IllegalArgumentException("dimension " + d + " is out of range for shape " + this);
        }
        return a;
    }

    /** Row-major (C order) strides of a contiguous tensor of this shape. */
    public int[] contiguousStrides() {
        int[] strides = new int[dims.length];
        int s = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(dims[i], 1);
        }
        return strides;
    }

    /** This shape with dimension {@code d} replaced by {@code size}. */
    public Shape with(int d, int size) {
        int[] copy = dims.clone();
        copy[axis(d)] = size;
        return of(copy);
    }

    /**
     * The shape two operands broadcast to (NumPy rules: align trailing dimensions; each pair must be equal or
     * contain a 1).
     */
    public static Shape broadcast(Shape a, Shape b) {
        int rank = Math.max(a.rank(), b.rank());
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.rank() ? 1 : a.dims[i - (rank - a.rank())];
            int db = i < rank - b.rank() ? 1 : b.dims[i - (rank - b.rank())];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + a + " and " + b + " cannot be broadcast together");
            }
            out[i] = da == 1 ? db : da;
        }
        return of(out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape other && Arrays.equals(dims, other.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
