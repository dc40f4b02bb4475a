package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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
     * C tile ← A · B-panel (+ C tile when accumulating) on a full {@value #MR} × {@link #NR} tile, A read in place:
     * rows of a row-major A, unit stride along k. Used when A needs no transpose or scaling, which saves the
     * (scalar, strided) packing of A; the six row streams are prefetch-friendly and stay in L1/L2 while B
     * micro-panels sweep past.
     *
     * @param kc    depth of the panels
     * @param bp    packed B micro-panel: [kc, NR] starting at bpOff
     * @param c     C: rows of length ≥ NR at cOff + i·ldc, i &lt; MR
     * @param accumulate false overwrites C without reading it (so NaN or garbage in C does not leak); true adds
     *
     * @param a A: row i of the tile at aOff + i·lda, k contiguous
     */
    static void fullDirect(int kc, float[] a, int aOff, int lda, float[] bp, int bpOff,
                     float[] c, int cOff, int ldc, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES);
        FloatVector c40 = FloatVector.zero(SPECIES), c41 = FloatVector.zero(SPECIES);
        FloatVector c50 = FloatVector.zero(SPECIES), c51 = FloatVector.zero(SPECIES);
        int a0 = aOff;
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        int a4 = a3 + lda;
        int a5 = a4 + lda;
        for (int p = 0; p < kc; p++) {
            int b = bpOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, bp, b);
            FloatVector b1 = FloatVector.fromArray(SPECIES, bp, b + LANES);
            FloatVector ai = FloatVector.broadcast(SPECIES, a[a0 + p]);
            c00 = ai.fma(b0, c00);
            c01 = ai.fma(b1, c01);
            ai = FloatVector.broadcast(SPECIES, a[a1 + p]);
            c10 = ai.fma(b0, c10);
            c11 = ai.fma(b1, c11);
            ai = FloatVector.broadcast(SPECIES, a[a2 + p]);
            c20 = ai.fma(b0, c20);
            c21 = ai.fma(b1, c21);
            ai = FloatVector.broadcast(SPECIES, a[a3 + p]);
            c30 = ai.fma(b0, c30);
            c31 = ai.fma(b1, c31);
            ai = FloatVector.broadcast(SPECIES, a[a4 + p]);
            c40 = ai.fma(b0, c40);
            c41 = ai.fma(b1, c41);
            ai = FloatVector.broadcast(SPECIES, a[a5 + p]);
            c50 = ai.fma(b0, c50);
            c51 = ai.fma(b1, c51);
        }
        // Stores are written out rather than factored into a helper: a call that C2 declines to inline would
        // box all twelve vectors on every tile.
        int r0 = cOff;
        int r1 = r0 + ldc;
        int r2 = r1 + ldc;
        int r3 = r2 + ldc;
        int r4 = r3 + ldc;
        int r5 = r4 + ldc;
        if (accumulate) {
            c00 = c00.add(FloatVector.fromArray(SPECIES, c, r0));
            c01 = c01.add(FloatVector.fromArray(SPECIES, c, r0 + LANES));
            c10 = c10.add(FloatVector.fromArray(SPECIES, c, r1));
            c11 = c11.add(FloatVector.fromArray(SPECIES, c, r1 + LANES));
            c20 = c20.add(FloatVector.fromArray(SPECIES, c, r2));
            c21 = c21.add(FloatVector.fromArray(SPECIES, c, r2 + LANES));
            c30 = c30.add(FloatVector.fromArray(SPECIES, c, r3));
            c31 = c31.add(FloatVector.fromArray(SPECIES, c, r3 + LANES));
            c40 = c40.add(FloatVector.fromArray(SPECIES, c, r4));
            c41 = c41.add(FloatVector.fromArray(SPECIES, c, r4 + LANES));
            c50 = c50.add(FloatVector.fromArray(SPECIES, c, r5));
            c51 = c51.add(FloatVector.fromArray(SPECIES, c, r5 + LANES));
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + LANES);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + LANES);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + LANES);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + LANES);
        c40.intoArray(c, r4);
        c41.intoArray(c, r4 + LANES);
        c50.intoArray(c, r5);
        c51.intoArray(c, r5 + LANES);
    }

    /**
     * The same tile with A stored transposed: [K, M], so the tile's {@value #MR} values at depth p are contiguous,
     * at {@code aOff + p·lda}. That is both a weight gradient's activations read in place (one row per pixel) and
     * a packed A micro-panel ([kc, MR], leading dimension MR, alpha already applied).
     *
     * @param a A stored transposed: element (i, p) of op(A) at aOff + p·lda + i
     */
    static void fullDirectTransposed(int kc, float[] a, int aOff, int lda, float[] bp, int bpOff,
                                     float[] c, int cOff, int ldc, boolean accumulate) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES);
        FloatVector c40 = FloatVector.zero(SPECIES), c41 = FloatVector.zero(SPECIES);
        FloatVector c50 = FloatVector.zero(SPECIES), c51 = FloatVector.zero(SPECIES);
        for (int p = 0; p < kc; p++) {
            int at = aOff + p * lda;
            int b = bpOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(SPECIES, bp, b);
            FloatVector b1 = FloatVector.fromArray(SPECIES, bp, b + LANES);
            FloatVector ai = FloatVector.broadcast(SPECIES, a[at]);
            c00 = ai.fma(b0, c00);
            c01 = ai.fma(b1, c01);
            ai = FloatVector.broadcast(SPECIES, a[at + 1]);
            c10 = ai.fma(b0, c10);
            c11 = ai.fma(b1, c11);
            ai = FloatVector.broadcast(SPECIES, a[at + 2]);
            c20 = ai.fma(b0, c20);
            c21 = ai.fma(b1, c21);
            ai = FloatVector.broadcast(SPECIES, a[at + 3]);
            c30 = ai.fma(b0, c30);
            c31 = ai.fma(b1, c31);
            ai = FloatVector.broadcast(SPECIES, a[at + 4]);
            c40 = ai.fma(b0, c40);
            c41 = ai.fma(b1, c41);
            ai = FloatVector.broadcast(SPECIES, a[at + 5]);
            c50 = ai.fma(b0, c50);
            c51 = ai.fma(b1, c51);
        }
        // Stores are written out rather than factored into a helper: a call that C2 declines to inline would
        // box all twelve vectors on every tile.
        int r0 = cOff;
        int r1 = r0 + ldc;
        int r2 = r1 + ldc;
        int r3 = r2 + ldc;
        int r4 = r3 + ldc;
        int r5 = r4 + ldc;
        if (accumulate) {
            c00 = c00.add(FloatVector.fromArray(SPECIES, c, r0));
            c01 = c01.add(FloatVector.fromArray(SPECIES, c, r0 + LANES));
            c10 = c10.add(FloatVector.fromArray(SPECIES, c, r1));
            c11 = c11.add(FloatVector.fromArray(SPECIES, c, r1 + LANES));
            c20 = c20.add(FloatVector.fromArray(SPECIES, c, r2));
            c21 = c21.add(FloatVector.fromArray(SPECIES, c, r2 + LANES));
            c30 = c30.add(FloatVector.fromArray(SPECIES, c, r3));
            c31 = c31.add(FloatVector.fromArray(SPECIES, c, r3 + LANES));
            c40 = c40.add(FloatVector.fromArray(SPECIES, c, r4));
            c41 = c41.add(FloatVector.fromArray(SPECIES, c, r4 + LANES));
            c50 = c50.add(FloatVector.fromArray(SPECIES, c, r5));
            c51 = c51.add(FloatVector.fromArray(SPECIES, c, r5 + LANES));
        }
        c00.intoArray(c, r0);
        c01.intoArray(c, r0 + LANES);
        c10.intoArray(c, r1);
        c11.intoArray(c, r1 + LANES);
        c20.intoArray(c, r2);
        c21.intoArray(c, r2 + LANES);
        c30.intoArray(c, r3);
        c31.intoArray(c, r3 + LANES);
        c40.intoArray(c, r4);
        c41.intoArray(c, r4 + LANES);
        c50.intoArray(c, r5);
        c51.intoArray(c, r5 + LANES);
    }

    /**
     * A partial tile (fewer than MR rows or NR columns, at the matrix edge) with A stored transposed (as in
     * {@link #fullDirectTransposed}): the panels are zero-padded, so the full kernel runs into a scratch tile and
     * only the valid {@code rows × cols} corner is merged into C.
     *
     * @param tile scratch: [MR, NR]
     */
    static void edgeTransposed(int kc, float[] a, int aOff, int lda, float[] bp, int bpOff, float[] c, int cOff,
                               int ldc, boolean accumulate, int rows, int cols, float[] tile) {
        fullDirectTransposed(kc, a, aOff, lda, bp, bpOff, tile, 0, NR, false);
        merge(tile, c, cOff, ldc, accumulate, rows, cols);
    }

    /**
     * A tile of at most {@link #LANES} columns with A read in place: six accumulators on the first vector of each B
     * row only, stored directly when they are whole vectors, else through {@code tile} ([MR, NR] scratch) and
     * {@link #merge}. The {@link #edgeDirect} path would compute a second vector of zero columns: the 16-column
     * products (an output or input gradient of 16 channels) then cost twice their FMAs. Six chains cover 3/4 of the
     * FMA latency; each sum is the full kernel's.
     */
    static void narrowDirect(int kc, float[] a, int aOff, int lda, float[] bp, int bpOff,
                             float[] c, int cOff, int ldc, boolean accumulate, int cols, float[] tile) {
        FloatVector c0 = FloatVector.zero(SPECIES);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        FloatVector c4 = c0;
        FloatVector c5 = c0;
        int a0 = aOff;
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        int a4 = a3 + lda;
        int a5 = a4 + lda;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, bp, bpOff + p * NR);
            c0 = FloatVector.broadcast(SPECIES, a[a0 + p]).fma(b0, c0);
            c1 = FloatVector.broadcast(SPECIES, a[a1 + p]).fma(b0, c1);
            c2 = FloatVector.broadcast(SPECIES, a[a2 + p]).fma(b0, c2);
            c3 = FloatVector.broadcast(SPECIES, a[a3 + p]).fma(b0, c3);
            c4 = FloatVector.broadcast(SPECIES, a[a4 + p]).fma(b0, c4);
            c5 = FloatVector.broadcast(SPECIES, a[a5 + p]).fma(b0, c5);
        }
        if (cols < LANES) {
            // Part of a vector: through the scratch tile and merge's masked loop. Six masked loads and stores
            // written out here could make the method more than C1 compiles with profiling (tier 3: "out of virtual
            // registers", depending on what it inlines), and a kernel first compiled at tier 2 then stayed in C1
            // code, 40× slower, for the rest of the run.
            c0.intoArray(tile, 0);
            c1.intoArray(tile, NR);
            c2.intoArray(tile, 2 * NR);
            c3.intoArray(tile, 3 * NR);
            c4.intoArray(tile, 4 * NR);
            c5.intoArray(tile, 5 * NR);
            merge(tile, c, cOff, ldc, accumulate, MR, cols);
            return;
        }
        int r0 = cOff;
        int r1 = r0 + ldc;
        int r2 = r1 + ldc;
        int r3 = r2 + ldc;
        int r4 = r3 + ldc;
        int r5 = r4 + ldc;
        if (accumulate) {
            c0 = c0.add(FloatVector.fromArray(SPECIES, c, r0));
            c1 = c1.add(FloatVector.fromArray(SPECIES, c, r1));
            c2 = c2.add(FloatVector.fromArray(SPECIES, c, r2));
            c3 = c3.add(FloatVector.fromArray(SPECIES, c, r3));
            c4 = c4.add(FloatVector.fromArray(SPECIES, c, r4));
            c5 = c5.add(FloatVector.fromArray(SPECIES, c, r5));
        }
        c0.intoArray(c, r0);
        c1.intoArray(c, r1);
        c2.intoArray(c, r2);
        c3.intoArray(c, r3);
        c4.intoArray(c, r4);
        c5.intoArray(c, r5);
    }

    /** {@link #edgeTransposed} with a row-major A read in place (full MR rows, fewer than NR columns). */
    static void edgeDirect(int kc, float[] a, int aOff, int lda, float[] bp, int bpOff,
                           float[] c, int cOff, int ldc, boolean accumulate, int cols, float[] tile) {
        fullDirect(kc, a, aOff, lda, bp, bpOff, tile, 0, NR, false);
        merge(tile, c, cOff, ldc, accumulate, MR, cols);
    }

    /**
     * Writes (or adds) the valid rows × cols corner of a scratch tile [MR, NR] into C, two masked vectors a row: a
     * scalar copy cost a 16-column tile with a short K as much as its product. The sum is the scalar one's
     * (C + tile, one rounding).
     */
    private static void merge(float[] tile, float[] c, int cOff, int ldc, boolean accumulate, int rows, int cols) {
        VectorMask<Float> lo = SPECIES.indexInRange(0, cols);
        VectorMask<Float> hi = SPECIES.indexInRange(LANES, cols);
        // Two loops rather than a test of `accumulate` in one: C2 would unswitch that loop on the test, copying the
        // masked accesses' range checks with it (26 kB of code, 106-218 ms of C2 time in B0's first steps).
        if (accumulate) {
            for (int i = 0; i < rows; i++) {
                int row = cOff + i * ldc;
                FloatVector.fromArray(SPECIES, tile, i * NR).add(FloatVector.fromArray(SPECIES, c, row, lo))
                        .intoArray(c, row, lo);
                FloatVector.fromArray(SPECIES, tile, i * NR + LANES)
                        .add(FloatVector.fromArray(SPECIES, c, row + LANES, hi)).intoArray(c, row + LANES, hi);
            }
            return;
        }
        for (int i = 0; i < rows; i++) {
            int row = cOff + i * ldc;
            FloatVector.fromArray(SPECIES, tile, i * NR).intoArray(c, row, lo);
            FloatVector.fromArray(SPECIES, tile, i * NR + LANES).intoArray(c, row + LANES, hi);
        }
    }
}
