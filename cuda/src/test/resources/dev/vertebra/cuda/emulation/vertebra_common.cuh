// Host stand-in for the kernels' shared header, with what conv.cu and norm.cu use from it (the real header's
// 16-bit conversions are PTX, which only a GPU compiler takes).
#pragma once
#include <cmath>
#include <cstdio>

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
