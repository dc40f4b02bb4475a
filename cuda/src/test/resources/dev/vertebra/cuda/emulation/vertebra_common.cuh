// Host stand-in for the kernels' shared header, with what conv.cu and norm.cu use from it (the real header's
// 16-bit conversions are PTX, which only a GPU compiler takes).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#define VX_FOR_EACH(i, n) \
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < (long long) (n); \
         i += (long long) blockDim.x * gridDim.x)

inline float vx_exp(float x) { return std::exp(x); }
inline double vx_exp(double x) { return std::exp(x); }

template <typename T> inline T vx_sigmoid(T x) {
    if (x >= T(0)) return T(1) / (T(1) + vx_exp(-x));
    T e = vx_exp(x);
    return e / (T(1) + e);
}

template <typename T> inline void vx_sigmoid_pair(T x, T& pos, T& neg) {
    T e = vx_exp(x >= T(0) ? -x : x);
    T big = T(1) / (T(1) + e);
    T small = e / (T(1) + e);
    pos = x >= T(0) ? big : small;
    neg = x >= T(0) ? small : big;
}

// 16-bit floats as raw bits, rounded to nearest even as the real header's PTX and bit arithmetic round.
inline float vx_bfloat16_to_float(unsigned short b) {
    uint32_t bits = (uint32_t) b << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

inline unsigned short vx_float_to_bfloat16(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    if (f != f) return (unsigned short) (((bits >> 16) & 0x8000u) | 0x7FC0u);
    return (unsigned short) ((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

inline float vx_half_to_float(unsigned short h) {
    _Float16 v;
    std::memcpy(&v, &h, 2);
    return (float) v;
}

inline unsigned short vx_float_to_half(float f) {
    _Float16 v = (_Float16) f;
    unsigned short h;
    std::memcpy(&h, &v, 2);
    return h;
}

// The real header's element types (same definitions; the 16-bit conversions above stand in for its PTX).
struct VxBf16 {
    unsigned short bits;
};
struct VxF16 {
    unsigned short bits;
};
inline float vx_to_float(float v) { return v; }
inline float vx_to_float(VxBf16 v) { return vx_bfloat16_to_float(v.bits); }
inline float vx_to_float(VxF16 v) { return vx_half_to_float(v.bits); }
template <typename T> inline T vx_from_float(float f);
template <> inline float vx_from_float<float>(float f) { return f; }
template <> inline VxBf16 vx_from_float<VxBf16>(float f) { return VxBf16{vx_float_to_bfloat16(f)}; }
template <> inline VxF16 vx_from_float<VxF16>(float f) { return VxF16{vx_float_to_half(f)}; }
