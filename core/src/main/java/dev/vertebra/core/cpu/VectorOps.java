package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Small vectorised loops the convolution kernels share. */
final class VectorOps {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private VectorOps() {
    }

    /** dst[dstOff + i] += src[srcOff + i] for i &lt; length. */
    static void addInto(float[] src, int srcOff, float[] dst, int dstOff, int length) {
        int i = 0;
        for (int end = SPECIES.loopBound(length); i < end; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, dst, dstOff + i)
                    .add(FloatVector.fromArray(SPECIES, src, srcOff + i))
                    .intoArray(dst, dstOff + i);
        }
        for (; i < length; i++) {
            dst[dstOff + i] += src[srcOff + i];
        }
    }

    /**
     * d[dOff + i] = a·d[dOff + i] + b·s[sOff + i] for i &lt; length, each product rounded, then the sum (no fused
     * multiply-add: the result equals the separate scalar multiplications and addition bit for bit).
     */
    static void scaleAdd(float[] d, int dOff, float a, float[] s, int sOff, float b, int length) {
        int i = 0;
        for (int end = SPECIES.loopBound(length); i < end; i += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, d, dOff + i).mul(a)
                    .add(FloatVector.fromArray(SPECIES, s, sOff + i).mul(b))
                    .intoArray(d, dOff + i);
        }
        for (; i < length; i++) {
            d[dOff + i] = a * d[dOff + i] + b * s[sOff + i];
        }
    }

    /**
     * Adds a bias row to each of {@code rows} rows.
     *
     * @param y    rows: [rows, width] with row stride ldy, from yOff
     * @param bias [width] from biasOff
     */
    static void addRowBias(float[] y, int yOff, int rows, int width, int ldy, float[] bias, int biasOff) {
        for (int r = 0; r < rows; r++) {
            addInto(bias, biasOff, y, yOff + r * ldy, width);
        }
    }
}
