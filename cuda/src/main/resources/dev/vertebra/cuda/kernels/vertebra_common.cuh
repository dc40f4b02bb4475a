// Shared device helpers for Vertebra's kernels. Device code only: NVRTC has no C++ standard library, so the few
// helpers needed are defined here with a vx_ prefix (no clash with names nvcc's implicit headers bring in).
#pragma once

#define VX_MAX_DIMS 8

// A strided view: element i (C order over shape) lives at offset + sum(index[d] * stride[d]).
// Byte layout (72 bytes, 4-byte aligned) matches dev.vertebra.cuda.StridedView.
struct VxView {
    int rank;
    int offset;
    int shape[VX_MAX_DIMS];
    int stride[VX_MAX_DIMS];
};

// Storage offset of the i-th element (C order) of a view. The outermost index needs no division (i is below its
// extent by then), so a merged contiguous view (rank 1, the common case) costs none: integer division is tens of
// instructions on a GPU, more than the arithmetic of most elementwise kernels.
__device__ __forceinline__ int vx_offset(const VxView& v, int i) {
    int off = v.offset;
#pragma unroll
    for (int d = VX_MAX_DIMS - 1; d > 0; --d) {
        if (d < v.rank) {
            int s = v.shape[d];
            int q = i / s;
            off += (i - q * s) * v.stride[d];
            i = q;
        }
    }
    return v.rank > 0 ? off + i * v.stride[0] : off;
}

__device__ __forceinline__ float vx_exp(float x) { return expf(x); }
__device__ __forceinline__ double vx_exp(double x) { return exp(x); }

// Two branches keep exp() from overflowing for large |x| (as UnaryOp.SIGMOID).
template <typename T> __device__ __forceinline__ T vx_sigmoid(T x) {
    if (x >= T(0)) {
        return T(1) / (T(1) + vx_exp(-x));
    }
    T e = vx_exp(x);
    return e / (T(1) + e);
}

// vx_sigmoid(x) and vx_sigmoid(-x), rounded as the two calls round them (a NaN may come out with the other sign),
// from one exponential: exp(-|x|) is the one each call takes on its own (the SiLU's derivative needs both).
template <typename T> __device__ __forceinline__ void vx_sigmoid_pair(T x, T& pos, T& neg) {
    T e = vx_exp(x >= T(0) ? -x : x);
    T big = T(1) / (T(1) + e);
    T small = e / (T(1) + e);
    pos = x >= T(0) ? big : small;
    neg = x >= T(0) ? small : big;
}

// Grid-stride loop over [0, n); 64-bit counter so i + stride cannot overflow near 2^31.
#define VX_FOR_EACH(i, n) \
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < (long long) (n); \
         i += (long long) blockDim.x * gridDim.x)

// Element type codes: the ordinals of dev.vertebra.core.DType.
#define VX_FLOAT32 0
#define VX_FLOAT64 1
#define VX_FLOAT16 2
#define VX_BFLOAT16 3
#define VX_INT64 4
#define VX_INT32 5
#define VX_INT16 6
#define VX_UINT8 7

__device__ __forceinline__ float vx_nan(float) { return __int_as_float(0x7fc00000); }
__device__ __forceinline__ double vx_nan(double) { return __longlong_as_double(0x7ff8000000000000LL); }
__device__ __forceinline__ float vx_inf(float) { return __int_as_float(0x7f800000); }
__device__ __forceinline__ double vx_inf(double) { return __longlong_as_double(0x7ff0000000000000LL); }
__device__ __forceinline__ bool vx_signbit(float x) { return __float_as_int(x) < 0; }
__device__ __forceinline__ bool vx_signbit(double x) { return __double_as_longlong(x) < 0; }

__device__ __forceinline__ int vx_min_int(int a, int b) { return a < b ? a : b; }

// Java's Math.max/min after a NaN check (what ReduceOp.combine and BinaryOp.MAX/MIN do): NaN wins, +0 > -0.
template <typename T> __device__ __forceinline__ T vx_maximum(T a, T b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == T(0) && b == T(0)) return vx_signbit(a) ? b : a;
    return a >= b ? a : b;
}

template <typename T> __device__ __forceinline__ T vx_minimum(T a, T b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == T(0) && b == T(0)) return vx_signbit(a) ? a : b;
    return a <= b ? a : b;
}

// ---- 16-bit floats, stored as their raw bits (unsigned short): float16 and bfloat16 ---------------------------
// NVRTC has no cuda_fp16.h without the toolkit's include path, so the conversions are PTX or bit arithmetic.
// Rounding is to nearest even, as dev.vertebra.core.CpuStorage does.

__device__ __forceinline__ float vx_half_to_float(unsigned short h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

// NaN becomes the canonical quiet NaN with its sign, as in CpuStorage: PTX would give 0x7FFF, Java 0x7E00.
__device__ __forceinline__ unsigned short vx_float_to_half(float f) {
    if (f != f) {
        return (unsigned short) (((__float_as_uint(f) >> 16) & 0x8000u) | 0x7E00u);
    }
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

__device__ __forceinline__ float vx_bfloat16_to_float(unsigned short b) {
    return __uint_as_float(((unsigned int) b) << 16);
}

__device__ __forceinline__ unsigned short vx_float_to_bfloat16(float f) {
    unsigned int bits = __float_as_uint(f);
    if (f != f) {
        return (unsigned short) (((bits >> 16) & 0x8000u) | 0x7FC0u);
    }
    unsigned int rounding = 0x7FFFu + ((bits >> 16) & 1u);
    return (unsigned short) ((bits + rounding) >> 16);
}

// Element types of kernels that read and write 16-bit activations directly: float, or a 16-bit float as its raw
// bits in a tag type (so that overloads and templates tell bfloat16 from float16), computed in float.
struct VxBf16 {
    unsigned short bits;
};
struct VxF16 {
    unsigned short bits;
};
__device__ __forceinline__ float vx_to_float(float v) { return v; }
__device__ __forceinline__ float vx_to_float(VxBf16 v) { return vx_bfloat16_to_float(v.bits); }
__device__ __forceinline__ float vx_to_float(VxF16 v) { return vx_half_to_float(v.bits); }
template <typename T> __device__ __forceinline__ T vx_from_float(float f);
template <> __device__ __forceinline__ float vx_from_float<float>(float f) { return f; }
template <> __device__ __forceinline__ VxBf16 vx_from_float<VxBf16>(float f) {
    return VxBf16{vx_float_to_bfloat16(f)};
}
template <> __device__ __forceinline__ VxF16 vx_from_float<VxF16>(float f) { return VxF16{vx_float_to_half(f)}; }
