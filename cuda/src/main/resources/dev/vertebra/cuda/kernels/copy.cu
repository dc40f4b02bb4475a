// Strided copies with dtype conversion, and fill. Conversions follow dev.vertebra.core.CpuStorage: values pass
// through double (through float for the 16-bit floats, rounding to nearest even: see vertebra_common.cuh);
// integer-to-integer copies go through 64-bit integers so they are exact; float-to-integer truncates toward zero
// (NaN gives 0, out-of-range saturates to the 64-bit range before wrapping, as Java's (long) cast).
#include "vertebra_common.cuh"

__device__ __forceinline__ bool vx_is_float(int type) {
    return type <= VX_BFLOAT16;
}

__device__ double vx_load_double(const void* base, int type, int i) {
    switch (type) {
        case VX_FLOAT32: return ((const float*) base)[i];
        case VX_FLOAT64: return ((const double*) base)[i];
        case VX_FLOAT16: return vx_half_to_float(((const unsigned short*) base)[i]);
        case VX_BFLOAT16: return vx_bfloat16_to_float(((const unsigned short*) base)[i]);
        case VX_INT64: return (double) ((const long long*) base)[i];
        case VX_INT32: return ((const int*) base)[i];
        case VX_INT16: return ((const short*) base)[i];
        default: return ((const unsigned char*) base)[i];
    }
}

__device__ long long vx_load_long(const void* base, int type, int i) {
    switch (type) {
        case VX_INT64: return ((const long long*) base)[i];
        case VX_INT32: return ((const int*) base)[i];
        case VX_INT16: return ((const short*) base)[i];
        default: return ((const unsigned char*) base)[i];
    }
}

__device__ void vx_store_long(void* base, int type, int i, long long v) {
    switch (type) {
        case VX_INT64: ((long long*) base)[i] = v; break;
        case VX_INT32: ((int*) base)[i] = (int) v; break;
        case VX_INT16: ((short*) base)[i] = (short) v; break;
        default: ((unsigned char*) base)[i] = (unsigned char) v; break;
    }
}

__device__ void vx_store_double(void* base, int type, int i, double v) {
    switch (type) {
        case VX_FLOAT32: ((float*) base)[i] = (float) v; break;
        case VX_FLOAT64: ((double*) base)[i] = v; break;
        case VX_FLOAT16: ((unsigned short*) base)[i] = vx_float_to_half((float) v); break;
        case VX_BFLOAT16: ((unsigned short*) base)[i] = vx_float_to_bfloat16((float) v); break;
        default: vx_store_long(base, type, i, v != v ? 0LL : (long long) v); break;
    }
}

// dst (view dv, type dst_type) = src (view sv, same shape as dv after broadcasting, type src_type); n elements.
extern "C" __global__ void copy_cast(void* dst, VxView dv, int dst_type, const void* src, VxView sv, int src_type,
                                     int n) {
    bool integral = !vx_is_float(src_type) && !vx_is_float(dst_type);
    VX_FOR_EACH(i, n) {
        int s = vx_offset(sv, (int) i);
        int d = vx_offset(dv, (int) i);
        if (integral) {
            vx_store_long(dst, dst_type, d, vx_load_long(src, src_type, s));
        } else {
            vx_store_double(dst, dst_type, d, vx_load_double(src, src_type, s));
        }
    }
}

// dst: [n] contiguous of type dst_type, every element value.
extern "C" __global__ void fill(void* dst, int dst_type, double value, int n) {
    VX_FOR_EACH(i, n) {
        vx_store_double(dst, dst_type, (int) i, value);
    }
}
