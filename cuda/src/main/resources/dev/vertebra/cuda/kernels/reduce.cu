// Reductions. The input view is arranged by the caller as [rows, cols] in C order: kept dimensions first, the
// reduced ones last (a permuted view, no copy), so one block reduces one row. Sums of float32 accumulate in
// double (as the reference does); max/min combine as ReduceOp.combine (NaN propagates).
#include "vertebra_common.cuh"

template <typename T> struct VxSum {
    __device__ __forceinline__ static T identity() { return T(0); }
    __device__ __forceinline__ static T combine(T a, T b) { return a + b; }
};

template <typename T> struct VxMax {
    __device__ __forceinline__ static T identity() { return -vx_inf(T(0)); }
    __device__ __forceinline__ static T combine(T a, T b) { return vx_maximum(a, b); }
};

template <typename T> struct VxMin {
    __device__ __forceinline__ static T identity() { return vx_inf(T(0)); }
    __device__ __forceinline__ static T combine(T a, T b) { return vx_minimum(a, b); }
};

// out: [rows]; in: view v of [rows, cols]. blockDim.x is a power of two; shared memory blockDim.x * sizeof(Acc).
template <typename T, typename Acc, typename Op>
__device__ void vx_reduce_rows(T* out, const T* in, const VxView& v, int rows, int cols) {
    extern __shared__ unsigned char vx_shared[];
    Acc* partial = reinterpret_cast<Acc*>(vx_shared);
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        Acc acc = Op::identity();
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            acc = Op::combine(acc, (Acc) in[vx_offset(v, r * cols + c)]);
        }
        partial[threadIdx.x] = acc;
        __syncthreads();
        for (int width = blockDim.x / 2; width > 0; width >>= 1) {
            if (threadIdx.x < width) {
                partial[threadIdx.x] = Op::combine(partial[threadIdx.x], partial[threadIdx.x + width]);
            }
            __syncthreads();
        }
        if (threadIdx.x == 0) {
            out[r] = (T) partial[0];
        }
        __syncthreads();
    }
}

extern "C" __global__ void reduce_sum_f32(float* out, const float* in, VxView v, int rows, int cols) {
    vx_reduce_rows<float, double, VxSum<double>>(out, in, v, rows, cols);
}

extern "C" __global__ void reduce_sum_f64(double* out, const double* in, VxView v, int rows, int cols) {
    vx_reduce_rows<double, double, VxSum<double>>(out, in, v, rows, cols);
}

extern "C" __global__ void reduce_max_f32(float* out, const float* in, VxView v, int rows, int cols) {
    vx_reduce_rows<float, float, VxMax<float>>(out, in, v, rows, cols);
}

extern "C" __global__ void reduce_max_f64(double* out, const double* in, VxView v, int rows, int cols) {
    vx_reduce_rows<double, double, VxMax<double>>(out, in, v, rows, cols);
}

extern "C" __global__ void reduce_min_f32(float* out, const float* in, VxView v, int rows, int cols) {
    vx_reduce_rows<float, float, VxMin<float>>(out, in, v, rows, cols);
}

extern "C" __global__ void reduce_min_f64(double* out, const double* in, VxView v, int rows, int cols) {
    vx_reduce_rows<double, double, VxMin<double>>(out, in, v, rows, cols);
}
