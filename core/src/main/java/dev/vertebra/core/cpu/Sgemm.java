package dev.vertebra.core.cpu;

import static dev.vertebra.core.cpu.SgemmMicroKernel.MR;
import static dev.vertebra.core.cpu.SgemmMicroKernel.NR;

/**
 * Single-precision matrix multiply on row-major {@code float[]} matrices:
 * {@code C[M, N] = alpha · op(A) · op(B) + beta · C}, with op(X) = X or Xᵀ.
 *
 * <p>Row-major means element (i, j) of a matrix with leading dimension {@code ld} stored from {@code off} is
 * {@code x[off + i·ld + j]}. With {@code transA}, A is stored as [K, M] (so op(A) = Aᵀ is [M, K]); with
 * {@code transB}, B is stored as [N, K].
 *
 * <p>How it is fast: C is cut into tiles that run as parallel tasks on {@link CpuThreads}; each task walks K in
 * blocks of {@value #KC}, packs its slice of op(B) into contiguous micro-panels (per-thread buffers, reused across
 * calls) and sweeps them with the register-blocked {@link SgemmMicroKernel}, so that a B micro-panel stays in L1
 * while {@value #MC}-row blocks of A stream from L2. A is read in place when alpha is 1, row-major or transposed
 * (a weight gradient's xᵀ: the tile's six values at each depth are contiguous), and packed otherwise. A large
 * product packs each K block of B once, all threads together, into a buffer its tasks share; so does a smaller one
 * whose tasks would otherwise pack the same slice of B several times (row tiles of one item, or a batch sharing B).
 * Each element of C is produced by one task with a fixed summation order, so results do not depend on scheduling.
 *
 * <pre>{@code
 * // y[rows, out] = x[rows, in] · w[in, out]
 * Sgemm.sgemm(false, false, rows, out, in, 1f, x, 0, in, w, 0, out, 0f, y, 0, out);
 * }</pre>
 */
public final class Sgemm {

    /** Depth of a packed block: a B micro-panel of KC × NR floats (32 KiB with AVX-512) fits L1. */
    static final int KC = 256;
    /** Rows of a packed A block: MC × KC floats (192 KiB) stays in L2 while B micro-panels stream past. */
    static final int MC = 192;
    // Task tiles. When a task packs its own B (vector copies) that costs about 2 / TASK_M of its work, and packing
    // a transposed or scaled A (scalar, strided) about 32 / TASK_N, so tiles are wide and short.
    private static final int TASK_M = MC;
    private static final int TASK_N = 1024;
    private static final int MIN_TASK_M = 48;
    private static final int MIN_TASK_N = 64;
    // A product with at least this many rows shares one packed B among its tasks.
    private static final int SHARED_B_MIN_ROWS = 4 * MC;
    // Its row tiles: about this many per thread, within [MC / 2, 2 · MC] rows.
    private static final int SHARED_TILES_PER_THREAD = 16;
    private static final int SHARED_TILE_MIN_M = MC / 2;
    private static final int SHARED_TILE_MAX_M = 2 * MC;
    // Most floats of B packed up front for a whole call (64 MiB); beyond, each task packs its own slice.
    private static final long MAX_PREPACKED_FLOATS = 16L << 20;
    /** Most floats of one K block's B panels for the striped order: 96 KiB, a short-K product's B in L2. */
    private static final long STRIPED_B_FLOATS = 24L << 10;
    // Row tiles (of TASK_M) up to which a batch whose items have their own B runs one tile per item.
    private static final int ONE_TILE_MAX_TILES = 4;
    // Below this many flops a call runs on one thread: handing work to the pool costs microseconds.
    private static final long PARALLEL_FLOPS = 1L << 21;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private Sgemm() {
    }

    /**
     * {@code C = alpha · op(A) · op(B) + beta · C}. With {@code beta == 0} C is only written, never read.
     *
     * @param m   rows of op(A) and C
     * @param n   columns of op(B) and C
     * @param k   columns of op(A), rows of op(B)
     * @param a   A: [M, K] row stride lda, or [K, M] when transA; from aOff
     * @param b   B: [K, N] row stride ldb, or [N, K] when transB; from bOff
     * @param c   C: [M, N] row stride ldc, from cOff
     * @throws IllegalArgumentException on negative sizes, leading dimensions too small, or arrays too short
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k,
                             float alpha, float[] a, int aOff, int lda,
                             float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        sgemmBatched(1, transA, transB, m, n, k, alpha, a, aOff, lda, 0, b, bOff, ldb, 0, beta, c, cOff, ldc, 0);
    }

    /**
     * A batch of independent products: for each {@code t < batch},
     * {@code C_t = alpha · op(A_t) · op(B_t) + beta · C_t} where matrix t of X starts at
     * {@code xOff + t · strideX}. A stride of 0 reuses one matrix for the whole batch (e.g. shared weights).
     * C strides must keep the outputs disjoint.
     *
     * @param a A_t: [M, K] (or [K, M] when transA), row stride lda, from aOff + t·strideA
     * @param b B_t: [K, N] (or [N, K] when transB), row stride ldb, from bOff + t·strideB
     * @param c C_t: [M, N], row stride ldc, from cOff + t·strideC
     */
    public static void sgemmBatched(int batch, boolean transA, boolean transB, int m, int n, int k,
                                    float alpha, float[] a, int aOff, int lda, int strideA,
                                    float[] b, int bOff, int ldb, int strideB,
                                    float beta, float[] c, int cOff, int ldc, int strideC) {
        sgemmBatched(batch, transA, transB, m, n, k, alpha, a, aOff, lda, strideA, b, bOff, ldb, strideB,
                beta, c, cOff, ldc, strideC, null);
    }

    /**
     * Work a caller does on a finished tile of C while the tile is still in cache (a convolution's per-channel
     * epilogue): rows {@code [i0, i1)} and columns {@code [j0, j1)} of C_item hold their final values.
     */
    @FunctionalInterface
    interface TileEpilogue {
        /**
         * C_item[i0:i1, j0:j1] is final. Within a task tile the calls come from one thread, in row order (the whole
         * tile at once, or strips of rows).
         */
        void finish(int item, int i0, int i1, int j0, int j1);

        /**
         * Task tiles then start at multiples of this many rows (1: anywhere), for an epilogue that gathers blocks of
         * rows as they come and needs each block within one task. Tile sizes change no sum.
         */
        default int rowAlignment() {
            return 1;
        }
    }

    /** {@link #sgemm} that hands every finished tile of C to {@code epilogue} before the tile's task ends. */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc, TileEpilogue epilogue) {
        sgemmBatched(1, transA, transB, m, n, k, alpha, a, aOff, lda, 0, b, bOff, ldb, 0, beta, c, cOff, ldc, 0,
                epilogue);
    }

    /** {@link #sgemmBatched} that hands every finished tile of C to {@code epilogue} before the tile's task ends. */
    static void sgemmBatched(int batch, boolean transA, boolean transB, int m, int n, int k,
                             float alpha, float[] a, int aOff, int lda, int strideA,
                             float[] b, int bOff, int ldb, int strideB,
                             float beta, float[] c, int cOff, int ldc, int strideC, TileEpilogue epilogue) {
        if (batch < 0 || m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(
                    "negative size: batch=" + batch + " m=" + m + " n=" + n + " k=" + k);
        }
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        checkMatrix("A", a, aOff, lda, strideA, batch, transA ? k : m, transA ? m : k);
        checkMatrix("B", b, bOff, ldb, strideB, batch, transB ? n : k, transB ? k : n);
        checkMatrix("C", c, cOff, ldc, strideC, batch, m, n);
        new Plan(batch, transA, transB, m, n, k, alpha, a, aOff, lda, strideA,
                b, bOff, ldb, strideB, beta, c, cOff, ldc, strideC, epilogue, null, 0, 0, null).run();
    }

    /**
     * op(B) packed once into the micro-panels the kernel reads, for several products that share it (the expansion
     * weights of a fused convolution chain, used by every row band): {@link #packB} writes it, {@link #sgemm(int,
     * int, int, float[], int, int, PackedB, float[], int, int, TileEpilogue)} reads it.
     *
     * @param panels K blocks of {@value #KC} rows, each [N' / NR, kc, NR] (N' = N rounded up to NR)
     */
    record PackedB(float[] panels, int k, int n) {
    }

    /** Floats {@link #packB} writes for a [K, N] op(B). */
    static long packedSize(int k, int n) {
        return (long) k * roundUp(n, NR);
    }

    /**
     * Packs op(B) ([K, N]; stored [N, K] when transB) into {@code into}, at least {@link #packedSize} floats, the
     * threads sharing the work where the caller is not itself a parallel task.
     */
    static PackedB packB(boolean transB, int k, int n, float[] b, int bOff, int ldb, float[] into) {
        if (k < 0 || n < 0) {
            throw new IllegalArgumentException("negative size: k=" + k + " n=" + n);
        }
        checkMatrix("B", b, bOff, ldb, 0, 1, transB ? n : k, transB ? k : n);
        if (into.length < packedSize(k, n)) {
            throw new IllegalArgumentException("packed B needs " + packedSize(k, n) + " floats, got " + into.length);
        }
        if (k > 0 && n > 0) {
            new Plan(1, false, transB, 0, n, k, 1f, null, 0, 0, 0, b, bOff, ldb, 0, 0f, null, 0, 0, 0, null, null, 0,
                    0, null).packAllOfB(into);
        }
        return new PackedB(into, k, n);
    }

    /**
     * {@code C = A · B} (A [M, K] row-major, overwriting C) with B packed by {@link #packB}; every finished tile of
     * C goes to {@code epilogue}. The same values as {@link #sgemm} on the unpacked B.
     */
    static void sgemm(int m, int n, int k, float[] a, int aOff, int lda, PackedB b, float[] c, int cOff, int ldc,
                      TileEpilogue epilogue) {
        if (m < 0 || n != b.n() || k != b.k()) {
            throw new IllegalArgumentException("A [" + m + ", " + k + "] · packed B [" + b.k() + ", " + b.n()
                    + "] → C [" + m + ", " + n + "]");
        }
        if (m == 0 || n == 0) {
            return;
        }
        checkMatrix("A", a, aOff, lda, 0, 1, m, k);
        checkMatrix("C", c, cOff, ldc, 0, 1, m, n);
        new Plan(1, false, false, m, n, k, 1f, a, aOff, lda, 0, null, 0, 0, 0, 0f, c, cOff, ldc, 0, epilogue, null,
                0, 0, b.panels()).run();
    }

    /**
     * {@code C_t = A_t · diag(s_t) · B} for each {@code t < batch}: one B shared by the batch, its row p scaled by
     * {@code s_t[p] = rowScale[rowScaleOff + t · rowScaleStride + p]} as it is packed, each product rounded once
     * (the same values as scaling a copy of B first). A squeeze-excitation gate folded into a 1×1 convolution's
     * weights, without a per-image copy of them. Every finished tile goes to {@code epilogue}.
     *
     * @param a A_t: [M, K], row stride lda, from aOff + t·strideA
     * @param b B: [K, N], row stride ldb, from bOff
     * @param c C_t: [M, N], row stride ldc, from cOff + t·strideC, overwritten
     */
    static void sgemmBatchedRowScaledB(int batch, int m, int n, int k, float[] a, int aOff, int lda, int strideA,
                                       float[] b, int bOff, int ldb, float[] rowScale, int rowScaleOff,
                                       int rowScaleStride, float[] c, int cOff, int ldc, int strideC,
                                       TileEpilogue epilogue) {
        if (batch < 0 || m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(
                    "negative size: batch=" + batch + " m=" + m + " n=" + n + " k=" + k);
        }
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        checkMatrix("A", a, aOff, lda, strideA, batch, m, k);
        checkMatrix("B", b, bOff, ldb, 0, 1, k, n);
        checkMatrix("row scale", rowScale, rowScaleOff, Math.max(1, k), rowScaleStride, batch, 1, k);
        checkMatrix("C", c, cOff, ldc, strideC, batch, m, n);
        new Plan(batch, false, false, m, n, k, 1f, a, aOff, lda, strideA, b, bOff, ldb, 0, 0f, c, cOff, ldc,
                strideC, epilogue, rowScale, rowScaleOff, rowScaleStride, null).run();
    }

    private static void checkMatrix(String name, float[] x, int off, int ld, int stride, int batch,
                                    int rows, int cols) {
        if (ld < Math.max(1, cols) || off < 0 || stride < 0) {
            throw new IllegalArgumentException(name + ": leading dimension " + ld + " < columns " + cols
                    + " or negative offset/stride (offset " + off + ", stride " + stride + ")");
        }
        if (rows == 0 || cols == 0) {
            return;
        }
        long last = off + (long) (batch - 1) * stride + (long) (rows - 1) * ld + cols - 1;
        if (last >= x.length) {
            throw new IllegalArgumentException(name + ": [" + rows + ", " + cols + "] with ld " + ld
                    + ", offset " + off + ", batch " + batch + " × stride " + stride
                    + " needs index " + last + " but the array has " + x.length + " elements");
        }
    }

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    /** Per-thread packing buffers, grown on demand and kept for the next call. */
    private static final class Workspace {
        float[] packedA = new float[0]; // [MC / MR, KC, MR]
        float[] packedB = new float[0]; // [TASK_N / NR, KC, NR]
        final float[] tile = new float[MR * NR]; // [MR, NR] scratch for edge tiles

        float[] packedA(int size) {
            if (packedA.length < size) {
                packedA = new float[size];
            }
            return packedA;
        }

        float[] sharedB = new float[0]; // [ceil(N / NR), KC, NR], filled by all threads for one call

        float[] sharedB(int size) {
            if (sharedB.length < size) {
                sharedB = new float[size];
            }
            return sharedB;
        }

        float[] packedB(int size) {
            if (packedB.length < size) {
                packedB = new float[size];
            }
            return packedB;
        }
    }

    /**
     * One call's arguments and its split of C into tasks of tileM × tileN (per batch item); {@code packedB}, when
     * not null, is all of op(B) packed by {@link #packB} (and b is not read).
     */
    private record Plan(int batch, boolean transA, boolean transB, int m, int n, int k,
                        float alpha, float[] a, int aOff, int lda, int strideA,
                        float[] b, int bOff, int ldb, int strideB,
                        float beta, float[] c, int cOff, int ldc, int strideC, TileEpilogue epilogue,
                        float[] rowScale, int rowScaleOff, int rowScaleStride, float[] packedB) {

        void run() {
            int tilesM = ceilDiv(m, TASK_M);
            int tilesN = ceilDiv(n, TASK_N);
            long flops = 2L * batch * m * n * Math.max(k, 1);
            boolean parallel = flops >= PARALLEL_FLOPS && CpuThreads.parallelism() > 1
                    && !CpuThreads.insideParallelRegion();
            if ((strideB != 0 || rowScale != null) && tilesM <= ONE_TILE_MAX_TILES
                    && (long) batch * tilesN >= 2L * CpuThreads.parallelism()) {
                // Items with a B of their own (a gated 1×1 convolution: each image's weights scaled by its gate)
                // and enough of them to keep every thread busy: one row tile per item, which packs its B once
                // while it is in cache, instead of several tiles, which pack every item's B up front (8 × K × N
                // floats at 14² × 672 → 112, more than A itself). Gated 14² products 15–25 % faster.
                tilesM = 1;
            }
            if (parallel && batch == 1 && k > 0 && m >= SHARED_B_MIN_ROWS && packedB == null) {
                runSharedB();
                return;
            }
            // Aim for three tasks per thread so a core slowed by another process does not hold the call back, and
            // tasks of unequal cost even out: with two a thread, the four-task products of B0's training step at
            // batch 8 left a thread idle a fifth of their time, and the step ran 2 % slower (bench/NOTES.md).
            int wanted = parallel ? 3 * CpuThreads.parallelism() : 1;
            while ((long) batch * tilesM * tilesN < wanted) {
                boolean canSplitM = m / (tilesM + 1) >= MIN_TASK_M;
                boolean canSplitN = n / (tilesN + 1) >= MIN_TASK_N;
                if (canSplitM && (!canSplitN || ceilDiv(m, tilesM) >= ceilDiv(n, tilesN) / 4)) {
                    tilesM++;
                } else if (canSplitN) {
                    tilesN++;
                } else {
                    break;
                }
            }
            int tileM = alignedRows(roundUp(ceilDiv(m, tilesM), MR));
            int tileN = roundUp(ceilDiv(n, tilesN), NR);
            int perBatch = ceilDiv(m, tileM) * ceilDiv(n, tileN);
            int tasks = batch * perBatch;
            int tilesAcross = ceilDiv(n, tileN);
            // Tiles that would pack the same slice of B each (several row tiles of an item, or items sharing one
            // B) read it packed once, up front, by all threads.
            int distinctB = strideB == 0 && rowScale == null ? 1 : batch;
            long prepackedSize = (long) distinctB * k * roundUp(n, NR);
            boolean prepack = parallel && k > 0 && tasks > distinctB * tilesAcross
                    && prepackedSize <= MAX_PREPACKED_FLOATS;
            float[] prepacked = packedB != null && k > 0 ? packedB
                    : prepack ? prepackB(distinctB, (int) prepackedSize) : null;
            CpuThreads.RangeBody body = (from, to) -> {
                for (int t = from; t < to; t++) {
                    int item = t / perBatch;
                    int tileRow = (t % perBatch) / tilesAcross;
                    int tileCol = (t % perBatch) % tilesAcross;
                    int i0 = tileRow * tileM;
                    int j0 = tileCol * tileN;
                    if (prepacked != null) {
                        runPrepackedTile(item, i0, Math.min(m, i0 + tileM), j0, Math.min(n, j0 + tileN), prepacked,
                                distinctB == 1 ? 0 : item);
                    } else {
                        runTile(item, i0, Math.min(m, i0 + tileM), j0, Math.min(n, j0 + tileN));
                    }
                }
            };
            if (parallel) {
                CpuThreads.parallelFor(0, tasks, 1, body);
            } else {
                body.run(0, tasks);
            }
        }

        /** C_item[i0:i1, j0:j1] for the whole depth K, packing its own slice of op(B). */
        private void runTile(int item, int i0, int i1, int j0, int j1) {
            int cBase = cOff + item * strideC;
            if (k == 0) {
                scaleTile(cBase, i0, i1, j0, j1);
                finish(item, i0, i1, j0, j1);
                return;
            }
            int nc = j1 - j0;
            float[] packedB = WORKSPACE.get().packedB(Math.min(KC, k) * roundUp(nc, NR));
            for (int p0 = 0; p0 < k; p0 += KC) {
                int kc = Math.min(KC, k - p0);
                // General beta scales C once up front; the kernel itself only overwrites (beta 0) or adds.
                if (p0 == 0 && beta != 0f && beta != 1f) {
                    scaleTile(cBase, i0, i1, j0, j1);
                }
                SgemmPacking.packB(transB, b, bOff + item * strideB, ldb, p0, kc, j0, nc, packedB, 0,
                        rowScale, rowScaleOff + item * rowScaleStride);
                multiplyBlock(item, i0, i1, j0, j1, p0, kc, packedB, 0, p0 > 0 || beta != 0f, p0 + KC >= k);
            }
        }

        /**
         * Packs all of op(B) for each of {@code distinct} items (one when the batch shares B) into the calling
         * thread's shared buffer, all threads together: item d's K block from p0 starts at
         * {@code d·K·N' + p0·N'} (N' = N rounded up to NR), its micro-panel of column j at {@code + j·kc}.
         */
        private float[] prepackB(int distinct, int size) {
            float[] packed = WORKSPACE.get().sharedB(size);
            packAllOfB(distinct, packed);
            return packed;
        }

        /** All of op(B) packed into {@code packed} as {@link #prepackB} lays it out (one item). */
        void packAllOfB(float[] packed) {
            packAllOfB(1, packed);
        }

        private void packAllOfB(int distinct, float[] packed) {
            int paddedN = roundUp(n, NR);
            int panels = paddedN / NR;
            int blocks = ceilDiv(k, KC);
            CpuThreads.parallelFor(0, distinct * blocks * panels, Math.max(1, panels / 4), (from, to) -> {
                for (int t = from; t < to; t++) {
                    int item = t / (blocks * panels);
                    int p0 = (t / panels) % blocks * KC;
                    int j0 = t % panels * NR;
                    int kc = Math.min(KC, k - p0);
                    SgemmPacking.packB(transB, b, bOff + item * strideB, ldb, p0, kc, j0, Math.min(NR, n - j0),
                            packed, (item * k + p0) * paddedN + j0 * kc, rowScale,
                            rowScaleOff + item * rowScaleStride);
                }
            });
        }

        /** {@link #runTile} reading B packed up front by {@link #prepackB} (item {@code packedItem} of it). */
        private void runPrepackedTile(int item, int i0, int i1, int j0, int j1, float[] packed, int packedItem) {
            int paddedN = roundUp(n, NR);
            if (beta != 0f && beta != 1f) {
                scaleTile(cOff + item * strideC, i0, i1, j0, j1);
            }
            for (int p0 = 0; p0 < k; p0 += KC) {
                int kc = Math.min(KC, k - p0);
                multiplyBlock(item, i0, i1, j0, j1, p0, kc, packed, (packedItem * k + p0) * paddedN + j0 * kc,
                        p0 > 0 || beta != 0f, p0 + KC >= k);
            }
        }

        private void finish(int item, int i0, int i1, int j0, int j1) {
            if (epilogue != null) {
                epilogue.finish(item, i0, i1, j0, j1);
            }
        }

        /**
         * One large product on all threads. Every K block of op(B) is packed once, the threads sharing the work,
         * into a buffer all tasks then read; C is cut into many short row tiles, so the threads stay balanced even
         * when another process takes a core for a while, and no task repacks B.
         */
        private void runSharedB() {
            int panels = ceilDiv(n, NR);
            float[] packedB = WORKSPACE.get().sharedB(Math.min(KC, k) * panels * NR); // [panels, kc, NR]
            if (beta != 0f && beta != 1f) {
                CpuThreads.parallelFor(0, m, 64, (from, to) -> scaleTile(cOff, from, to, 0, n));
            }
            int tilesN = ceilDiv(n, TASK_N);
            int tileN = roundUp(ceilDiv(n, tilesN), NR);
            int tileM = alignedRows(balancedTileRows(m, tilesN));
            int tilesM = ceilDiv(m, tileM);
            int panelGrain = Math.max(1, panels / (4 * CpuThreads.parallelism()));
            for (int p0 = 0; p0 < k; p0 += KC) {
                int blockStart = p0;
                int kc = Math.min(KC, k - p0);
                boolean accumulate = p0 > 0 || beta != 0f;
                boolean last = p0 + KC >= k;
                CpuThreads.parallelFor(0, panels, panelGrain, (from, to) -> {
                    int j0 = from * NR;
                    SgemmPacking.packB(transB, b, bOff, ldb, blockStart, kc, j0, Math.min(n, to * NR) - j0,
                            packedB, j0 * kc, rowScale, rowScaleOff);
                });
                CpuThreads.parallelFor(0, tilesM * tilesN, 1, (from, to) -> {
                    for (int t = from; t < to; t++) {
                        int i0 = t / tilesN * tileM;
                        int j0 = t % tilesN * tileN;
                        int i1 = Math.min(m, i0 + tileM);
                        int j1 = Math.min(n, j0 + tileN);
                        multiplyBlock(0, i0, i1, j0, j1, blockStart, kc, packedB, j0 * kc, accumulate, last);
                    }
                });
            }
        }

        /** Tile rows rounded up to the epilogue's {@link TileEpilogue#rowAlignment}. */
        private int alignedRows(int tileM) {
            return epilogue == null ? tileM : roundUp(tileM, epilogue.rowAlignment());
        }

        /**
         * Rows per tile of a shared-B product: about {@value #SHARED_TILES_PER_THREAD} tiles a thread, so the threads
         * stay balanced when another process slows a core, but no shorter than {@link #SHARED_TILE_MIN_M} rows and no
         * taller than {@link #SHARED_TILE_MAX_M}; and as many tiles in all as a multiple of the threads, so no thread
         * is left with the last tile alone (1024 rows made 11 tiles of 96 for two threads; now 12 of 90). A
         * short-K product over a large map does little work per tile: a 1×1 convolution's 100,352 pixels × 16 → 96
         * took 3.0–3.7 ms in 96-row tiles and 2.4–2.9 in 384-row ones (calls alternating in one JVM); B0's other
         * 1×1 products over 56² maps (forward and input gradient) gained 3–24 %; over 28² maps (about 200-row
         * tiles) they came out even. Tile sizes do not change any sum's order.
         */
        private static int balancedTileRows(int m, int tilesN) {
            int threads = CpuThreads.parallelism();
            int rows = Math.clamp(m / (SHARED_TILES_PER_THREAD * threads), SHARED_TILE_MIN_M, SHARED_TILE_MAX_M);
            int tiles = ceilDiv(m, rows) * tilesN;
            int balanced = roundUp(tiles, threads) / tilesN;
            return roundUp(ceilDiv(m, Math.max(1, balanced)), MR);
        }

        /**
         * C_item[i0:i1, j0:j1] (+)= op(A)[i0:i1, p0:p0+kc] · (packed op(B) block), the B micro-panel of column
         * j0 + jp starting at packedB[bBase + jp·kc]; on the last K block ({@code last}) the tile is then finished
         * (the epilogue, if any).
         *
         * <p>Micro-panels sweep the B panels inside each block of rows, so a B panel stays in L1 while A streams.
         * On the last block of a short-K product (its B panels within {@link #STRIPED_B_FLOATS}), each strip of
         * {@value SgemmMicroKernel#MR} rows instead runs across all columns and is finished at once: its output
         * lines are written whole, one after another, and the epilogue meets them in L1. Finishing a whole tile
         * afterwards re-read 36 KB that had just been written to memory, and cost a 1×1 convolution with 16 inputs
         * as much as its product (112² × 16 → 96 at batch 8: 2.8 ms plain, 4.7 ms with a per-tile affine
         * epilogue); the plain short-K products gain a few per cent too. The order changes no sum.
         */
        private void multiplyBlock(int item, int i0, int i1, int j0, int j1, int p0, int kc,
                                   float[] packedB, int bBase, boolean accumulate, boolean last) {
            Workspace ws = WORKSPACE.get();
            int nc = j1 - j0;
            boolean stripes = last && (long) kc * roundUp(nc, NR) <= STRIPED_B_FLOATS;
            // Packing A only pays for alpha scaling: a plain or transposed A is read in place.
            float[] packedA = ws.packedA(kc * roundUp(Math.min(MC, i1 - i0), MR));
            for (int ic = i0; ic < i1; ic += MC) {
                int mc = Math.min(MC, i1 - ic);
                // Whole micro-panels of A are read in place; only a ragged last panel is packed.
                int inPlaceRows = alpha == 1f ? mc / MR * MR : 0;
                if (inPlaceRows < mc) {
                    SgemmPacking.packA(transA, a, aOff + item * strideA, lda, ic + inPlaceRows, mc - inPlaceRows,
                            p0, kc, alpha, packedA);
                }
                if (stripes) {
                    for (int ip = 0; ip < mc; ip += MR) {
                        for (int jp = 0; jp < nc; jp += NR) {
                            microTile(ws, item, ic, ip, inPlaceRows, mc, j0, jp, nc, p0, kc, packedA, packedB,
                                    bBase, accumulate);
                        }
                        finish(item, ic + ip, ic + Math.min(mc, ip + MR), j0, j1);
                    }
                    continue;
                }
                for (int jp = 0; jp < nc; jp += NR) {
                    for (int ip = 0; ip < mc; ip += MR) {
                        microTile(ws, item, ic, ip, inPlaceRows, mc, j0, jp, nc, p0, kc, packedA, packedB, bBase,
                                accumulate);
                    }
                }
            }
            if (last && !stripes) {
                finish(item, i0, i1, j0, j1);
            }
        }

        /** The micro-tile of rows ic + ip … and columns j0 + jp … of one K block, by the kernel that fits it. */
        private void microTile(Workspace ws, int item, int ic, int ip, int inPlaceRows, int mc, int j0, int jp,
                               int nc, int p0, int kc, float[] packedA, float[] packedB, int bBase,
                               boolean accumulate) {
            int rows = Math.min(MR, mc - ip);
            int cols = Math.min(NR, nc - jp);
            int bAt = bBase + jp * kc;
            int cAt = cOff + item * strideC + (ic + ip) * ldc + j0 + jp;
            int aBase = aOff + item * strideA;
            if (ip < inPlaceRows && !transA) {
                int aAt = aBase + (ic + ip) * lda + p0;
                if (cols == NR) {
                    SgemmMicroKernel.fullDirect(kc, a, aAt, lda, packedB, bAt, c, cAt, ldc, accumulate);
                } else if (cols <= SgemmMicroKernel.LANES) {
                    SgemmMicroKernel.narrowDirect(kc, a, aAt, lda, packedB, bAt, c, cAt, ldc, accumulate, cols,
                            ws.tile);
                } else {
                    SgemmMicroKernel.edgeDirect(kc, a, aAt, lda, packedB, bAt, c, cAt, ldc, accumulate, cols,
                            ws.tile);
                }
                return;
            }
            // A stored transposed: in place (leading dimension lda) or a packed panel ([kc, MR], leading dimension MR).
            boolean packed = ip >= inPlaceRows;
            float[] src = packed ? packedA : a;
            int aAt = packed ? (ip - inPlaceRows) * kc : aBase + p0 * lda + ic + ip;
            int ld = packed ? MR : lda;
            if (rows == MR && cols == NR) {
                SgemmMicroKernel.fullDirectTransposed(kc, src, aAt, ld, packedB, bAt, c, cAt, ldc, accumulate);
            } else {
                SgemmMicroKernel.edgeTransposed(kc, src, aAt, ld, packedB, bAt, c, cAt, ldc, accumulate, rows, cols,
                        ws.tile);
            }
        }

        /** C = beta · C on a tile (zero when beta is 0, whatever C held): all of the result when K = 0. */
        private void scaleTile(int cBase, int i0, int i1, int j0, int j1) {
            for (int i = i0; i < i1; i++) {
                int row = cBase + i * ldc;
                for (int j = j0; j < j1; j++) {
                    c[row + j] = beta == 0f ? 0f : beta * c[row + j];
                }
            }
        }
    }
}
