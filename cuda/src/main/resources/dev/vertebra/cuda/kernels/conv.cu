// Convolution helpers over NHWC activations and HWIO weights ([KH, KW, Cin/groups, Cout]). General convolutions
// are im2col + cuBLAS GEMM per group and batch chunk (the GEMMs are issued from Java); depthwise convolutions
// (groups == Cin) run as direct kernels, where a GEMM would have an inner dimension of KH*KW.
#include "vertebra_common.cuh"

// Geometry of one convolution; byte layout matches ConvolutionOps.geometry (16 ints).
struct VxConv {
    int n, h, w, cin;       // x: [n, h, w, cin]
    int kh, kw, cpg, cout;  // weight: [kh, kw, cpg = cin / groups, cout]
    int oh, ow;             // y: [n, oh, ow, cout]
    int sh, sw, pt, pl, dh, dw;
};

// cols: [nb*oh*ow, kh*kw*cpg] for images n0 .. n0+nb-1 and input channels of one group.
extern "C" __global__ void im2col_f32(float* cols, const float* x, VxConv g, int n0, int nb, int group) {
    int k = g.kh * g.kw * g.cpg;
    long long total = (long long) nb * g.oh * g.ow * k;
    VX_FOR_EACH(e, total) {
        int col = (int) (e % k);
        long long row = e / k;
        int ci = col % g.cpg;
        int tap = col / g.cpg;
        int kx = tap % g.kw;
        int ky = tap / g.kw;
        int ox = (int) (row % g.ow);
        int oy = (int) ((row / g.ow) % g.oh);
        int b = n0 + (int) (row / ((long long) g.ow * g.oh));
        int iy = oy * g.sh - g.pt + ky * g.dh;
        int ix = ox * g.sw - g.pl + kx * g.dw;
        float v = 0.0f;
        if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) {
            v = x[(((long long) b * g.h + iy) * g.w + ix) * g.cin + group * g.cpg + ci];
        }
        cols[e] = v;
    }
}

// The adjoint of im2col, as a gather so no atomics are needed: every dx element of the chunk and group sums the
// cols entries that were copied from it. dx: [n, h, w, cin] (this group's channels written), dcols as im2col.
extern "C" __global__ void col2im_f32(float* dx, const float* dcols, VxConv g, int n0, int nb, int group) {
    int k = g.kh * g.kw * g.cpg;
    long long total = (long long) nb * g.h * g.w * g.cpg;
    VX_FOR_EACH(e, total) {
        int ci = (int) (e % g.cpg);
        long long pixel = e / g.cpg;
        int ix = (int) (pixel % g.w);
        int iy = (int) ((pixel / g.w) % g.h);
        int b = (int) (pixel / ((long long) g.w * g.h));
        float sum = 0.0f;
        for (int ky = 0; ky < g.kh; ++ky) {
            int ty = iy + g.pt - ky * g.dh;
            if (ty < 0 || ty % g.sh != 0 || ty / g.sh >= g.oh) continue;
            int oy = ty / g.sh;
            for (int kx = 0; kx < g.kw; ++kx) {
                int tx = ix + g.pl - kx * g.dw;
                if (tx < 0 || tx % g.sw != 0 || tx / g.sw >= g.ow) continue;
                int ox = tx / g.sw;
                long long row = ((long long) b * g.oh + oy) * g.ow + ox;
                sum += dcols[row * k + (ky * g.kw + kx) * g.cpg + ci];
            }
        }
        dx[(((long long) (n0 + b) * g.h + iy) * g.w + ix) * g.cin + group * g.cpg + ci] = sum;
    }
}

// Depthwise: groups == cin, cpg == 1, output channel co reads input channel co / (cout / cin).
// The depthwise kernels share one launch shape: block (32 channels, 8 columns), grid (channel blocks, rows),
// gridDim.y striding over the n*rows image rows. Channels on threadIdx.x keep every warp's loads and stores
// coalesced (NHWC); a row index and a column loop replace per-element 64-bit divisions, which cost more than the
// arithmetic of these memory-bound kernels. Template parameter K: a square K×K kernel whose weights a thread keeps
// in registers (loops unrolled), or 0 for any size, the weights read from memory; the sums are the same either way.

// The channel's K*K weights (w: [K, K, 1, cout]) in registers; nothing for K = 0.
template <int K, typename T>
struct VxTaps {
    float v[K > 0 ? K * K : 1];

    __device__ __forceinline__ VxTaps(const T* w, int cout, int co) {
        if constexpr (K > 0) {
#pragma unroll
            for (int t = 0; t < K * K; ++t) v[t] = vx_to_float(w[t * cout + co]);
        }
    }

    // Weight of tap (ky, kx) for output channel co.
    __device__ __forceinline__ float at(const T* w, const VxConv& g, int ky, int kx, int co) const {
        if constexpr (K > 0) {
            return v[ky * K + kx];
        } else {
            return vx_to_float(w[(ky * g.kw + kx) * g.cout + co]);
        }
    }
};

// y: [n, oh, ow, cout]; x: [n, h, w, cin]; w: [kh, kw, 1, cout]. Sums over ky, kx in order, in float.
template <int K, typename T>
__device__ __forceinline__ void depthwise_forward(T* y, const T* x, const T* w, const VxConv& g) {
    int co = blockIdx.x * 32 + threadIdx.x;
    if (co >= g.cout) return;
    int ci = co / (g.cout / g.cin);
    const int kh = K > 0 ? K : g.kh;
    const int kw = K > 0 ? K : g.kw;
    VxTaps<K, T> taps(w, g.cout, co);
    long long lineStride = (long long) g.w * g.cin;
    int rows = g.n * g.oh;
    for (int row = blockIdx.y; row < rows; row += gridDim.y) {
        int b = row / g.oh;
        int oy = row - b * g.oh;
        const T* image = x + (long long) b * g.h * lineStride + ci;
        T* out = y + (long long) row * g.ow * g.cout + co;
        for (int ox = threadIdx.y; ox < g.ow; ox += blockDim.y) {
            float sum = 0.0f;
#pragma unroll
            for (int ky = 0; ky < kh; ++ky) {
                int iy = oy * g.sh - g.pt + ky * g.dh;
                if (iy < 0 || iy >= g.h) continue;
                const T* line = image + iy * lineStride;
#pragma unroll
                for (int kx = 0; kx < kw; ++kx) {
                    int ix = ox * g.sw - g.pl + kx * g.dw;
                    if (ix >= 0 && ix < g.w) {
                        sum += vx_to_float(line[(long long) ix * g.cin]) * taps.at(w, g, ky, kx, co);
                    }
                }
            }
            out[(long long) ox * g.cout] = vx_from_float<T>(sum);
        }
    }
}

// Kernels for each element type T (suffix S): any size, then 3×3 and 5×5 with the weights in registers.
#define VX_DEPTHWISE_FORWARD(T, S)                                                                                    \
    extern "C" __global__ void depthwise_forward_##S(T* y, const T* x, const T* w, VxConv g) {                    \
        depthwise_forward<0>(y, x, w, g);                                                                         \
    }                                                                                                             \
    extern "C" __global__ void depthwise_forward_k3_##S(T* y, const T* x, const T* w, VxConv g) {                 \
        depthwise_forward<3>(y, x, w, g);                                                                         \
    }                                                                                                             \
    extern "C" __global__ void depthwise_forward_k5_##S(T* y, const T* x, const T* w, VxConv g) {                 \
        depthwise_forward<5>(y, x, w, g);                                                                         \
    }
VX_DEPTHWISE_FORWARD(float, f32)
VX_DEPTHWISE_FORWARD(VxBf16, bf16)
VX_DEPTHWISE_FORWARD(VxF16, f16)

// log2(s) for a power of two s, else -1: strides are 1 or 2 in practice, and a shift is far cheaper than an
// integer division.
__device__ __forceinline__ int vx_pow2_shift(int s) {
    return (s & (s - 1)) == 0 ? __ffs(s) - 1 : -1;
}

// t / s when t ≥ 0 and s divides t, else -1 (shift: vx_pow2_shift(s)).
__device__ __forceinline__ int vx_exact_quotient(int t, int s, int shift) {
    if (t < 0) return -1;
    if (shift >= 0) return (t & (s - 1)) == 0 ? t >> shift : -1;
    int q = t / s;
    return q * s == t ? q : -1;
}

// dx: [n, h, w, cin]; dy: [n, oh, ow, cout]; w: [kh, kw, 1, cout]. A gather over the taps that reach each input
// element (no atomics), summed over ky, kx, then the channel multiplier, in order. K > 0 only without a
// multiplier (cout == cin).
template <int K, typename T>
__device__ __forceinline__ void depthwise_backward_input(T* dx, const T* dy, const T* w, const VxConv& g) {
    int ci = blockIdx.x * 32 + threadIdx.x;
    if (ci >= g.cin) return;
    const int mult = K > 0 ? 1 : g.cout / g.cin;
    const int kh = K > 0 ? K : g.kh;
    const int kw = K > 0 ? K : g.kw;
    VxTaps<K, T> taps(w, g.cout, ci);
    int shiftH = vx_pow2_shift(g.sh);
    int shiftW = vx_pow2_shift(g.sw);
    long long lineStride = (long long) g.ow * g.cout;
    int rows = g.n * g.h;
    for (int row = blockIdx.y; row < rows; row += gridDim.y) {
        int b = row / g.h;
        int iy = row - b * g.h;
        const T* grads = dy + (long long) b * g.oh * lineStride;
        T* out = dx + (long long) row * g.w * g.cin + ci;
        for (int ix = threadIdx.y; ix < g.w; ix += blockDim.y) {
            float sum = 0.0f;
#pragma unroll
            for (int ky = 0; ky < kh; ++ky) {
                int oy = vx_exact_quotient(iy + g.pt - ky * g.dh, g.sh, shiftH);
                if (oy < 0 || oy >= g.oh) continue;
                const T* line = grads + oy * lineStride;
#pragma unroll
                for (int kx = 0; kx < kw; ++kx) {
                    int ox = vx_exact_quotient(ix + g.pl - kx * g.dw, g.sw, shiftW);
                    if (ox < 0 || ox >= g.ow) continue;
                    const T* d = line + (long long) ox * g.cout;
                    for (int m = 0; m < mult; ++m) {
                        int co = ci * mult + m;
                        sum += vx_to_float(d[co]) * taps.at(w, g, ky, kx, co);
                    }
                }
            }
            out[(long long) ix * g.cin] = vx_from_float<T>(sum);
        }
    }
}

#define VX_DEPTHWISE_BACKWARD_INPUT(T, S)                                                                             \
    extern "C" __global__ void depthwise_backward_input_##S(T* dx, const T* dy, const T* w, VxConv g) {           \
        depthwise_backward_input<0>(dx, dy, w, g);                                                                \
    }                                                                                                             \
    extern "C" __global__ void depthwise_backward_input_k3_##S(T* dx, const T* dy, const T* w, VxConv g) {        \
        depthwise_backward_input<3>(dx, dy, w, g);                                                                \
    }                                                                                                             \
    extern "C" __global__ void depthwise_backward_input_k5_##S(T* dx, const T* dy, const T* w, VxConv g) {        \
        depthwise_backward_input<5>(dx, dy, w, g);                                                                \
    }
VX_DEPTHWISE_BACKWARD_INPUT(float, f32)
VX_DEPTHWISE_BACKWARD_INPUT(VxBf16, bf16)
VX_DEPTHWISE_BACKWARD_INPUT(VxF16, f16)

// dw: [K, K, 1, cout] float (for every T), zeroed by the caller, for square K×K kernels. Each thread keeps the K*K
// tap sums of its channel in registers while it walks its columns of the block's rows, reading each dy element once;
// the eight column threads then meet in shared memory and each block adds its K*K*32 partial sums with atomicAdd.
template <int K, typename T>
__device__ __forceinline__ void depthwise_backward_weight_square(float* dw, const T* x, const T* dy,
                                                                 const VxConv& g) {
    __shared__ float partial[8][K * K][33];
    int co = blockIdx.x * 32 + threadIdx.x;
    float acc[K * K];
#pragma unroll
    for (int t = 0; t < K * K; ++t) acc[t] = 0.0f;
    if (co < g.cout) {
        int ci = co / (g.cout / g.cin);
        int rows = g.n * g.oh;
        for (int row = blockIdx.y; row < rows; row += gridDim.y) {
            int b = row / g.oh;
            int oy = row - b * g.oh;
            const T* image = x + (long long) b * g.h * g.w * g.cin + ci;
            const T* grads = dy + (long long) row * g.ow * g.cout + co;
            for (int ox = threadIdx.y; ox < g.ow; ox += blockDim.y) {
                float d = vx_to_float(grads[(long long) ox * g.cout]);
#pragma unroll
                for (int ky = 0; ky < K; ++ky) {
                    int iy = oy * g.sh - g.pt + ky * g.dh;
                    bool rowInside = iy >= 0 && iy < g.h;
                    const T* line = image + (long long) iy * g.w * g.cin;
#pragma unroll
                    for (int kx = 0; kx < K; ++kx) {
                        int ix = ox * g.sw - g.pl + kx * g.dw;
                        if (rowInside && ix >= 0 && ix < g.w) {
                            acc[ky * K + kx] += vx_to_float(line[(long long) ix * g.cin]) * d;
                        }
                    }
                }
            }
        }
    }
#pragma unroll
    for (int t = 0; t < K * K; ++t) partial[threadIdx.y][t][threadIdx.x] = acc[t];
    __syncthreads();
    if (co < g.cout) {
        for (int t = threadIdx.y; t < K * K; t += blockDim.y) {
            float total = 0.0f;
            for (int r = 0; r < 8; ++r) total += partial[r][t][threadIdx.x];
            atomicAdd(&dw[t * g.cout + co], total);
        }
    }
}


// Any other kernel size. dw: [kh, kw, 1, cout] float, zeroed by the caller. Block (32, 8): x walks 32 output channels
// (coalesced), y and gridDim.z split the n*oh*ow positions; blockIdx.y is the tap ky*kw+kx. Partial sums meet with
// atomicAdd.
template <typename T>
__device__ __forceinline__ void depthwise_backward_weight(float* dw, const T* x, const T* dy, const VxConv& g) {
    __shared__ float partial[8][33];
    int mult = g.cout / g.cin;
    int co = blockIdx.x * 32 + threadIdx.x;
    int tap = blockIdx.y;
    int ky = tap / g.kw;
    int kx = tap % g.kw;
    long long positions = (long long) g.n * g.oh * g.ow;
    float sum = 0.0f;
    if (co < g.cout) {
        int ci = co / mult;
        for (long long p = (long long) blockIdx.z * 8 + threadIdx.y; p < positions; p += 8LL * gridDim.z) {
            int ox = (int) (p % g.ow);
            int oy = (int) ((p / g.ow) % g.oh);
            int b = (int) (p / ((long long) g.ow * g.oh));
            int iy = oy * g.sh - g.pt + ky * g.dh;
            int ix = ox * g.sw - g.pl + kx * g.dw;
            if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) {
                sum += vx_to_float(x[(((long long) b * g.h + iy) * g.w + ix) * g.cin + ci])
                       * vx_to_float(dy[p * g.cout + co]);
            }
        }
    }
    partial[threadIdx.y][threadIdx.x] = sum;
    __syncthreads();
    if (threadIdx.y == 0 && co < g.cout) {
        float total = 0.0f;
        for (int r = 0; r < 8; ++r) total += partial[r][threadIdx.x];
        atomicAdd(&dw[tap * g.cout + co], total);
    }
}

#define VX_DEPTHWISE_BACKWARD_WEIGHT(T, S)                                                                            \
    extern "C" __global__ void depthwise_backward_weight_##S(float* dw, const T* x, const T* dy, VxConv g) {      \
        depthwise_backward_weight(dw, x, dy, g);                                                                  \
    }                                                                                                             \
    extern "C" __global__ void depthwise_backward_weight_k3_##S(float* dw, const T* x, const T* dy, VxConv g) {   \
        depthwise_backward_weight_square<3>(dw, x, dy, g);                                                        \
    }                                                                                                             \
    extern "C" __global__ void depthwise_backward_weight_k5_##S(float* dw, const T* x, const T* dy, VxConv g) {   \
        depthwise_backward_weight_square<5>(dw, x, dy, g);                                                        \
    }
VX_DEPTHWISE_BACKWARD_WEIGHT(float, f32)
VX_DEPTHWISE_BACKWARD_WEIGHT(VxBf16, bf16)
VX_DEPTHWISE_BACKWARD_WEIGHT(VxF16, f16)

// ---- depthwise in runs ------------------------------------------------------------------------------------------
// K×K depthwise correlations without a channel multiplier or dilation, stride S (1 or 2), each thread computing R
// consecutive outputs of one channel along a row from the (R-1)·S + K inputs of each kernel row held in registers:
// an input is loaded once per run instead of once per tap, and runs that lie inside the image load without bounds
// checks (the earlier kernels, one output per thread, are bound by those loads' address arithmetic and checks).
// Launch shape as the other depthwise kernels: block (32 channels, 8 runs), grid (channel blocks, output rows).
//
// out: [n, outH, outW, c]; in: [n, inH, inW, c]; w: [K, K, 1, c]. out[oy, ox] = Σ in[oy·S − pt + ky, ox·S − pl + kx]
// · w[ky, kx] (zero outside), summed over ky then kx in order, in float. FLIP: w[K−1−ky, K−1−kx] instead, which
// with S = 1 and pads K−1−pt, K−1−pl is the data gradient of the stride-1 convolution (in = dy, out = dx).
struct VxRunGeometry {
    int n, inH, inW, c, outH, outW, pt, pl;
};

#define VX_RUN 4

template <int K, int S, bool FLIP, typename T>
__device__ __forceinline__ void depthwise_run(T* out, const T* in, const T* w, const VxRunGeometry& g) {
    constexpr int R = VX_RUN;
    constexpr int SPAN = (R - 1) * S + K;
    int ch = blockIdx.x * 32 + threadIdx.x;
    if (ch >= g.c) return;
    float taps[K * K];
#pragma unroll
    for (int t = 0; t < K * K; ++t) taps[t] = vx_to_float(w[(FLIP ? K * K - 1 - t : t) * g.c + ch]);
    int runs = (g.outW + R - 1) / R;
    int rows = g.n * g.outH;
    for (int row = blockIdx.y; row < rows; row += gridDim.y) {
        int b = row / g.outH;
        int oy = row - b * g.outH;
        const T* image = in + (size_t) b * g.inH * g.inW * g.c + ch;
        T* line = out + (size_t) row * g.outW * g.c + ch;
        for (int run = threadIdx.y; run < runs; run += blockDim.y) {
            int ox0 = run * R;
            int ix0 = ox0 * S - g.pl;
            bool inside = ix0 >= 0 && ix0 + SPAN <= g.inW;
            float sum[R];
#pragma unroll
            for (int r = 0; r < R; ++r) sum[r] = 0.0f;
#pragma unroll
            for (int ky = 0; ky < K; ++ky) {
                int iy = oy * S - g.pt + ky;
                if (iy < 0 || iy >= g.inH) continue;
                const T* src = image + ((long long) iy * g.inW + ix0) * g.c;  // ix0 < 0 at a left edge
                float v[SPAN];
                if (inside) {
#pragma unroll
                    for (int j = 0; j < SPAN; ++j) v[j] = vx_to_float(src[j * g.c]);
                } else {
#pragma unroll
                    for (int j = 0; j < SPAN; ++j) {
                        int ix = ix0 + j;
                        v[j] = ix >= 0 && ix < g.inW ? vx_to_float(src[j * g.c]) : 0.0f;
                    }
                }
#pragma unroll
                for (int r = 0; r < R; ++r)
#pragma unroll
                    for (int kx = 0; kx < K; ++kx) sum[r] += v[r * S + kx] * taps[ky * K + kx];
            }
#pragma unroll
            for (int r = 0; r < R; ++r) {
                if (ox0 + r < g.outW) line[(size_t) (ox0 + r) * g.c] = vx_from_float<T>(sum[r]);
            }
        }
    }
}

#define VX_DEPTHWISE_RUNS(T, S)                                                                                       \
    extern "C" __global__ void depthwise_run_k3_s1_##S(T* y, const T* x, const T* w, VxRunGeometry g) {          \
        depthwise_run<3, 1, false>(y, x, w, g);                                                                   \
    }                                                                                                             \
    extern "C" __global__ void depthwise_run_k3_s2_##S(T* y, const T* x, const T* w, VxRunGeometry g) {          \
        depthwise_run<3, 2, false>(y, x, w, g);                                                                   \
    }                                                                                                             \
    extern "C" __global__ void depthwise_run_k5_s1_##S(T* y, const T* x, const T* w, VxRunGeometry g) {          \
        depthwise_run<5, 1, false>(y, x, w, g);                                                                   \
    }                                                                                                             \
    extern "C" __global__ void depthwise_run_k5_s2_##S(T* y, const T* x, const T* w, VxRunGeometry g) {          \
        depthwise_run<5, 2, false>(y, x, w, g);                                                                   \
    }                                                                                                             \
    /* the data gradient of a stride-1 K×K depthwise convolution: dx = dy ⋆ flipped w */                        \
    extern "C" __global__ void depthwise_run_flip_k3_##S(T* dx, const T* dy, const T* w, VxRunGeometry g) {      \
        depthwise_run<3, 1, true>(dx, dy, w, g);                                                                  \
    }                                                                                                             \
    extern "C" __global__ void depthwise_run_flip_k5_##S(T* dx, const T* dy, const T* w, VxRunGeometry g) {      \
        depthwise_run<5, 1, true>(dx, dy, w, g);                                                                  \
    }
VX_DEPTHWISE_RUNS(float, f32)
VX_DEPTHWISE_RUNS(VxBf16, bf16)
VX_DEPTHWISE_RUNS(VxF16, f16)

// ---- a gate on a 1×1 convolution's input, folded into per-image weights ------------------------------------------
// conv(x · gate, w) with x: [n, hw, cin], gate: [n, cin] (squeeze-excitation) as one batched GEMM over
// wn[img] = diag(gate[img]) · w, and its gradients from the per-image products p[img] = x[img]ᵀ · dy[img]: no pass
// over x · gate or its gradient (GatedPointwise issues the GEMMs).

// wn: [n, cin, cout] = gate[img, ci] · w[ci, co].
extern "C" __global__ void gate_weights_f32(float* wn, const float* w, const float* gate, int n, int cin, int cout) {
    long long per = (long long) cin * cout;
    VX_FOR_EACH(i, per * n) {
        long long img = i / per;
        long long rem = i - img * per;
        int ci = (int) (rem / cout);
        wn[i] = gate[img * cin + ci] * w[rem];
    }
}

// dw: [cin, cout] = Σ_img gate[img, ci] · p[img, ci, co], in image order; p: [n, cin, cout].
extern "C" __global__ void gated_weight_grad_f32(float* dw, const float* p, const float* gate, int n, int cin,
                                                 int cout) {
    long long per = (long long) cin * cout;
    VX_FOR_EACH(i, per) {
        int ci = (int) (i / cout);
        float s = 0.0f;
        for (int img = 0; img < n; ++img) s += gate[(long long) img * cin + ci] * p[img * per + i];
        dw[i] = s;
    }
}

// dgate: [n, cin] = Σ_co w[ci, co] · p[img, ci, co], in channel order.
extern "C" __global__ void gated_gate_grad_f32(float* dgate, const float* p, const float* w, int n, int cin,
                                               int cout) {
    VX_FOR_EACH(i, (long long) n * cin) {
        int ci = (int) (i % cin);
        const float* row = p + i * cout;
        const float* wr = w + (long long) ci * cout;
        float s = 0.0f;
        for (int co = 0; co < cout; ++co) s += wr[co] * row[co];
        dgate[i] = s;
    }
}
