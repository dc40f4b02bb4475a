// Elementwise ops. Kernel names are <unary|binary|scalar>_<op kernel()>_<f32|f64|f16|bf16>, where the op names are
// the kernel() strings of dev.vertebra.core.UnaryOp and BinaryOp. Formulas follow those enums' reference formulas,
// including NaN handling (maximum/minimum propagate NaN, relu keeps NaN as PyTorch does, sign keeps NaN and signed
// zeros).
// The 16-bit variants (mixed precision) load to float, compute in float and round the result once.
#include "vertebra_common.cuh"

__device__ __forceinline__ float vx_log(float x) { return logf(x); }
__device__ __forceinline__ double vx_log(double x) { return log(x); }
__device__ __forceinline__ float vx_log1p(float x) { return log1pf(x); }
__device__ __forceinline__ double vx_log1p(double x) { return log1p(x); }
__device__ __forceinline__ float vx_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double vx_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float vx_abs(float x) { return fabsf(x); }
__device__ __forceinline__ double vx_abs(double x) { return fabs(x); }
__device__ __forceinline__ float vx_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double vx_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float vx_pow(float a, float b) { return powf(a, b); }
__device__ __forceinline__ double vx_pow(double a, double b) { return pow(a, b); }

// Java's Math.max(x, 0): NaN stays NaN.
template <typename T> __device__ __forceinline__ T vx_max0(T x) {
    return x != x ? x : (x > T(0) ? x : T(0));
}

// out: [n] contiguous 16-bit; in: view v of n elements; computed in float.
#define VX_UNARY_16(name, sfx, load, store)                                                                    \
    extern "C" __global__ void unary_##name##_##sfx(unsigned short* out, const unsigned short* in, VxView v,    \
                                                    int n) {                                                  \
        VX_FOR_EACH(i, n) { out[i] = store(vx_unary_##name<float>(load(in[vx_offset(v, (int) i)]))); }        \
    }

#define VX_UNARY(name, expr)                                                                                   \
    template <typename T> __device__ __forceinline__ T vx_unary_##name(T x) { return (expr); }               \
    /* out: [n] contiguous; in: view v of n elements */                                                       \
    extern "C" __global__ void unary_##name##_f32(float* out, const float* in, VxView v, int n) {             \
        VX_FOR_EACH(i, n) { out[i] = vx_unary_##name<float>(in[vx_offset(v, (int) i)]); }                     \
    }                                                                                                         \
    extern "C" __global__ void unary_##name##_f64(double* out, const double* in, VxView v, int n) {           \
        VX_FOR_EACH(i, n) { out[i] = vx_unary_##name<double>(in[vx_offset(v, (int) i)]); }                    \
    }                                                                                                         \
    VX_UNARY_16(name, f16, vx_half_to_float, vx_float_to_half)                                                \
    VX_UNARY_16(name, bf16, vx_bfloat16_to_float, vx_float_to_bfloat16)

VX_UNARY(neg, -x)
VX_UNARY(exp, vx_exp(x))
VX_UNARY(log, vx_log(x))
VX_UNARY(sqrt, vx_sqrt(x))
VX_UNARY(abs, vx_abs(x))
VX_UNARY(sign, x > T(0) ? T(1) : (x < T(0) ? T(-1) : x))
VX_UNARY(relu, x > T(0) || x != x ? x : T(0))
VX_UNARY(sigmoid, vx_sigmoid(x))
VX_UNARY(tanh, vx_tanh(x))
VX_UNARY(silu, x * vx_sigmoid(x))
VX_UNARY(softplus, vx_max0(x) + vx_log1p(vx_exp(-vx_abs(x))))

// Tensor-tensor ops compute in the element type: for + - * / a float result rounded once equals the reference's
// double result rounded to float. Tensor-scalar ops compute in double, as the reference does, then round.
// 16-bit variants: tensor-tensor in float, tensor-scalar in double (as the float32 kernels), rounded once.
#define VX_BINARY_16(name, sfx, load, store)                                                                   \
    extern "C" __global__ void binary_##name##_##sfx(unsigned short* out, const unsigned short* a, VxView va,   \
                                                     const unsigned short* b, VxView vb, int n) {             \
        VX_FOR_EACH(i, n) {                                                                                   \
            out[i] = store(vx_binary_##name<float>(load(a[vx_offset(va, (int) i)]),                          \
                                                   load(b[vx_offset(vb, (int) i)])));                        \
        }                                                                                                     \
    }                                                                                                         \
    extern "C" __global__ void scalar_##name##_##sfx(unsigned short* out, const unsigned short* a, VxView va,   \
                                                     double s, int n) {                                       \
        VX_FOR_EACH(i, n) {                                                                                   \
            out[i] = store((float) vx_binary_##name<double>((double) load(a[vx_offset(va, (int) i)]), s));   \
        }                                                                                                     \
    }

#define VX_BINARY(name, expr)                                                                                  \
    template <typename T> __device__ __forceinline__ T vx_binary_##name(T a, T b) { return (expr); }         \
    /* out: [n] contiguous; a, b: views va, vb of the broadcast output shape */                              \
    extern "C" __global__ void binary_##name##_f32(float* out, const float* a, VxView va, const float* b,     \
                                                   VxView vb, int n) {                                        \
        VX_FOR_EACH(i, n) {                                                                                   \
            out[i] = vx_binary_##name<float>(a[vx_offset(va, (int) i)], b[vx_offset(vb, (int) i)]);           \
        }                                                                                                     \
    }                                                                                                         \
    extern "C" __global__ void binary_##name##_f64(double* out, const double* a, VxView va, const double* b,  \
                                                   VxView vb, int n) {                                        \
        VX_FOR_EACH(i, n) {                                                                                   \
            out[i] = vx_binary_##name<double>(a[vx_offset(va, (int) i)], b[vx_offset(vb, (int) i)]);          \
        }                                                                                                     \
    }                                                                                                         \
    /* out: [n] contiguous; a: view va of n elements; s: the scalar */                                        \
    extern "C" __global__ void scalar_##name##_f32(float* out, const float* a, VxView va, double s, int n) {  \
        VX_FOR_EACH(i, n) { out[i] = (float) vx_binary_##name<double>(a[vx_offset(va, (int) i)], s); }        \
    }                                                                                                         \
    extern "C" __global__ void scalar_##name##_f64(double* out, const double* a, VxView va, double s, int n) { \
        VX_FOR_EACH(i, n) { out[i] = vx_binary_##name<double>(a[vx_offset(va, (int) i)], s); }                \
    }                                                                                                         \
    VX_BINARY_16(name, f16, vx_half_to_float, vx_float_to_half)                                               \
    VX_BINARY_16(name, bf16, vx_bfloat16_to_float, vx_float_to_bfloat16)

VX_BINARY(add, a + b)
VX_BINARY(sub, a - b)
VX_BINARY(mul, a * b)
VX_BINARY(div, a / b)
VX_BINARY(pow, vx_pow(a, b))
VX_BINARY(maximum, vx_maximum(a, b))
VX_BINARY(minimum, vx_minimum(a, b))
VX_BINARY(gt, a > b ? T(1) : T(0))
VX_BINARY(ge, a >= b ? T(1) : T(0))
VX_BINARY(lt, a < b ? T(1) : T(0))
VX_BINARY(le, a <= b ? T(1) : T(0))
VX_BINARY(eq, a == b ? T(1) : T(0))
// SiLU's backward (BinaryOp.SILU_GRAD): a is SiLU's input, b the gradient of its output.
// b · silu'(a) = b · σ(a)·(1 + a·σ(−a)), both sigmoids from one exponential (vx_sigmoid_pair: the same bits).
template <typename T> __device__ __forceinline__ T vx_silu_grad(T a, T b) {
    T pos, neg;
    vx_sigmoid_pair(a, pos, neg);
    return b * (pos * (T(1) + a * neg));
}
VX_BINARY(silu_grad, vx_silu_grad(a, b))

// ---- in place: what autograd sums gradients with and what optimisers update with ------------------------------

// dst += src, rounded as binary add (float: one rounding; 16-bit: in float, rounded once). dst: [n] contiguous;
// src: view vs of n elements (broadcast to dst's shape).
#define VX_ACCUMULATE(sfx, T, load, store)                                                                    \
    extern "C" __global__ void accumulate_##sfx(T* dst, const T* src, VxView vs, int n) {                   \
        VX_FOR_EACH(i, n) { dst[i] = store(load(dst[i]) + load(src[vx_offset(vs, (int) i)])); }            \
    }

__device__ __forceinline__ float vx_same(float x) { return x; }
__device__ __forceinline__ double vx_same(double x) { return x; }

VX_ACCUMULATE(f32, float, vx_same, vx_same)
VX_ACCUMULATE(f64, double, vx_same, vx_same)
VX_ACCUMULATE(f16, unsigned short, vx_half_to_float, vx_float_to_half)
VX_ACCUMULATE(bf16, unsigned short, vx_bfloat16_to_float, vx_float_to_bfloat16)

// dst = alpha·dst + beta·src over n contiguous elements, rounded as the separate ops are: each product as the
// tensor-scalar kernels compute it (in double, rounded to the element type), then their sum in the element type,
// without a fused multiply-add. src may be dst itself.
extern "C" __global__ void scale_add_f32(float* dst, const float* src, double alpha, double beta, int n) {
    VX_FOR_EACH(i, n) {
        float a = (float) __dmul_rn((double) dst[i], alpha);
        float b = (float) __dmul_rn((double) src[i], beta);
        dst[i] = __fadd_rn(a, b);
    }
}

extern "C" __global__ void scale_add_f64(double* dst, const double* src, double alpha, double beta, int n) {
    VX_FOR_EACH(i, n) { dst[i] = __dadd_rn(__dmul_rn(dst[i], alpha), __dmul_rn(src[i], beta)); }
}

// Up to VX_SCALE_ADD_TENSORS pairs of float32 tensors for scale_add_many_f32, by value (layout matches
// CudaBackend.scaleAddAll: the dst pointers, the src pointers, the sizes, then the count).
#define VX_SCALE_ADD_TENSORS 128
struct VxScaleAddList {
    float* dst[VX_SCALE_ADD_TENSORS];
    const float* src[VX_SCALE_ADD_TENSORS];
    int n[VX_SCALE_ADD_TENSORS];
    int count;
};

// scale_add_f32 for every pair of the list: blockIdx.y picks the pair, the blocks along x stride over its elements.
extern "C" __global__ void scale_add_many_f32(VxScaleAddList list, double alpha, double beta) {
    int t = blockIdx.y;
    if (t >= list.count) return;
    float* dst = list.dst[t];
    const float* src = list.src[t];
    int n = list.n[t];
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
        float a = (float) __dmul_rn((double) dst[i], alpha);
        float b = (float) __dmul_rn((double) src[i], beta);
        dst[i] = __fadd_rn(a, b);
    }
}
