package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked inner kernel of {@link Sgemm}: a {@value #MR} × {@link #NR} tile of C held in twelve vector
 * accumulators while the packed panels of A and B stream through.
 *
 * <p>Why this shape: each k step loads two vectors of B and broadcasts six scalars of A for twelve FMAs, so loads
 * stay well below the two FMA issues per cycle, and twelve independent accumulators cover the FMA latency
 * (4 cycles × 2 pipes = 8 in flight). Twelve accumulators + two B vectors + one broadcast fit the 32 vector
 * registers of AVX-512 (and the 16 of AVX2) without spills.
 */
final class SgemmMicroKernel {

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /** Lanes of one vector (16 with AVX-512). */
    static final int LANES = SPECIES.length();
    /** Rows of a C tile (and of a packed A micro-panel). */
    static final int MR = 6;
    /** Columns of a C tile (and of a packed B micro-panel): two vectors. */
    static final int NR = 2 * LANES;

    private SgemmMicroKernel() {
    }

    /**
     * C tile ← A-panel · B-panel + beta · C tile, on a full {@value #MR} × {@link #NR} tile.
     *
     * @param kc    depth of the panels
     * @param ap    packed A micro-panel: [kc, MR] starting at apOff (row index fastest, alpha already applied)
     * @param bp    packed B micro-panel: [kc, NR] starting at bpOff
     * @param c     C: rows of length ≥ NR at cOff + i·ldc, i &lt; MR
     * @param beta  0 overwrites C without reading it (so NaN or garbage in C does not leak), 1 adds, else scales
     */
    static void full(int kc, float[] ap, int apOff, float[] bp, int bpOff,
                     float[] c, int cOff, int ldc, float beta) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES);
        FloatVector c40 = FloatVector.zero(SPECIES), c41 = FloatVector.zero(SPECIES);
        FloatVector c50 = FloatVector.zero(SPECIES), c51 = FloatVector.zero(SPECIES);
        int a = apOff;
        int b = bpOff;
        for (int p = 0; p < kc; p++, a += MR, b += NR) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, bp, b);
            FloatVector b1 = FloatVector.fromArray(SPECIES, bp, b + LANES);
            FloatVector ai = FloatVector.broadcast(SPECIES, ap[a]);
            c00 = ai.fma(b0, c00);
            c01 = ai.fma(b1, c01);
            ai = FloatVector.broadcast(SPECIES, ap[a + 1]);
            c10 = ai.fma(b0, c10);
            c11 = ai.fma(b1, c11);
            ai = FloatVector.broadcast(SPECIES, ap[a + 2]);
            c20 = ai.fma(b0, c20);
            c21 = ai.fma(b1, c21);
            ai = FloatVector.broadcast(SPECIES, ap[a + 3]);
            c30 = ai.fma(b0, c30);
            c31 = ai.fma(b1, c31);
            ai = FloatVector.broadcast(SPECIES, ap[a + 4]);
            c40 = ai.fma(b0, c40);
            c41 = ai.fma(b1, c41);
            ai = FloatVector.broadcast(SPECIES, ap[a + 5]);
            c50 = ai.fma(b0, c50);
            c51 = ai.fma(b1, c51);
        }
        store(c00, c01, c, cOff, beta);
        store(c10, c11, c, cOff + ldc, beta);
        store(c20, c21, c, cOff + 2 * ldc, beta);
        store(c30, c31, c, cOff + 3 * ldc, beta);
        store(c40, c41, c, cOff + 4 * ldc, beta);
        store(c50, c51, c, cOff + 5 * ldc, beta);
    }

    /**
     * A partial tile (fewer than MR rows or NR columns, at the matrix edge): the panels are zero-padded, so the
     * full kernel runs into a scratch tile and only the valid {@code rows × cols} corner is merged into C.
     *
     * @param tile scratch: [MR, NR]
     */
    static void edge(int kc, float[] ap, int apOff, float[] bp, int bpOff,
                     float[] c, int cOff, int ldc, float beta, int rows, int cols, float[] tile) {
        full(kc, ap, apOff, bp, bpOff, tile, 0, NR, 0f);
        for (int i = 0; i < rows; i++) {
            int row = cOff + i * ldc;
            int t = i * NR;
            if (beta == 0f) {
                System.arraycopy(tile, t, c, row, cols);
            } else {
                for (int j = 0; j < cols; j++) {
                    c[row + j] = tile[t + j] + beta * c[row + j];
                }
            }
        }
    }

    private static void store(FloatVector v0, FloatVector v1, float[] c, int off, float beta) {
        if (beta == 0f) {
            v0.intoArray(c, off);
            v1.intoArray(c, off + LANES);
        } else if (beta == 1f) {
            v0.add(FloatVector.fromArray(SPECIES, c, off)).intoArray(c, off);
            v1.add(FloatVector.fromArray(SPECIES, c, off + LANES)).intoArray(c, off + LANES);
        } else {
            FloatVector.fromArray(SPECIES, c, off).mul(beta).add(v0).intoArray(c, off);
            FloatVector.fromArray(SPECIES, c, off + LANES).mul(beta).add(v1).intoArray(c, off + LANES);
        }
    }
}
