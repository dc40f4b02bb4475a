package dev.vertebra.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuBLAS ({@code libcublas.so.13} or {@code .12}, with its {@code libcublasLt} loaded first from the same folder)
 * through FFM: a handle bound to the backend's stream and strided-batched GEMM in single and double precision, and
 * in float16/bfloat16 with float32 accumulation ({@code cublasGemmStridedBatchedEx}) for mixed precision.
 *
 * <p>cuBLAS is column-major; {@link #gemm} takes <em>row-major</em> operands and swaps them
 * ({@code C = A·B} ⇔ {@code Cᵀ = Bᵀ·Aᵀ}, and a row-major matrix read column-major is its transpose), so callers
 * never think in columns.
 */
final class Cublas {
    private static final List<String> NAMES = List.of("libcublas.so.13", "libcublas.so.12");
    private static final int OP_N = 0;
    private static final int OP_T = 1;
    private static final int DEFAULT_MATH = 0;
    private static final int TF32_TENSOR_OP_MATH = 3;
    // cudaDataType_t (library_types.h), cublasComputeType_t and cublasGemmAlgo_t values.
    private static final int CUDA_R_16F = 2;
    private static final int CUDA_R_16BF = 14;
    private static final int COMPUTE_32F = 68;
    private static final int GEMM_DEFAULT = -1;

    private final String location;
    private final MethodHandle cublasGetStatusName;
    private final MethodHandle cublasGetStatusString;
    private final MethodHandle cublasCreate;
    private final MethodHandle cublasDestroy;
    private final MethodHandle cublasSetStream;
    private final MethodHandle cublasSetMathMode;
    private final MethodHandle cublasSgemmStridedBatched;
    private final MethodHandle cublasDgemmStridedBatched;
    private final MethodHandle cublasGemmStridedBatchedEx;

    Cublas() {
        NativeLibraries.Loaded lib = NativeLibraries.open(NAMES, List.of("libcublasLt.so.13", "libcublasLt.so.12"));
        location = lib.location();
        SymbolLookup l = lib.lookup();
        String n = "libcublas";
        cublasGetStatusName = NativeCall.bind(l, n, "cublasGetStatusName", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        cublasGetStatusString = NativeCall.bind(l, n, "cublasGetStatusString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        cublasCreate = NativeCall.bind(l, n, "cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cublasDestroy = NativeCall.bind(l, n, "cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        cublasSetStream = NativeCall.bind(l, n, "cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        cublasSetMathMode = NativeCall.bind(l, n, "cublasSetMathMode", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cublasSgemmStridedBatched = NativeCall.bind(l, n, "cublasSgemmStridedBatched", gemmDescriptor());
        cublasDgemmStridedBatched = NativeCall.bind(l, n, "cublasDgemmStridedBatched", gemmDescriptor());
        // handle, transa, transb, m, n, k, *alpha, A, Atype, lda, strideA, B, Btype, ldb, strideB, *beta, C, Ctype,
        // ldc, strideC, batchCount, computeType, algo
        cublasGemmStridedBatchedEx = NativeCall.bind(l, n, "cublasGemmStridedBatchedEx", FunctionDescriptor.of(
                JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT,
                JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT,
                JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT));
    }

    // handle, transa, transb, m, n, k, *alpha, A, lda, strideA, B, ldb, strideB, *beta, C, ldc, strideC, batchCount.
    // A, B and C are device pointers passed as 64-bit integers: the same register class as a pointer argument.
    private static FunctionDescriptor gemmDescriptor() {
        return FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT,
                JAVA_LONG, JAVA_INT);
    }

    String location() {
        return location;
    }

    private void check(int status, String call) {
        if (status != 0) {
            String name = NativeCall.cString(NativeCall.status0(
                    () -> (MemorySegment) cublasGetStatusName.invokeExact(status)));
            String text = NativeCall.cString(NativeCall.status0(
                    () -> (MemorySegment) cublasGetStatusString.invokeExact(status)));
            throw new CudaException(CudaException.Library.CUBLAS, call, status, name, text);
        }
    }

    /** A handle whose work goes to {@code stream}; TF32 tensor cores only when {@code allowTf32}. */
    MemorySegment create(MemorySegment stream, boolean allowTf32) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(NativeCall.status(() -> (int) cublasCreate.invokeExact(p)), "cublasCreate_v2");
            MemorySegment handle = p.get(ADDRESS, 0);
            check(NativeCall.status(() -> (int) cublasSetStream.invokeExact(handle, stream)), "cublasSetStream_v2");
            mathMode(handle, allowTf32);
            return handle;
        }
    }

    /** Lets float32 GEMMs on {@code handle} use TF32 tensor cores, or not (CUBLAS_DEFAULT_MATH). */
    void mathMode(MemorySegment handle, boolean allowTf32) {
        int mode = allowTf32 ? TF32_TENSOR_OP_MATH : DEFAULT_MATH;
        check(NativeCall.status(() -> (int) cublasSetMathMode.invokeExact(handle, mode)), "cublasSetMathMode");
    }

    void destroy(MemorySegment handle) {
        check(NativeCall.status(() -> (int) cublasDestroy.invokeExact(handle)), "cublasDestroy_v2");
    }

    /** One row-major operand: device address of its first matrix, transposed or not, leading dimension, batch stride. */
    record Operand(long address, boolean transposed, int ld, long batchStride) {
    }

    /**
     * {@code C[p] = alpha·op(A[p])·op(B[p]) + beta·C[p]} for {@code p < batch}, all row-major:
     * op(A) is {@code [m, k]}, op(B) {@code [k, n]}, C {@code [m, n]} with leading dimension {@code ldc}.
     */
    void gemm(MemorySegment handle, boolean doublePrecision, int batch, int m, int n, int k, double alpha,
              Operand a, Operand b, double beta, long c, int ldc, long strideC) {
        NativeScratch scratch = NativeScratch.current();
        long mark = scratch.mark();
        try {
            int opB = b.transposed() ? OP_T : OP_N;
            int opA = a.transposed() ? OP_T : OP_N;
            if (doublePrecision) {
                MemorySegment al = scratch.allocateFrom(JAVA_DOUBLE, alpha);
                MemorySegment be = scratch.allocateFrom(JAVA_DOUBLE, beta);
                check(NativeCall.status(() -> (int) cublasDgemmStridedBatched.invokeExact(handle, opB, opA, n, m, k,
                        al, b.address(), b.ld(), b.batchStride(), a.address(), a.ld(), a.batchStride(), be, c, ldc,
                        strideC, batch)), "cublasDgemmStridedBatched");
            } else {
                MemorySegment al = scratch.allocateFrom(JAVA_FLOAT, (float) alpha);
                MemorySegment be = scratch.allocateFrom(JAVA_FLOAT, (float) beta);
                check(NativeCall.status(() -> (int) cublasSgemmStridedBatched.invokeExact(handle, opB, opA, n, m, k,
                        al, b.address(), b.ld(), b.batchStride(), a.address(), a.ld(), a.batchStride(), be, c, ldc,
                        strideC, batch)), "cublasSgemmStridedBatched");
            }
        } finally {
            scratch.release(mark);
        }
    }

    /**
     * As {@link #gemm} for 16-bit operands and result ({@code halfType}: float16 or bfloat16, raw bits) with float32
     * accumulation and float32 alpha, beta (CUBLAS_COMPUTE_32F, the tensor-core path).
     */
    void gemmHalf(MemorySegment handle, boolean bfloat16, int batch, int m, int n, int k, double alpha, Operand a,
                  Operand b, double beta, long c, int ldc, long strideC) {
        int type = bfloat16 ? CUDA_R_16BF : CUDA_R_16F;
        int opB = b.transposed() ? OP_T : OP_N;
        int opA = a.transposed() ? OP_T : OP_N;
        NativeScratch scratch = NativeScratch.current();
        long mark = scratch.mark();
        try {
            MemorySegment al = scratch.allocateFrom(JAVA_FLOAT, (float) alpha);
            MemorySegment be = scratch.allocateFrom(JAVA_FLOAT, (float) beta);
            check(NativeCall.status(() -> (int) cublasGemmStridedBatchedEx.invokeExact(handle, opB, opA, n, m, k, al,
                    b.address(), type, b.ld(), b.batchStride(), a.address(), type, a.ld(), a.batchStride(), be, c,
                    type, ldc, strideC, batch, COMPUTE_32F, GEMM_DEFAULT)), "cublasGemmStridedBatchedEx");
        } finally {
            scratch.release(mark);
        }
    }
}
