package dev.vertebra.cuda;

import dev.vertebra.core.Layout;
import dev.vertebra.core.Shape;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The kernels' {@code VxView} struct (vertebra_common.cuh): rank, offset, 8 sizes, 8 strides, all 32-bit.
 * Element {@code i} in C order of {@code shape} lives at {@code offset + Σ index[d]·stride[d]}.
 */
record StridedView(int offset, int[] shape, int[] strides) {
    static final int MAX_DIMS = 8;
    static final long BYTES = 4L * (2 + 2 * MAX_DIMS);

    StridedView {
        if (shape.length > MAX_DIMS) {
            throw new UnsupportedOperationException("CUDA kernels take at most " + MAX_DIMS
                    + " dimensions after merging contiguous ones; got shape " + Arrays.toString(shape));
        }
    }

    /** The view exactly as {@code layout} describes it (no merging): for kernels that need each dimension. */
    static StridedView of(Layout layout) {
        return new StridedView(layout.offset(), layout.shape().dims(), layout.strides());
    }

    /** A C-contiguous view of {@code shape} from element 0. */
    static StridedView contiguous(Shape shape) {
        return of(Layout.contiguous(shape));
    }

    /**
     * Views of several layouts of one shape, with size-1 dimensions dropped and neighbours merged wherever every
     * layout allows it, so common cases become 1-D or 2-D and deep views still fit {@value #MAX_DIMS} dimensions.
     */
    static StridedView[] merged(Layout... layouts) {
        int[] dims = layouts[0].shape().dims();
        int[][] strides = new int[layouts.length][];
        for (int k = 0; k < layouts.length; k++) {
            if (!Arrays.equals(layouts[k].shape().dims(), dims)) {
                throw new IllegalArgumentException("layouts of different shapes: " + Arrays.toString(layouts));
            }
            strides[k] = layouts[k].strides();
        }
        int[] outDims = new int[dims.length];
        int[][] outStrides = new int[layouts.length][dims.length];
        int rank = 0;
        for (int d = 0; d < dims.length; d++) {
            if (dims[d] == 1) {
                continue;
            }
            boolean mergeable = rank > 0;
            for (int k = 0; k < layouts.length && mergeable; k++) {
                mergeable = outStrides[k][rank - 1] == strides[k][d] * dims[d];
            }
            if (mergeable) {
                outDims[rank - 1] *= dims[d];
                for (int k = 0; k < layouts.length; k++) {
                    outStrides[k][rank - 1] = strides[k][d];
                }
            } else {
                outDims[rank] = dims[d];
                for (int k = 0; k < layouts.length; k++) {
                    outStrides[k][rank] = strides[k][d];
                }
                rank++;
            }
        }
        StridedView[] views = new StridedView[layouts.length];
        for (int k = 0; k < layouts.length; k++) {
            views[k] = new StridedView(layouts[k].offset(), Arrays.copyOf(outDims, rank),
                    Arrays.copyOf(outStrides[k], rank));
        }
        return views;
    }

    /** Writes the struct into {@code target} (at least {@link #BYTES} long). */
    void writeTo(MemorySegment target) {
        target.set(JAVA_INT, 0, shape.length);
        target.set(JAVA_INT, 4, offset);
        for (int d = 0; d < shape.length; d++) {
            target.set(JAVA_INT, 8 + 4L * d, shape[d]);
            target.set(JAVA_INT, 8 + 4L * (MAX_DIMS + d), strides[d]);
        }
    }
}
