package dev.vertebra.core.cpu;

import java.util.Arrays;

/**
 * Iteration over an output shape with one or two strided operands, after merging dimensions that are laid out
 * contiguously in every operand, so the innermost loop is as long as possible (a same-shape contiguous operation
 * becomes one flat loop; {@code [N, H, W, C] × [C]} becomes {@code [N·H·W, C]} with the vector at stride 0).
 */
final class StridedLoops {

    /**
     * A shape and per-operand strides with mergeable dimensions merged; {@code dims[rank-1]} is the inner loop.
     *
     * @param dims    merged dimensions
     * @param strides strides[operand][dim]
     */
    record Plan(int[] dims, int[][] strides) {

        int rank() {
            return dims.length;
        }

        int inner() {
            return dims.length == 0 ? 1 : dims[dims.length - 1];
        }

        int innerStride(int operand) {
            return dims.length == 0 ? 0 : strides[operand][dims.length - 1];
        }

        /** Number of inner rows (the product of all dimensions but the last). */
        int rows() {
            int n = 1;
            for (int i = 0; i < dims.length - 1; i++) {
                n *= dims[i];
            }
            return n;
        }

        /** A cursor at inner row {@code row}, for walking the rows that follow it. */
        RowCursor cursor(int row) {
            return new RowCursor(this, row);
        }

        /** Storage offset of inner row {@code row} for {@code operand}, relative to the operand's base offset. */
        int rowOffset(int operand, int row) {
            int off = 0;
            int r = row;
            for (int d = dims.length - 2; d >= 0; d--) {
                int size = dims[d];
                off += (r % size) * strides[operand][d];
                r /= size;
            }
            return off;
        }
    }

    /**
     * The storage offsets of consecutive inner rows for every operand, advanced like an odometer. Why: working out
     * a row's offsets from its index takes a division per dimension and operand, which cost more than the row itself
     * for an NHWC row of C elements times a [N, 1, 1, C] gate.
     */
    static final class RowCursor {
        private final int[] dims;
        private final int[][] strides;
        private final int[] index;     // digits of the current row over dims[0 .. rank-2]
        private final int[] offsets;   // offsets[operand], relative to the operand's base offset

        private RowCursor(Plan plan, int row) {
            dims = plan.dims();
            strides = plan.strides();
            index = new int[Math.max(0, dims.length - 1)];
            offsets = new int[strides.length];
            int r = row;
            for (int d = index.length - 1; d >= 0; d--) {
                index[d] = r % dims[d];
                r /= dims[d];
            }
            for (int o = 0; o < offsets.length; o++) {
                offsets[o] = plan.rowOffset(o, row);
            }
        }

        /** The current row's offset for {@code operand}. */
        int offset(int operand) {
            return offsets[operand];
        }

        /** Moves to the next row. */
        void next() {
            for (int d = index.length - 1; d >= 0; d--) {
                index[d]++;
                for (int o = 0; o < offsets.length; o++) {
                    offsets[o] += strides[o][d];
                }
                if (index[d] < dims[d]) {
                    return;
                }
                index[d] = 0;
                for (int o = 0; o < offsets.length; o++) {
                    offsets[o] -= strides[o][d] * dims[d];
                }
            }
        }
    }

    private StridedLoops() {
    }

    /** Merges dimensions of {@code dims} that are contiguous in every operand; drops size-1 dimensions. */
    static Plan plan(int[] dims, int[]... operandStrides) {
        int ops = operandStrides.length;
        int[] outDims = new int[dims.length];
        int[][] outStrides = new int[ops][dims.length];
        int rank = 0;
        for (int d = 0; d < dims.length; d++) {
            if (dims[d] == 1) {
                continue;
            }
            boolean merge = rank > 0;
            for (int o = 0; o < ops && merge; o++) {
                merge = outStrides[o][rank - 1] == operandStrides[o][d] * dims[d];
            }
            if (merge) {
                outDims[rank - 1] *= dims[d];
                for (int o = 0; o < ops; o++) {
                    outStrides[o][rank - 1] = operandStrides[o][d];
                }
            } else {
                outDims[rank] = dims[d];
                for (int o = 0; o < ops; o++) {
                    outStrides[o][rank] = operandStrides[o][d];
                }
                rank++;
            }
        }
        int[][] trimmed = new int[ops][];
        for (int o = 0; o < ops; o++) {
            trimmed[o] = Arrays.copyOf(outStrides[o], rank);
        }
        return new Plan(Arrays.copyOf(outDims, rank), trimmed);
    }
}
