// Batch norm over x: [rows, c] (all dimensions but the channels flattened into rows), batch statistics, optionally
// fused with a SiLU after it (forward: applied before the store; backward: its gradient recomputed from x).
// Per-channel sums use blocks of (32 channels × 8 rows) over a slice of rows each, meeting in double atomics.
#include "vertebra_common.cuh"

// acc: [c] doubles, zeroed by the caller. mode 0: acc += x; mode 1: acc += (x - center)^2.
extern "C" __global__ void channel_sums_f32(double* acc, const float* x, const double* center, int rows, int c,
                                            int mode) {
    __shared__ double partial[8][33];
    int ch = blockIdx.x * 32 + threadIdx.x;
    double sum = 0.0;
    if (ch < c) {
        double mid = mode == 1 ? center[ch] : 0.0;
        for (long long r = (long long) blockIdx.y * 8 + threadIdx.y; r < rows; r += 8LL * gridDim.y) {
            double v = x[r * c + ch];
            if (mode == 1) {
                v -= mid;
                v *= v;
            }
            sum += v;
        }
    }
    partial[threadIdx.y][threadIdx.x] = sum;
    __syncthreads();
    if (threadIdx.y == 0 && ch < c) {
        double total = 0.0;
        for (int k = 0; k < 8; ++k) total += partial[k][threadIdx.x];
        atomicAdd(&acc[ch], total);
    }
}

// In place: sum → mean. acc: [c].
extern "C" __global__ void divide_f64(double* acc, int c, double divisor) {
    VX_FOR_EACH(i, c) { acc[i] /= divisor; }
}

// From mean and the sum of squared deviations: float32 mean, biased variance and 1/sqrt(var + eps), plus the
// double inverse standard deviation the normalisation uses. All [c].
extern "C" __global__ void batch_norm_stats_f32(float* mean, float* var, float* inv_std, double* inv_std_d,
                                                const double* mean_d, const double* squares, int rows, int c,
                                                double eps) {
    VX_FOR_EACH(i, c) {
        double v = squares[i] / rows;
        double is = 1.0 / sqrt(v + eps);
        mean[i] = (float) mean_d[i];
        var[i] = (float) v;
        inv_std[i] = (float) is;
        inv_std_d[i] = is;
    }
}

// y = (x - mean) * inv_std * weight + bias, then silu(y) when silu != 0 (the fused BN+SiLU: the same float SiLU
// as the unary kernel, applied before the store); y, x: [rows, c]; the rest [c].
extern "C" __global__ void batch_norm_apply_f32(float* y, const float* x, const double* mean_d,
                                                const double* inv_std_d, const float* weight, const float* bias,
                                                long long total, int c, int silu) {
    VX_FOR_EACH(i, total) {
        int ch = (int) (i % c);
        float v = (float) ((x[i] - mean_d[ch]) * inv_std_d[ch] * weight[ch] + bias[ch]);
        y[i] = silu ? v * vx_sigmoid(v) : v;
    }
}

// The gradient that reaches the batch norm: dy itself, or (silu != 0) dy through the SiLU of the recomputed
// batch-norm output y = (x - mean) * inv_std * weight + bias. y is rounded op by op (no fused multiply-add), as
// the unfused path's separate float kernels round it, and the SiLU gradient is the binary kernel's formula.
__device__ __forceinline__ float vx_bn_grad(float dy, float x, float mean, float inv_std, float weight,
                                            float bias, int silu) {
    if (!silu) {
        return dy;
    }
    float y = __fadd_rn(__fmul_rn(__fmul_rn(__fsub_rn(x, mean), inv_std), weight), bias);
    return dy * (vx_sigmoid(y) * (1.0f + y * vx_sigmoid(-y)));
}

// g = vx_bn_grad(dy, ...); sum_dy += g, sum_dy_xhat += g * (x - mean) * inv_std; both [c] doubles, zeroed by the
// caller. weight and bias are read only when silu != 0.
extern "C" __global__ void batch_norm_backward_sums_f32(double* sum_dy, double* sum_dy_xhat, const float* dy,
                                                        const float* x, const float* mean, const float* inv_std,
                                                        const float* weight, const float* bias, int rows, int c,
                                                        int silu) {
    __shared__ double partial_dy[8][33];
    __shared__ double partial_xhat[8][33];
    int ch = blockIdx.x * 32 + threadIdx.x;
    double s1 = 0.0, s2 = 0.0;
    if (ch < c) {
        float mf = mean[ch], isf = inv_std[ch];
        float w = silu ? weight[ch] : 0.0f, b = silu ? bias[ch] : 0.0f;
        double m = mf, is = isf;
        for (long long r = (long long) blockIdx.y * 8 + threadIdx.y; r < rows; r += 8LL * gridDim.y) {
            float xv = x[r * c + ch];
            double g = vx_bn_grad(dy[r * c + ch], xv, mf, isf, w, b, silu);
            s1 += g;
            s2 += g * (xv - m) * is;
        }
    }
    partial_dy[threadIdx.y][threadIdx.x] = s1;
    partial_xhat[threadIdx.y][threadIdx.x] = s2;
    __syncthreads();
    if (threadIdx.y == 0 && ch < c) {
        double t1 = 0.0, t2 = 0.0;
        for (int k = 0; k < 8; ++k) {
            t1 += partial_dy[k][threadIdx.x];
            t2 += partial_xhat[k][threadIdx.x];
        }
        atomicAdd(&sum_dy[ch], t1);
        atomicAdd(&sum_dy_xhat[ch], t2);
    }
}

// dx = weight * inv_std * (g - sum_dy/rows - xhat * sum_dy_xhat/rows) with g = vx_bn_grad(dy, ...) (bias read only
// when silu != 0); dx, dy, x: [rows, c].
extern "C" __global__ void batch_norm_backward_apply_f32(float* dx, const float* dy, const float* x,
                                                         const float* weight, const float* bias, const float* mean,
                                                         const float* inv_std, const double* sum_dy,
                                                         const double* sum_dy_xhat, long long total, int c,
                                                         int rows, int silu) {
    VX_FOR_EACH(i, total) {
        int ch = (int) (i % c);
        double is = inv_std[ch];
        double xhat = (x[i] - (double) mean[ch]) * is;
        double g = vx_bn_grad(dy[i], x[i], mean[ch], inv_std[ch], weight[ch], silu ? bias[ch] : 0.0f, silu);
        dx[i] = (float) (weight[ch] * is * (g - sum_dy[ch] / rows - xhat * sum_dy_xhat[ch] / rows));
    }
}
