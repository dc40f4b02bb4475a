package dev.vertebra.cuda;

import dev.vertebra.core.DType;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

/**
 * gather / scatterAdd along one dimension on the GPU (float32 values, int64 indices). Indices are checked on the
 * device; the first bad one comes back through a two-element flag buffer and becomes an
 * {@link IndexOutOfBoundsException}, as on the CPU (which costs one synchronisation per call).
 */
final class IndexOps {
    private IndexOps() {
    }

    private static void checkIndex(Tensor index) {
        if (index.dtype() != DType.INT64) {
            throw new IllegalArgumentException("gather/scatterAdd indices must be int64, got " + index.describe());
        }
    }

    private static void raiseIfBad(CudaBackend backend, Tensor error, Shape shape, int dim) {
        long[] flag = backend.readLongs(error);
        if (flag[0] != 0) {
            throw new IndexOutOfBoundsException("index " + flag[1] + " is out of range for dimension " + dim
                    + " of size " + shape.dim(dim));
        }
    }

    static Tensor gather(CudaBackend backend, Tensor x, int dim, Tensor index) {
        KernelTypes.suffix("gather", x.dtype(), false);
        checkIndex(index);
        Tensor out = backend.empty(index.shape(), x.dtype());
        int n = index.numel();
        if (n == 0) {
            return out;
        }
        Tensor xd = backend.dense(x);
        Tensor error = backend.zeros(Shape.of(2), DType.INT64);
        StridedView xs = StridedView.contiguous(x.shape());
        StridedView iv = StridedView.of(index.layout());
        long po = backend.address(out);
        long px = backend.address(xd);
        long pi = backend.buffer(index).address();
        long pe = backend.address(error);
        backend.kernels().launch1d("index", "gather_f32", n, a -> a.pointer(po).pointer(px).view(xs).pointer(pi)
                .view(iv).i32(dim).i32(n).pointer(pe));
        raiseIfBad(backend, error, x.shape(), dim);
        return out;
    }

    static Tensor scatterAdd(CudaBackend backend, Shape shape, int dim, Tensor index, Tensor src) {
        KernelTypes.suffix("scatterAdd", src.dtype(), false);
        checkIndex(index);
        Tensor out = backend.zeros(shape, src.dtype());
        int n = index.numel();
        if (n == 0) {
            return out;
        }
        Tensor error = backend.zeros(Shape.of(2), DType.INT64);
        StridedView xs = StridedView.contiguous(shape);
        StridedView iv = StridedView.of(index.layout());
        StridedView sv = StridedView.merged(src.layout())[0];
        long po = backend.address(out);
        long pi = backend.buffer(index).address();
        long ps = backend.buffer(src).address();
        long pe = backend.address(error);
        backend.kernels().launch1d("index", "scatter_add_f32", n, a -> a.pointer(po).view(xs).pointer(pi).view(iv)
                .i32(dim).pointer(ps).view(sv).i32(n).pointer(pe));
        raiseIfBad(backend, error, shape, dim);
        return out;
    }
}
