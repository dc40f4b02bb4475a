package dev.vertebra.cuda;

import dev.vertebra.core.DType;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

import java.lang.ref.Reference;
import java.util.function.Consumer;

/**
 * Sums down the rows of contiguous {@code [outer, rows, c]} data (float32, bfloat16 or float16), per column (a
 * channel of NHWC activations): norm.cu's one-pass column kernels, which read whole rows per block with 16- or 8-byte
 * loads where they can and leave one double partial sum per slice of rows, then add the slices in order (no atomics:
 * the same result on every run). Used by batch norm (moments, gradient sums) and by reductions over middle dimensions
 * such as squeeze-excitation pooling, which a row-per-block reduction would read with one element per 128-byte line.
 */
final class ColumnSums {
    /** Threads of a block: norm.cu's VX_COLUMN_THREADS. */
    private static final int THREADS = 256;
    /** Enough blocks to fill an H100 / H200 several times over. */
    private static final int WANT_BLOCKS = 2048;
    /** Fewest rows a thread should sum before a new slice pays for its partial sums. */
    private static final int ROWS_PER_THREAD = 8;
    private static final int MAX_SLICES = 1024;
    /** Blocks of an apply pass: about eight per multiprocessor of an H100 / H200, all resident at once. */
    private static final int APPLY_BLOCKS = 1024;
    /** gridDim.z's limit: the outer index is the grid's third dimension. */
    static final int MAX_OUTER = 65535;

    /**
     * How a launch covers {@code [outer, rows, c]}: {@code vector} values per load (4 when every pointer is 16-byte
     * aligned and c a multiple of 4), blocks of {@code colsPerBlock} vector columns × {@code threads / colsPerBlock}
     * rows, {@code chunks} blocks across the columns and {@code slices} down the rows.
     */
    record Grid(int vector, int colsPerBlock, int threads, int chunks, int slices) {
        static Grid of(long outer, long rows, int c, boolean aligned) {
            int vector = aligned && c % 4 == 0 ? 4 : 1;
            int vectorColumns = c / vector;
            int chunks = (vectorColumns + THREADS - 1) / THREADS;
            int cols = (vectorColumns + chunks - 1) / chunks;
            int rowsPerStep = THREADS / cols;
            long byWork = (rows + (long) rowsPerStep * ROWS_PER_THREAD - 1) / ((long) rowsPerStep * ROWS_PER_THREAD);
            long byGrid = Math.max(1, WANT_BLOCKS / ((long) chunks * outer));
            int slices = (int) Math.max(1, Math.min(MAX_SLICES, Math.min(byWork, byGrid)));
            return new Grid(vector, cols, cols * rowsPerStep, chunks, slices);
        }
    }

    private final CudaBackend backend;

    ColumnSums(CudaBackend backend) {
        this.backend = backend;
    }

    static boolean aligned(long... addresses) {
        for (long a : addresses) {
            if (a % 16 != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * True when the partial sums of a sum over {@code [outer, rows, c]} fit one tensor (an int element count) with
     * either vector width (one value per load makes the most slices).
     */
    static boolean partialsFit(long outer, long rows, int c) {
        return outer * Grid.of(outer, rows, c, false).slices() * c <= Integer.MAX_VALUE;
    }

    /** A double scratch of {@code [outer, slices, k, c]} partial sums (uninitialised: every slot is written). */
    Tensor partials(long outer, Grid g, int k, int c) {
        return backend.empty(Shape.of(Math.toIntExact(outer * g.slices() * k * c)), DType.FLOAT64);
    }

    /**
     * Launches {@code kernel}_v{vector} over {@code [outer, rows, c]} with {@code args} after the partials'
     * pointer; the kernel's last parameters are (rows, c, colsPerBlock), which {@code tail} may follow.
     */
    void launch(String kernel, Grid g, long outer, int rows, int c, long partial,
                Consumer<KernelArgs> args, Consumer<KernelArgs> tail) {
        backend.kernels().launch("norm", kernel + "_v" + g.vector(), g.chunks(), g.slices(), (int) outer,
                g.threads(), 1, 0, a -> {
                    a.pointer(partial);
                    args.accept(a);
                    a.i32(rows).i32(c).i32(g.colsPerBlock());
                    tail.accept(a);
                });
    }

    /**
     * Launches an elementwise pass over {@code vectors} vectors of [rows, c] data (batch norm's apply kernels) on at
     * most {@link #APPLY_BLOCKS} blocks, so that each thread walks many vectors: its first channel and its stride in
     * channels cost two 64-bit remainders, once per thread rather than once per vector.
     */
    void launchApply(String kernel, long vectors, Consumer<KernelArgs> args) {
        int blocks = (int) Math.min((vectors + THREADS - 1) / THREADS, APPLY_BLOCKS);
        backend.kernels().launch("norm", kernel, blocks, 1, 1, THREADS, 1, 0, args);
    }

    /** Launches a finishing kernel: blocks of 32 channels × 32 slice lanes over (ceil(c / 32), outer). */
    void finish(String kernel, long outer, int c, Consumer<KernelArgs> args) {
        backend.kernels().launch("norm", kernel, (c + 31) / 32, (int) outer, 1, 32, 32, 0, args);
    }

    /**
     * {@code out[o, j] = Σ_r x[o, r, j]} (or {@code Σ_r x·y} when {@code y} is not null, each product rounded to
     * their dtype) for contiguous {@code x, y} of one float type viewed as {@code [outer, rows, c]}, summed in
     * double; out is float32, {@code [outer · c]} elements in the given shape.
     */
    Tensor sum(Tensor x, Tensor y, long outer, int rows, int c, Shape outShape) {
        Tensor out = backend.empty(outShape, DType.FLOAT32);
        if (out.numel() == 0) {
            return out;
        }
        long px = backend.address(x);
        long py = y == null ? 0 : backend.address(y);
        Grid g = Grid.of(outer, rows, c, aligned(px, py));
        Tensor partial = partials(outer, g, 1, c);
        long pp = backend.address(partial);
        String type = KernelTypes.elementwiseSuffix("sum", x.dtype());
        if (y == null) {
            launch("column_sums_" + type, g, outer, rows, c, pp, a -> a.pointer(px), a -> { });
        } else {
            launch("column_mul_sums_" + type, g, outer, rows, c, pp, a -> a.pointer(px).pointer(py), a -> { });
        }
        int slices = g.slices();
        finish("column_sums_finish_f32", outer, c, a -> a.pointer(backend.address(out)).pointer(pp).i32(slices).i32(c));
        // The launches took raw addresses: no buffer may go back to the allocator before they are queued.
        Reference.reachabilityFence(x);
        Reference.reachabilityFence(y);
        Reference.reachabilityFence(partial);
        return out;
    }
}
