package dev.vertebra.cuda;

import dev.vertebra.core.Backend.BatchNormGrads;
import dev.vertebra.core.Backend.BatchNormResult;
import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.DType;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Batch norm with batch statistics through cuDNN's legacy API ({@code CUDNN_BATCHNORM_SPATIAL}).
 *
 * <p>The legacy batch-norm calls document NCHW tensors (NHWC only for half precision in the persistent mode).
 * Vertebra's {@code [..., C]} activations are contiguous rows of C channels, which is exactly an NCHW tensor of
 * {@code [rows, C, 1, 1]}: spatial mode then normalises each channel over all rows, the same statistics, with no
 * copy. cuDNN returns the batch mean and 1/sqrt(var + eps); the biased variance Vertebra also returns is read
 * from the running variance with factor 1 (cuDNN's unbiased estimate, scaled by (rows − 1)/rows).
 *
 * <p>cuDNN rejects epsilon below {@code CUDNN_BN_MIN_EPSILON} (1e-5) and needs two rows for the unbiased
 * estimate; such calls return empty and the caller's own kernels run.
 */
final class CudnnBatchNorm {
    private static final double MIN_EPSILON = 1e-5;

    private final CudaBackend backend;
    private final Cudnn cudnn;
    private final MemorySegment handle;
    private final Map<Long, MemorySegment[]> descriptors = new HashMap<>();

    CudnnBatchNorm(CudaBackend backend, Cudnn cudnn, MemorySegment handle) {
        this.backend = backend;
        this.cudnn = cudnn;
        this.handle = handle;
    }

    /** {x [rows, C, 1, 1], scale/bias/mean [1, C, 1, 1]} descriptors, cached per size. */
    private MemorySegment[] descriptors(int rows, int c) {
        return descriptors.computeIfAbsent(((long) rows << 32) | c, k -> new MemorySegment[]{
                cudnn.tensor(Cudnn.TENSOR_NCHW, Cudnn.DATA_FLOAT, rows, c, 1, 1),
                cudnn.tensor(Cudnn.TENSOR_NCHW, Cudnn.DATA_FLOAT, 1, c, 1, 1)});
    }

    private static boolean floats(Tensor... ts) {
        for (Tensor t : ts) {
            if (t.dtype() != DType.FLOAT32) {
                return false;
            }
        }
        return true;
    }

    private static int rows(Tensor x) {
        int c = x.dim(-1);
        return c == 0 ? 0 : x.numel() / c;
    }

    synchronized Optional<BatchNormResult> forward(Tensor x, Tensor weight, Tensor bias, double eps) {
        int c = x.dim(-1);
        int rows = rows(x);
        if (!floats(x, weight, bias) || c == 0 || rows < 2 || eps < MIN_EPSILON) {
            return Optional.empty();
        }
        backend.context().makeCurrent();
        MemorySegment[] d = descriptors(rows, c);
        Shape cs = Shape.of(c);
        Tensor xd = backend.dense(x);
        Tensor y = backend.empty(x.shape(), DType.FLOAT32);
        Tensor mean = backend.empty(cs, DType.FLOAT32);
        Tensor invStd = backend.empty(cs, DType.FLOAT32);
        Tensor runningMean = backend.zeros(cs, DType.FLOAT32);
        Tensor runningVar = backend.zeros(cs, DType.FLOAT32);
        cudnn.batchNormForwardTraining(handle, d[0], backend.address(xd), backend.address(y), d[1],
                backend.address(backend.dense(weight)), backend.address(backend.dense(bias)),
                backend.address(runningMean), backend.address(runningVar), eps, backend.address(mean),
                backend.address(invStd));
        Tensor variance = backend.binaryScalar(BinaryOp.MUL, runningVar, (rows - 1.0) / rows);
        return Optional.of(new BatchNormResult(y, mean, variance, invStd));
    }

    synchronized Optional<BatchNormGrads> backward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor invStd) {
        int c = x.dim(-1);
        int rows = rows(x);
        if (!floats(dy, x, weight, mean, invStd) || c == 0 || rows < 2) {
            return Optional.empty();
        }
        backend.context().makeCurrent();
        MemorySegment[] d = descriptors(rows, c);
        Shape cs = Shape.of(c);
        Tensor dx = backend.empty(x.shape(), DType.FLOAT32);
        Tensor dWeight = backend.empty(cs, DType.FLOAT32);
        Tensor dBias = backend.empty(cs, DType.FLOAT32);
        // The saved statistics are used as given; epsilon only matters to cuDNN when they are absent.
        cudnn.batchNormBackward(handle, d[0], backend.address(backend.dense(x)), backend.address(backend.dense(dy)),
                backend.address(dx), d[1], backend.address(backend.dense(weight)), backend.address(dWeight),
                backend.address(dBias), MIN_EPSILON, backend.address(backend.dense(mean)),
                backend.address(backend.dense(invStd)));
        return Optional.of(new BatchNormGrads(dx, dWeight, dBias));
    }
}
