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
    float pos, neg;
    vx_sigmoid_pair(y, pos, neg);
    return dy * (pos * (1.0f + y * neg));
}

// The fast batch-norm kernels' SiLU and its derivative: e^x from the hardware's 2^x approximation and divisions by
// reciprocal approximation (CUDA's fast-math intrinsics), a few float ulp from the correctly rounded forms above, in a
// fraction of their instructions (ncu found the SiLU passes bound by instructions, not memory).
__device__ __forceinline__ float vx_silu_fast(float u) { return __fdividef(u, 1.0f + __expf(-u)); }

// silu'(y) = σ(y)·(1 + y·σ(−y)), σ(−y) taken as e^−y·σ(y) for y ≥ 0 and 1 − σ(y) below: neither cancels.
__device__ __forceinline__ float vx_silu_grad_fast(float y) {
    float e = __expf(-y);
    float s = __fdividef(1.0f, 1.0f + e);
    float t = y >= 0.0f ? e * s : 1.0f - s;
    return s * (1.0f + y * t);
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

// ---------------------------------------------------------------------------------------------------------------
// Column sums in one pass: x: [outer, rows, c] (blockIdx.z: the outer index), read V floats at a time (V = 4: 16-byte
// loads, c % 4 == 0 and 16-byte aligned data). A block is colsPerBlock vector columns × rowsPerStep rows of
// consecutive threads, so a block's loads cover whole rows of contiguous memory; blockIdx.x picks the column chunk,
// blockIdx.y the slice of rows (every gridDim.y-th step). Each slice writes its K sums per channel to
// partial: [outer, slices, K, c] doubles, which a finishing kernel adds in slice order: no atomics, the same
// result on every run.

// V elements from p as floats: one 16-byte (float) or 8-byte (16-bit) load when V = 4 (p aligned to it).
template <int V, typename T> __device__ __forceinline__ void vx_load(float (&v)[V], const T* p) {
    if constexpr (V == 4 && sizeof(T) == 4) {
        float4 q = *reinterpret_cast<const float4*>(p);
        v[0] = vx_to_float(q.x);
        v[1] = vx_to_float(q.y);
        v[2] = vx_to_float(q.z);
        v[3] = vx_to_float(q.w);
    } else if constexpr (V == 4) {
        uint2 q = *reinterpret_cast<const uint2*>(p);
        v[0] = vx_to_float(T{(unsigned short) (q.x & 0xFFFFu)});
        v[1] = vx_to_float(T{(unsigned short) (q.x >> 16)});
        v[2] = vx_to_float(T{(unsigned short) (q.y & 0xFFFFu)});
        v[3] = vx_to_float(T{(unsigned short) (q.y >> 16)});
    } else {
#pragma unroll
        for (int j = 0; j < V; ++j) v[j] = vx_to_float(p[j]);
    }
}

// V floats to p, rounded to T (round to nearest even), in one store when V = 4.
template <int V, typename T> __device__ __forceinline__ void vx_store(T* p, const float (&v)[V]) {
    if constexpr (V == 4 && sizeof(T) == 4) {
        *reinterpret_cast<float4*>(p) = float4{v[0], v[1], v[2], v[3]};
    } else if constexpr (V == 4) {
        unsigned int e[4];
#pragma unroll
        for (int j = 0; j < 4; ++j) e[j] = vx_from_float<T>(v[j]).bits;
        *reinterpret_cast<uint2*>(p) = uint2{e[0] | (e[1] << 16), e[2] | (e[3] << 16)};
    } else {
#pragma unroll
        for (int j = 0; j < V; ++j) p[j] = vx_from_float<T>(v[j]);
    }
}

// The most a block holds: 256 threads × K·V ≤ 8 sums.
#define VX_COLUMN_THREADS 256

// The thread's slots of a block's shared sums (slot k·V + j of thread t at red[(k·V + j)·VX_COLUMN_THREADS + t])
// += part; part = 0.
template <int K, int V, typename A> __device__ __forceinline__ void vx_flush(double* red, A (&part)[K][V]) {
#pragma unroll
    for (int k = 0; k < K; ++k)
#pragma unroll
        for (int j = 0; j < V; ++j) {
            red[(k * V + j) * VX_COLUMN_THREADS + threadIdx.x] += part[k][j];
            part[k][j] = A(0);
        }
}

// Term: prepare(ch) once per thread (ch: its first channel), then add(acc, i) for element offset i of each row,
// Term::kInFlight rows' loads in flight at a time. A Term sums in Term::Acc: double, or float for at most
// Term::kFlush such steps at a time, each run then added into the thread's double sums in shared memory (the CPU
// backend's chunked sums: float arithmetic per element, the length of a float sum bounded, no double registers).
template <int V, int K, typename Term>
__device__ void vx_column_partials(double* partial, Term term, int rows, int c, int colsPerBlock) {
    __shared__ double red[8 * VX_COLUMN_THREADS];
    int t = threadIdx.x;
    int local = t % colsPerBlock;
    int rowInStep = t / colsPerBlock;
    int rowsPerStep = blockDim.x / colsPerBlock;
    int col = blockIdx.x * colsPerBlock + local;
    bool active = col < c / V;
    typename Term::Acc part[K][V];
#pragma unroll
    for (int k = 0; k < K; ++k)
#pragma unroll
        for (int j = 0; j < V; ++j) {
            part[k][j] = 0;
            red[(k * V + j) * VX_COLUMN_THREADS + t] = 0.0;
        }
    if (active) {
        long long base = (long long) blockIdx.z * rows * c + (long long) col * V;
        term.prepare(col * V, base);
        long long stride = (long long) rowsPerStep * gridDim.y;
        long long r = (long long) blockIdx.y * rowsPerStep + rowInStep;
        int steps = 0;
        // R rows' loads in flight before their sums, added in row order.
        constexpr int R = Term::kInFlight;
        for (; r + (R - 1) * stride < rows; r += R * stride) {
            typename Term::Values v[R];
#pragma unroll
            for (int k = 0; k < R; ++k) term.load(v[k], base + (r + k * stride) * c);
#pragma unroll
            for (int k = 0; k < R; ++k) term.add(part, v[k]);
            if (Term::kFlush > 0 && ++steps == Term::kFlush) {
                vx_flush(red, part);
                steps = 0;
            }
        }
        for (; r < rows; r += stride) {
            typename Term::Values v;
            term.load(v, base + r * c);
            term.add(part, v);
        }
    }
    // Double terms: the slots held 0, so they now hold the thread's sums themselves.
    vx_flush(red, part);
    __syncthreads();
    if (rowInStep == 0 && active) {
        long long out = ((long long) blockIdx.z * gridDim.y + blockIdx.y) * K * c + (long long) col * V;
#pragma unroll
        for (int k = 0; k < K; ++k)
#pragma unroll
            for (int j = 0; j < V; ++j) {
                const double* sums = red + (k * V + j) * VX_COLUMN_THREADS + local;
                double s = 0.0;
                for (int q = 0; q < rowsPerStep; ++q) s += sums[q * colsPerBlock];
                partial[out + (long long) k * c + j] = s;
            }
    }
}

// Σ x.
template <int V, typename T> struct VxSumTerm {
    using Acc = double;
    static constexpr int kFlush = 0;
    static constexpr int kInFlight = 4;
    struct Values { float x[V]; };
    const T* x;
    __device__ void prepare(int, long long) {}
    __device__ void load(Values& v, long long i) const { vx_load<V>(v.x, x + i); }
    __device__ void add(double (&acc)[1][V], const Values& v) const {
#pragma unroll
        for (int j = 0; j < V; ++j) acc[0][j] += v.x[j];
    }
};

// Σ a·b, each product rounded to T first (as a multiply in T followed by a sum).
template <int V, typename T> struct VxMulSumTerm {
    using Acc = double;
    static constexpr int kFlush = 0;
    static constexpr int kInFlight = 4;
    struct Values { float a[V], b[V]; };
    const T* a;
    const T* b;
    __device__ void prepare(int, long long) {}
    __device__ void load(Values& v, long long i) const {
        vx_load<V>(v.a, a + i);
        vx_load<V>(v.b, b + i);
    }
    __device__ void add(double (&acc)[1][V], const Values& v) const {
#pragma unroll
        for (int j = 0; j < V; ++j) acc[0][j] += vx_to_float(vx_from_float<T>(__fmul_rn(v.a[j], v.b[j])));
    }
};

// Σ d and Σ d² of d = x - shift, shift = the channel's value in the first row (so that the variance,
// Σd²/n - (Σd/n)², does not cancel away when the mean is large next to the spread).
template <int V, typename T> struct VxMomentsTerm {
    using Acc = double;
    static constexpr int kFlush = 0;
    static constexpr int kInFlight = 4;
    struct Values { float x[V]; };
    const T* x;
    float shift[V];
    __device__ void prepare(int, long long base) { vx_load<V>(shift, x + base); }
    __device__ void load(Values& v, long long i) const { vx_load<V>(v.x, x + i); }
    __device__ void add(double (&acc)[2][V], const Values& v) const {
#pragma unroll
        for (int j = 0; j < V; ++j) {
            double d = (double) v.x[j] - shift[j];
            acc[0][j] += d;
            acc[1][j] += d * d;
        }
    }
};

// Rows in flight in the fast gradient sums: two keep them under 80 registers (four took 104, a quarter of the warps).
#ifndef VX_FAST_BN_ROWS
#define VX_FAST_BN_ROWS 2
#endif

// VxIf<B, A, Z>::type: A when B, else Z (NVRTC has no <type_traits>).
template <bool B, typename A, typename Z> struct VxIf { using type = A; };
template <typename A, typename Z> struct VxIf<false, A, Z> { using type = Z; };

// For batch norm's backward: Σ g and Σ g·xhat with g = vx_bn_grad(dy, ...) and xhat = (x - mean) · inv_std, in
// double; FAST: g = dy · vx_silu_grad_fast(xhat · weight + bias) (or dy) and the sums in float for up to 64 rows at a
// time (64 rows at most, then added into double), as the CPU backend's fast path.
template <int V, typename T, bool FAST> struct VxBnGradTerm {
    using Acc = typename VxIf<FAST, float, double>::type;
    static constexpr int kInFlight = FAST ? VX_FAST_BN_ROWS : 4;
    static constexpr int kFlush = FAST ? 64 / kInFlight : 0;
    struct Values { float dy[V], x[V]; };
    const T* dy;
    const T* x;
    const float* mean;
    const float* inv_std;
    const float* weight;
    const float* bias;
    int silu;
    float m[V], is[V], w[V], b[V];
    __device__ void prepare(int ch, long long) {
#pragma unroll
        for (int j = 0; j < V; ++j) {
            m[j] = mean[ch + j];
            is[j] = inv_std[ch + j];
            w[j] = silu ? weight[ch + j] : 0.0f;
            b[j] = silu ? bias[ch + j] : 0.0f;
        }
    }
    __device__ void load(Values& v, long long i) const {
        vx_load<V>(v.dy, dy + i);
        vx_load<V>(v.x, x + i);
    }
    __device__ void add(Acc (&acc)[2][V], const Values& v) const {
#pragma unroll
        for (int j = 0; j < V; ++j) {
            if constexpr (FAST) {
                float xhat = (v.x[j] - m[j]) * is[j];
                float g = silu ? v.dy[j] * vx_silu_grad_fast(fmaf(xhat, w[j], b[j])) : v.dy[j];
                acc[0][j] += g;
                acc[1][j] = fmaf(g, xhat, acc[1][j]);
            } else {
                double g = vx_bn_grad(v.dy[j], v.x[j], m[j], is[j], w[j], b[j], silu);
                acc[0][j] += g;
                acc[1][j] += g * (v.x[j] - (double) m[j]) * (double) is[j];
            }
        }
    }
};

// Column sums of x or of a·b over [outer, rows, c] of type T (suffix S), summed in double.
#define VX_COLUMN_KERNELS(V, T, S)                                                                                    \
    /* partial: [outer, slices, 1, c] = Σ over each slice's rows of x: [outer, rows, c] */                          \
    extern "C" __global__ void column_sums_##S##_v##V(double* partial, const T* x, int rows, int c,              \
                                                      int colsPerBlock) {                                         \
        vx_column_partials<V, 1>(partial, VxSumTerm<V, T>{x}, rows, c, colsPerBlock);                             \
    }                                                                                                             \
    /* partial: [outer, slices, 1, c] = Σ a·b (a, b: [outer, rows, c]) */                                         \
    extern "C" __global__ void column_mul_sums_##S##_v##V(double* partial, const T* a, const T* b, int rows,     \
                                                          int c, int colsPerBlock) {                              \
        vx_column_partials<V, 1>(partial, VxMulSumTerm<V, T>{a, b}, rows, c, colsPerBlock);                       \
    }

// Batch norm's two sum passes over activations of type T (suffix S: f32, bf16, f16), float32 statistics.
#define VX_BN_SUM_KERNELS(V, T, S)                                                                                    \
    /* partial: [1, slices, 2, c] = Σ d, Σ d² with d = x - x[row 0] (x: [rows, c]) */                             \
    extern "C" __global__ void batch_norm_moments_##S##_v##V(double* partial, const T* x, int rows, int c,       \
                                                             int colsPerBlock) {                                  \
        vx_column_partials<V, 2>(partial, VxMomentsTerm<V, T>{x}, rows, c, colsPerBlock);                         \
    }                                                                                                             \
    /* partial: [1, slices, 2, c] = Σ g, Σ g·xhat (see VxBnGradTerm) */                                          \
    extern "C" __global__ void batch_norm_grad_sums_##S##_v##V(double* partial, const T* dy, const T* x,         \
                                                               const float* mean, const float* inv_std,           \
                                                               const float* weight, const float* bias, int rows,  \
                                                               int c, int colsPerBlock, int silu) {                \
        VxBnGradTerm<V, T, false> term{dy, x, mean, inv_std, weight, bias, silu};                                 \
        vx_column_partials<V, 2>(partial, term, rows, c, colsPerBlock);                                           \
    }                                                                                                             \
    /* the same sums in float for up to 64 rows at a time, the SiLU's derivative by fast-math intrinsics */       \
    extern "C" __global__ void batch_norm_grad_sums_fast_##S##_v##V(double* partial, const T* dy, const T* x,    \
                                                                    const float* mean, const float* inv_std,      \
                                                                    const float* weight, const float* bias,       \
                                                                    int rows, int c, int colsPerBlock, int silu) { \
        VxBnGradTerm<V, T, true> term{dy, x, mean, inv_std, weight, bias, silu};                                  \
        vx_column_partials<V, 2>(partial, term, rows, c, colsPerBlock);                                           \
    }

VX_COLUMN_KERNELS(1, float, f32)
VX_COLUMN_KERNELS(4, float, f32)
VX_COLUMN_KERNELS(1, VxBf16, bf16)
VX_COLUMN_KERNELS(4, VxBf16, bf16)
VX_COLUMN_KERNELS(1, VxF16, f16)
VX_COLUMN_KERNELS(4, VxF16, f16)
VX_BN_SUM_KERNELS(1, float, f32)
VX_BN_SUM_KERNELS(4, float, f32)
VX_BN_SUM_KERNELS(1, VxBf16, bf16)
VX_BN_SUM_KERNELS(4, VxBf16, bf16)
VX_BN_SUM_KERNELS(1, VxF16, f16)
VX_BN_SUM_KERNELS(4, VxF16, f16)

// The finishing kernels run blocks of 32 channels × 32 slice lanes over grid (ceil(c / 32), outer): lane l adds
// slices l, l + 32, ... in order, then lane 0 adds the 32 lanes in order (a thread per channel walking all the
// slices would wait on one load at a time, up to 1024 in a row). True on the thread that holds the K totals of
// channel blockIdx.x * 32 + threadIdx.x of outer index blockIdx.y.
template <int K>
__device__ bool vx_slice_totals(double (&total)[K], const double* partial, int slices, int c) {
    __shared__ double lanes[K][32][33];
    int ch = blockIdx.x * 32 + threadIdx.x;
    const double* p = partial + (long long) blockIdx.y * slices * K * c;
    double s[K];
#pragma unroll
    for (int q = 0; q < K; ++q) s[q] = 0.0;
    if (ch < c) {
        for (int k = threadIdx.y; k < slices; k += 32)
#pragma unroll
            for (int q = 0; q < K; ++q) s[q] += p[((long long) k * K + q) * c + ch];
    }
#pragma unroll
    for (int q = 0; q < K; ++q) lanes[q][threadIdx.y][threadIdx.x] = s[q];
    __syncthreads();
    if (threadIdx.y != 0 || ch >= c) {
        return false;
    }
#pragma unroll
    for (int q = 0; q < K; ++q) {
        double t = 0.0;
        for (int l = 0; l < 32; ++l) t += lanes[q][l][threadIdx.x];
        total[q] = t;
    }
    return true;
}

// out: [outer, c] = the totals of partial: [outer, slices, 1, c].
extern "C" __global__ void column_sums_finish_f32(float* out, const double* partial, int slices, int c) {
    double t[1];
    if (vx_slice_totals<1>(t, partial, slices, c)) {
        out[(long long) blockIdx.y * c + blockIdx.x * 32 + threadIdx.x] = (float) t[0];
    }
}

// From the moments' partial: [slices, 2, c] of x: [rows, c]: float32 mean, biased variance and 1/sqrt(var + eps),
// and the double mean and inverse standard deviation the normalisation uses; with scale (the fast kernels), also
// the float affine map y = x · scale + shift that weight and bias give (as the CPU backend's fast path). All [c].
template <typename T>
__device__ void vx_moments_finish(float* mean, float* var, float* inv_std, double* mean_d, double* inv_std_d,
                                  const double* partial, const T* x, int slices, int rows, int c, double eps,
                                  const float* weight = nullptr, const float* bias = nullptr,
                                  float* scale = nullptr, float* shift = nullptr) {
    double t[2];
    if (vx_slice_totals<2>(t, partial, slices, c)) {
        int ch = blockIdx.x * 32 + threadIdx.x;
        double d = t[0] / rows;
        double v = t[1] / rows - d * d;
        v = v > 0.0 ? v : 0.0;
        double is = 1.0 / sqrt(v + eps);
        double m = (double) vx_to_float(x[ch]) + d;
        mean[ch] = (float) m;
        var[ch] = (float) v;
        inv_std[ch] = (float) is;
        mean_d[ch] = m;
        inv_std_d[ch] = is;
        if (scale != nullptr) {
            scale[ch] = (float) (is * weight[ch]);
            shift[ch] = (float) (bias[ch] - m * is * weight[ch]);
        }
    }
}

#define VX_BN_MOMENTS_FINISH(T, S)                                                                                    \
    extern "C" __global__ void batch_norm_moments_finish_##S(float* mean, float* var, float* inv_std,            \
                                                             double* mean_d, double* inv_std_d,                   \
                                                             const double* partial, const T* x, int slices,       \
                                                             int rows, int c, double eps) {                       \
        vx_moments_finish(mean, var, inv_std, mean_d, inv_std_d, partial, x, slices, rows, c, eps);               \
    }                                                                                                             \
    /* and scale, shift: [c] for the fast apply kernel */                                                         \
    extern "C" __global__ void batch_norm_moments_finish_affine_##S(float* mean, float* var, float* inv_std,     \
                                                                    double* mean_d, double* inv_std_d,            \
                                                                    const double* partial, const T* x,            \
                                                                    int slices, int rows, int c, double eps,      \
                                                                    const float* weight, const float* bias,       \
                                                                    float* scale, float* shift) {                 \
        vx_moments_finish(mean, var, inv_std, mean_d, inv_std_d, partial, x, slices, rows, c, eps, weight, bias,  \
                          scale, shift);                                                                          \
    }
VX_BN_MOMENTS_FINISH(float, f32)
VX_BN_MOMENTS_FINISH(VxBf16, bf16)
VX_BN_MOMENTS_FINISH(VxF16, f16)

// From the gradient sums' partial: [slices, 2, c]: dweight = Σ g·xhat, dbias = Σ g (float32), and the data
// gradient's per-channel terms mean_g = Σ g / rows, mean_gx = Σ g·xhat / rows (double). All [c].
extern "C" __global__ void batch_norm_grad_finish_f32(float* dweight, float* dbias, double* mean_g, double* mean_gx,
                                                      const double* partial, int slices, int rows, int c) {
    double t[2];
    if (vx_slice_totals<2>(t, partial, slices, c)) {
        int ch = blockIdx.x * 32 + threadIdx.x;
        dbias[ch] = (float) t[0];
        dweight[ch] = (float) t[1];
        mean_g[ch] = t[0] / rows;
        mean_gx[ch] = t[1] / rows;
    }
}

// The same totals for the fast data gradient, as the CPU backend's fast path: coef: [3, c] float32 = weight ·
// inv_std, Σ g / rows, Σ g·xhat / rows.
extern "C" __global__ void batch_norm_grad_finish_fast_f32(float* dweight, float* dbias, float* coef,
                                                           const double* partial, int slices, int rows, int c,
                                                           const float* weight, const float* inv_std) {
    double t[2];
    if (vx_slice_totals<2>(t, partial, slices, c)) {
        int ch = blockIdx.x * 32 + threadIdx.x;
        dbias[ch] = (float) t[0];
        dweight[ch] = (float) t[1];
        coef[ch] = weight[ch] * inv_std[ch];
        coef[c + ch] = (float) (t[0] / rows);
        coef[2 * c + ch] = (float) (t[1] / rows);
    }
}

// out = f(a, channel) over [rows, c] data of type T, V elements at a time on a grid-stride loop (vectors = total / V,
// cv = c / V); the channel bookkeeping of a VxChannelStride.
template <int V, typename T, typename F>
__device__ __forceinline__ void vx_apply_channels(T* out, const T* a, long long vectors, int cv, F f) {
    VxChannelStride cs = vx_channel_stride(cv);
    int col = cs.first;
    VX_FOR_EACH(i, vectors) {
        float v[V];
        vx_load<V>(v, a + i * V);
#pragma unroll
        for (int j = 0; j < V; ++j) v[j] = f(v[j], col * V + j);
        vx_store<V>(out + i * V, v);
        col = vx_next_channel(col, cs, cv);
    }
}

// out = f(a, b, channel), as vx_apply_channels.
template <int V, typename T, typename F>
__device__ __forceinline__ void vx_apply_channels2(T* out, const T* a, const T* b, long long vectors, int cv, F f) {
    VxChannelStride cs = vx_channel_stride(cv);
    int col = cs.first;
    VX_FOR_EACH(i, vectors) {
        float u[V], v[V];
        vx_load<V>(u, a + i * V);
        vx_load<V>(v, b + i * V);
#pragma unroll
        for (int j = 0; j < V; ++j) u[j] = f(u[j], v[j], col * V + j);
        vx_store<V>(out + i * V, u);
        col = vx_next_channel(col, cs, cv);
    }
}

#define VX_BN_APPLY_KERNELS(V, T, S)                                                                                  \
    /* y = (x - mean) · inv_std · weight + bias (then SiLU), V elements at a time; vectors = total / V, cv = c / V;  \
       y and x of type T, the rest float32 / double. */                                                         \
    extern "C" __global__ void batch_norm_apply_##S##_v##V(T* y, const T* x, const double* mean_d,               \
                                                           const double* inv_std_d, const float* weight,          \
                                                           const float* bias, long long vectors, int cv,          \
                                                           int silu) {                                            \
        vx_apply_channels<V>(y, x, vectors, cv, [=](float v, int ch) {                                            \
            float u = (float) ((v - mean_d[ch]) * inv_std_d[ch] * weight[ch] + bias[ch]);                         \
            return silu ? u * vx_sigmoid(u) : u;                                                                  \
        });                                                                                                       \
    }                                                                                                             \
    /* dx = weight · inv_std · (g - mean_g - xhat · mean_gx), g = vx_bn_grad(dy, ...); V elements at a time. */  \
    extern "C" __global__ void batch_norm_grad_apply_##S##_v##V(T* dx, const T* dy, const T* x,                  \
                                                                const float* weight, const float* bias,           \
                                                                const float* mean, const float* inv_std,          \
                                                                const double* mean_g, const double* mean_gx,      \
                                                                long long vectors, int cv, int silu) {            \
        vx_apply_channels2<V>(dx, dy, x, vectors, cv, [=](float d, float xv, int ch) {                            \
            double is = inv_std[ch];                                                                              \
            double xhat = (xv - (double) mean[ch]) * is;                                                          \
            double g = vx_bn_grad(d, xv, mean[ch], inv_std[ch], weight[ch], silu ? bias[ch] : 0.0f, silu);        \
            return (float) (weight[ch] * is * (g - mean_g[ch] - xhat * mean_gx[ch]));                             \
        });                                                                                                       \
    }                                                                                                             \
    /* Fast: y = x · scale + shift in float (then vx_silu_fast). */                                               \
    extern "C" __global__ void batch_norm_apply_fast_##S##_v##V(T* y, const T* x, const float* scale,            \
                                                                const float* shift, long long vectors, int cv,    \
                                                                int silu) {                                       \
        vx_apply_channels<V>(y, x, vectors, cv, [=](float v, int ch) {                                            \
            float u = fmaf(v, scale[ch], shift[ch]);                                                              \
            return silu ? vx_silu_fast(u) : u;                                                                    \
        });                                                                                                       \
    }                                                                                                             \
    /* Fast: dx = k · (g - mean_g - xhat · mean_gx) in float, coef: [3, c] = k, mean_g, mean_gx; g = dy, or    \
       dy · vx_silu_grad_fast(xhat · weight + bias) (bias read only then). */                                    \
    extern "C" __global__ void batch_norm_grad_apply_fast_##S##_v##V(T* dx, const T* dy, const T* x,             \
                                                                     const float* weight, const float* bias,      \
                                                                     const float* mean, const float* inv_std,     \
                                                                     const float* coef, long long vectors,        \
                                                                     int cv, int silu) {                          \
        int c = cv * V;                                                                                           \
        vx_apply_channels2<V>(dx, dy, x, vectors, cv, [=](float d, float xv, int ch) {                            \
            float xhat = (xv - mean[ch]) * inv_std[ch];                                                           \
            float g = silu ? d * vx_silu_grad_fast(fmaf(xhat, weight[ch], bias[ch])) : d;                         \
            return (g - coef[c + ch] - xhat * coef[2 * c + ch]) * coef[ch];                                       \
        });                                                                                                       \
    }

VX_BN_APPLY_KERNELS(1, float, f32)
VX_BN_APPLY_KERNELS(4, float, f32)
VX_BN_APPLY_KERNELS(1, VxBf16, bf16)
VX_BN_APPLY_KERNELS(4, VxBf16, bf16)
VX_BN_APPLY_KERNELS(1, VxF16, f16)
VX_BN_APPLY_KERNELS(4, VxF16, f16)
