package dev.vertebra.core.cpu;

import dev.vertebra.core.BinaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code y[r, :] = a[r, :] op b[:]} over a block of contiguous rows: an NHWC activation times (or plus) a
 * per-channel vector — batch norm's scale and shift in evaluation, the squeeze-excitation gate. The general
 * strided loop makes one call per row, which at 16–64 channels costs more than the arithmetic; here one call
 * covers many rows, and each op has a loop of its own so that nothing in it waits on a switch.
 *
 * <p>Shapes: a and y [rows, c] contiguous from their offsets, b [c] contiguous. Results equal
 * {@link BinaryOp#apply} element by element (one IEEE operation each).
 */
final class RowBroadcast {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private RowBroadcast() {
    }

    /** True for the ops this kernel does. */
    static boolean supports(BinaryOp op) {
        return op == BinaryOp.ADD || op == BinaryOp.SUB || op == BinaryOp.MUL || op == BinaryOp.DIV;
    }

    static void apply(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] y, int yo, int rows, int c) {
        switch (op) {
            case ADD -> add(a, ao, b, bo, y, yo, rows, c);
            case SUB -> sub(a, ao, b, bo, y, yo, rows, c);
            case MUL -> mul(a, ao, b, bo, y, yo, rows, c);
            case DIV -> div(a, ao, b, bo, y, yo, rows, c);
            default -> throw new IllegalArgumentException(op + " is not a row-broadcast op");
        }
    }

    /**
     * {@link #apply} as plain float arithmetic, element by element: the same correctly rounded results. For small
     * blocks (the squeeze-excitations' biases in training, [N, C] of a few thousand elements a call at batch 8): these
     * loops are cheap as C1 code and quick for C2 to compile (which vectorizes them), where the vector loops above ran
     * as C1 code, boxing every vector, through the first steps, and C2 compiled them (35 ms) during the steps B0's
     * side-by-side measures (bench/NOTES.md, thirty-first round).
     */
    static void applyPlain(BinaryOp op, float[] a, int ao, float[] b, int bo, float[] y, int yo, int rows, int c) {
        for (int r = 0; r < rows; r++) {
            int ar = ao + r * c;
            int yr = yo + r * c;
            switch (op) {
                case ADD -> {
                    for (int j = 0; j < c; j++) {
                        y[yr + j] = a[ar + j] + b[bo + j];
                    }
                }
                case SUB -> {
                    for (int j = 0; j < c; j++) {
                        y[yr + j] = a[ar + j] - b[bo + j];
                    }
                }
                case MUL -> {
                    for (int j = 0; j < c; j++) {
                        y[yr + j] = a[ar + j] * b[bo + j];
                    }
                }
                case DIV -> {
                    for (int j = 0; j < c; j++) {
                        y[yr + j] = a[ar + j] / b[bo + j];
                    }
                }
                default -> throw new IllegalArgumentException(op + " is not a row-broadcast op");
            }
        }
    }

    private static void add(float[] a, int ao, float[] b, int bo, float[] y, int yo, int rows, int c) {
        int end = S.loopBound(c);
        for (int r = 0; r < rows; r++) {
            int ar = ao + r * c;
            int yr = yo + r * c;
            int j = 0;
            for (; j < end; j += S.length()) {
                FloatVector.fromArray(S, a, ar + j).add(FloatVector.fromArray(S, b, bo + j)).intoArray(y, yr + j);
            }
            for (; j < c; j++) {
                y[yr + j] = a[ar + j] + b[bo + j];
            }
        }
    }

    private static void sub(float[] a, int ao, float[] b, int bo, float[] y, int yo, int rows, int c) {
        int end = S.loopBound(c);
        for (int r = 0; r < rows; r++) {
            int ar = ao + r * c;
            int yr = yo + r * c;
            int j = 0;
            for (; j < end; j += S.length()) {
                FloatVector.fromArray(S, a, ar + j).sub(FloatVector.fromArray(S, b, bo + j)).intoArray(y, yr + j);
            }
            for (; j < c; j++) {
                y[yr + j] = a[ar + j] - b[bo + j];
            }
        }
    }

    private static void mul(float[] a, int ao, float[] b, int bo, float[] y, int yo, int rows, int c) {
        int end = S.loopBound(c);
        for (int r = 0; r < rows; r++) {
            int ar = ao + r * c;
            int yr = yo + r * c;
            int j = 0;
            for (; j < end; j += S.length()) {
                FloatVector.fromArray(S, a, ar + j).mul(FloatVector.fromArray(S, b, bo + j)).intoArray(y, yr + j);
            }
            for (; j < c; j++) {
                y[yr + j] = a[ar + j] * b[bo + j];
            }
        }
    }

    private static void div(float[] a, int ao, float[] b, int bo, float[] y, int yo, int rows, int c) {
        int end = S.loopBound(c);
        for (int r = 0; r < rows; r++) {
            int ar = ao + r * c;
            int yr = yo + r * c;
            int j = 0;
            for (; j < end; j += S.length()) {
                FloatVector.fromArray(S, a, ar + j).div(FloatVector.fromArray(S, b, bo + j)).intoArray(y, yr + j);
            }
            for (; j < c; j++) {
                y[yr + j] = a[ar + j] / b[bo + j];
            }
        }
    }
}
