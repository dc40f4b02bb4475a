package dev.vertebra.core.cpu;

import static dev.vertebra.core.cpu.SgemmMicroKernel.LANES;
import static dev.vertebra.core.cpu.SgemmMicroKernel.MR;
import static dev.vertebra.core.cpu.SgemmMicroKernel.NR;
import static dev.vertebra.core.cpu.SgemmMicroKernel.SPECIES;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Copies blocks of op(A) and op(B) into the contiguous, zero-padded micro-panel order the micro-kernel reads, so
 * its loads are unit-stride whatever the transposes and leading dimensions of the caller's matrices.
 */
final class SgemmPacking {

    private SgemmPacking() {
    }

    /**
     * Packs alpha · op(A)[i0 : i0+mc, p0 : p0+kc] as ceil(mc / MR) micro-panels.
     *
     * @param a   A: [M, K] with row stride lda, or [K, M] when transA
     * @param dst packed: [ceil(mc / MR), kc, MR]; rows past mc are zero
     */
    static void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc,
                      float alpha, float[] dst) {
        int d = 0;
        for (int ip = 0; ip < mc; ip += MR) {
            int rows = Math.min(MR, mc - ip);
            if (transA) {
                for (int p = 0; p < kc; p++, d += MR) {
                    int src = aOff + (p0 + p) * lda + i0 + ip;
                    for (int i = 0; i < rows; i++) {
                        dst[d + i] = alpha * a[src + i];
                    }
                    for (int i = rows; i < MR; i++) {
                        dst[d + i] = 0f;
                    }
                }
            } else {
                // k outer, rows inner: six read streams, one sequential write stream.
                int src = aOff + (i0 + ip) * lda + p0;
                for (int p = 0; p < kc; p++, d += MR) {
                    for (int i = 0; i < rows; i++) {
                        dst[d + i] = alpha * a[src + i * lda + p];
                    }
                    for (int i = rows; i < MR; i++) {
                        dst[d + i] = 0f;
                    }
                }
            }
        }
    }

    /**
     * Packs op(B)[p0 : p0+kc, j0 : j0+nc] as ceil(nc / NR) micro-panels.
     *
     * @param b   B: [K, N] with row stride ldb, or [N, K] when transB
     * @param dst packed: [ceil(nc / NR), kc, NR] from dstOff; columns past nc are zero
     */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc,
                      float[] dst, int dstOff) {
        packB(transB, b, bOff, ldb, p0, kc, j0, nc, dst, dstOff, null, 0);
    }

    /**
     * {@link #packB(boolean, float[], int, int, int, int, int, int, float[], int)} with row p of op(B) multiplied by
     * {@code rowScale[rowScaleOff + p]} (each product rounded once), or unscaled when rowScale is null.
     */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc,
                      float[] dst, int dstOff, float[] rowScale, int rowScaleOff) {
        if (!transB) {
            packUntransposedB(b, bOff, ldb, p0, kc, j0, nc, dst, dstOff, rowScale, rowScaleOff);
            return;
        }
        int d = dstOff;
        for (int jp = 0; jp < nc; jp += NR, d += kc * NR) {
            int cols = Math.min(NR, nc - jp);
            if (cols < NR) {
                Arrays.fill(dst, d, d + kc * NR, 0f);
            }
            for (int j = 0; j < cols; j++) {
                int src = bOff + (j0 + jp + j) * ldb + p0;
                for (int p = 0; p < kc; p++) {
                    dst[d + p * NR + j] = rowScale == null ? b[src + p]
                            : b[src + p] * rowScale[rowScaleOff + p0 + p];
                }
            }
        }
    }

    /**
     * {@link #packB} of a B stored [K, N], micro-panel by micro-panel. The last panel's columns past nc are loaded
     * (and scaled) masked, so they stay zero: a copy and a fill per row cost 3× more at 16 columns (B0's
     * 16-channel weight gradients), where the panel is half empty.
     *
     * <p>Shapes: B rows p0..p0+kc, columns j0..j0+nc; dst [ceil(nc / NR), kc, NR] from dstOff.
     */
    private static void packUntransposedB(float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc,
                                          float[] dst, int dstOff, float[] rowScale, int rowScaleOff) {
        int d = dstOff;
        for (int jp = 0; jp < nc; jp += NR, d += kc * NR) {
            int cols = Math.min(NR, nc - jp);
            VectorMask<Float> lo = SPECIES.indexInRange(0, cols);
            VectorMask<Float> hi = SPECIES.indexInRange(LANES, cols);
            for (int p = 0; p < kc; p++) {
                int src = bOff + (p0 + p) * ldb + j0 + jp;
                float factor = rowScale == null ? 1f : rowScale[rowScaleOff + p0 + p];
                FloatVector v0;
                FloatVector v1;
                if (cols == NR) {
                    v0 = FloatVector.fromArray(SPECIES, b, src);
                    v1 = FloatVector.fromArray(SPECIES, b, src + LANES);
                    if (rowScale != null) {
                        v0 = v0.mul(factor);
                        v1 = v1.mul(factor);
                    }
                } else {
                    v0 = FloatVector.fromArray(SPECIES, b, src, lo);
                    v1 = cols > LANES ? FloatVector.fromArray(SPECIES, b, src + LANES, hi)
                            : FloatVector.zero(SPECIES);
                    if (rowScale != null) {
                        v0 = v0.lanewise(VectorOperators.MUL, factor, lo);
                        v1 = v1.lanewise(VectorOperators.MUL, factor, hi);
                    }
                }
                v0.intoArray(dst, d + p * NR);
                v1.intoArray(dst, d + p * NR + LANES);
            }
        }
    }
}
