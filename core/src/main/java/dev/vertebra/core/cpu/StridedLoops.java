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
