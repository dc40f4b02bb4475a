package dev.vertebra.core;

import java.util.Arrays;

/**
 * How a tensor's elements sit in its storage: shape, per-dimension strides (in elements) and an offset.
 * Views (permute, narrow, expand, …) are new layouts over the same storage.
 *
 * @param shape   dimensions
 * @param strides elements to skip per step along each dimension; 0 for broadcast (expanded) dimensions
 * @param offset  index in the storage of the first element
 */
public record Layout(Shape shape, int[] strides, int offset) {

    public Layout {
        strides = strides.clone();
        if (strides.length != shape.rank()) {
            throw new IllegalArgumentException("strides " + Arrays.toString(strides) + " do not match shape " + shape);
        }
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
    }

    /** A C-ordered layout of {@code shape} starting at 0. */
    public static Layout contiguous(Shape shape) {
        return new Layout(shape, shape.contiguousStrides(), 0);
    }

    @Override
    public int[] strides() {
        return strides.clone();
    }

    public int stride(int d) {
        return strides[shape.axis(d)];
    }

    /** True when the elements are stored in C order without gaps (size-1 dimensions may have any stride). */
    public boolean isContiguous() {
        int expected = 1;
        for (int i = shape.rank() - 1; i >= 0; i--) {
            int size = shape.dim(i);
            if (size != 1 && strides[i] != expected) {
                return false;
            }
            expected *= size;
        }
        return true;
    }

    /** The storage index of every element, in C order of this layout's shape. */
    public int[] elementOffsets() {
        int n = shape.numel();
        int[] out = new int[n];
        int rank = shape.rank();
        int[] index = new int[rank];
        int[] dims = shape.dims();
        int pos = offset;
        for (int i = 0; i < n; i++) {
            out[i] = pos;
            for (int d = rank - 1; d >= 0; d--) {
                index[d]++;
                pos += strides[d];
                if (index[d] < dims[d]) {
                    break;
                }
                pos -= strides[d] * dims[d];
                index[d] = 0;
            }
        }
        return out;
    }

    /** Dimensions reordered: output dimension i is input dimension {@code order[i]}. */
    public Layout permute(int... order) {
        if (order.length != shape.rank()) {
            throw new IllegalArgumentException("permutation " + Arrays.toString(order) + " does not match shape " + shape);
        }
        int[] dims = new int[order.length];
        int[] st = new int[order.length];
        boolean[] seen = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int a = shape.axis(order[i]);
            if (seen[a]) {
                throw new IllegalArgumentException("permutation " + Arrays.toString(order) + " repeats dimension " + a);
            }
            seen[a] = true;
            dims[i] = shape.dim(a);
            st[i] = strides[a];
        }
        return new Layout(Shape.of(dims), st, offset);
    }

    /** Elements {@code start .. start+length-1} along dimension {@code d}. */
    public Layout narrow(int d, int start, int length) {
        int a = shape.axis(d);
        if (start < 0 || length < 0 || start + length > shape.dim(a)) {
            throw new IllegalArgumentException("narrow(" + d + ", " + start + ", " + length + ") is out of range for shape " + shape);
        }
        return new Layout(shape.with(a, length), strides, offset + start * strides[a]);
    }

    /** Broadcast to {@code target}: size-1 (or missing leading) dimensions get stride 0. */
    public Layout expand(Shape target) {
        int extra = target.rank() - shape.rank();
        if (extra < 0) {
            throw new IllegalArgumentException("cannot expand shape " + shape + " to fewer dimensions " + target);
        }
        int[] st = new int[target.rank()];
        for (int i = 0; i < target.rank(); i++) {
            if (i < extra) {
                continue;
            }
            int size = shape.dim(i - extra);
            if (size == target.dim(i)) {
                st[i] = strides[i - extra];
            } else if (size != 1) {
                throw new IllegalArgumentException("cannot expand shape " + shape + " to " + target);
            }
        }
        return new Layout(target, st, offset);
    }

    /**
     * The same elements viewed with a new shape, when possible without copying (contiguous layouts), else null.
     */
    public Layout reshapeView(Shape target) {
        if (target.numel() != shape.numel()) {
            throw new IllegalArgumentException("cannot reshape " + shape + " (" + shape.numel() + " elements) to "
                    + target + " (" + target.numel() + " elements)");
        }
        return isContiguous() || target.numel() == 0 ? new Layout(target, target.contiguousStrides(), offset) : null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Layout other && shape.equals(other.shape) && Arrays.equals(strides, other.strides)
                && offset == other.offset;
    }

    @Override
    public int hashCode() {
        return shape.hashCode() * 31 + Arrays.hashCode(strides) * 17 + offset;
    }

    @Override
    public String toString() {
        return "Layout[shape=" + shape + ", strides=" + Arrays.toString(strides) + ", offset=" + offset + "]";
    }
}
