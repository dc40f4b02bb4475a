// Batch norm over x: [rows, c] (all dimensions but the channels flattened into rows), batch statistics, optionally
// fused with a SiLU after it (forward: applied before the store; backward: its gradient recomputed from x).
// Per-channel sums use blocks of (32 channels × 8 rows) over a slice of rows each, meeting in double atomics.
#include "vertebra_common.cuh"

// The channel of element i of [rows, c] data along a VX_FOR_EACH loop, kept up to date by one addition per step
// instead of a 64-bit remainder per element (tens of instructions, more than the rest of these loops).
struct VxChannelStride {
    int first;  // channel of the thread's first element
    int step;   // the grid stride modulo c
};

__device__ __forceinline__ VxChannelStride vx_channel_stride(int c) {
    long long first = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    long long stride = (long long) blockDim.x * gridDim.x;
    return VxChannelStride{(int) (first % c), (int) (stride % c)};
}

__device__ __forceinline__ int vx_next_channel(int ch, const VxChannelStride& cs, int c) {
    int next = ch + cs.step;
    return next >= c ? next - c : next;
}

// acc: [c] doubles, zeroed by the caller. mode 0: acc += x; mode 1: acc += (x - center)^2.
extern "C" __global__ void channel_sums_f32(double* acc, const float* x, const double* center, int rows, int c,
                                            int mode) {
    __shared__ double partial[8][33];
    int ch = blockIdx.x * 32 + threadIdx.x;
    double sum = 0.0;
    if (ch < c) {
        double mid = mode == 1 ? center[ch] : 0.0;
        long long stride = 8LL * gridDim.y;
        long long r = (long long) blockIdx.y * 8 + threadIdx.y;
        // Four rows' loads in flight before their sums (in the same order as one row at a time): a warp reads only
        // 128 bytes a row, too little to keep the memory busy one load at a time.
        for (; r + 3 * stride < rows; r += 4 * stride) {
            double v[4];
#pragma unroll
            for (int k = 0; k < 4; ++k) v[k] = x[(r + k * stride) * c + ch];
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                if (mode == 1) {
                    v[k] -= mid;
                    v[k] *= v[k];
                }
                sum += v[k];
            }
        }
        for (; r < rows; r += stride) {
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
    VxChannelStride cs = vx_channel_stride(c);
    int ch = cs.first;
    VX_FOR_EACH(i, total) {
        float v = (float) ((x[i] - mean_d[ch]) * inv_std_d[ch] * weight[ch] + bias[ch]);
        y[i] = silu ? v * vx_sigmoid(v) : v;
        ch = vx_next_channel(ch, cs, c);
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
        long long stride = 8LL * gridDim.y;
        long long r = (long long) blockIdx.y * 8 + threadIdx.y;
        // Four rows' loads in flight at a time, summed in row order (as channel_sums_f32).
        for (; r + 3 * stride < rows; r += 4 * stride) {
            float xv[4], dv[4];
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                xv[k] = x[(r + k * stride) * c + ch];
                dv[k] = dy[(r + k * stride) * c + ch];
            }
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                double g = vx_bn_grad(dv[k], xv[k], mf, isf, w, b, silu);
                s1 += g;
                s2 += g * (xv[k] - m) * is;
            }
        }
        for (; r < rows; r += stride) {
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
    VxChannelStride cs = vx_channel_stride(c);
    int ch = cs.first;
    VX_FOR_EACH(i, total) {
        double is = inv_std[ch];
        double xhat = (x[i] - (double) mean[ch]) * is;
        double g = vx_bn_grad(dy[i], x[i], mean[ch], inv_std[ch], weight[ch], silu ? bias[ch] : 0.0f, silu);
        dx[i] = (float) (weight[ch] * is * (g - sum_dy[ch] / rows - xhat * sum_dy_xhat[ch] / rows));
        ch = vx_next_channel(ch, cs, c);
    }
}
