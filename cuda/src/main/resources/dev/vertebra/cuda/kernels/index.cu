// gather / scatterAdd along one dimension (torch.gather and its adjoint), float32 values, int64 indices.
// An out-of-range index does not fault: the first one is recorded in error[0..1] (flag, value) and the host
// raises IndexOutOfBoundsException after the kernel.
#include "vertebra_common.cuh"

// Position in x (C order, contiguous of shape xs.shape) of index element i: index's own coordinates, with
// coordinate `dim` replaced by the index value.
__device__ __forceinline__ long long vx_gathered(const VxView& iv, const VxView& xs, int dim, int i, long long t) {
    long long flat = 0;
    int rem = i;
    for (int d = iv.rank - 1; d >= 0; --d) {
        int pos = rem % iv.shape[d];
        rem /= iv.shape[d];
        flat += (long long) (d == dim ? (int) t : pos) * xs.stride[d];
    }
    return flat;
}

__device__ __forceinline__ bool vx_check_index(long long t, int size, long long* error) {
    if (t < 0 || t >= size) {
        if (atomicCAS((unsigned long long*) error, 0ULL, 1ULL) == 0ULL) {
            error[1] = t;
        }
        return false;
    }
    return true;
}

// out: [index shape] contiguous; x: contiguous, shape/strides in xs; index: view iv (rank = x's rank).
extern "C" __global__ void gather_f32(float* out, const float* x, VxView xs, const long long* index, VxView iv,
                                      int dim, int n, long long* error) {
    VX_FOR_EACH(i, n) {
        long long t = index[vx_offset(iv, (int) i)];
        out[i] = vx_check_index(t, xs.shape[dim], error) ? x[vx_gathered(iv, xs, dim, (int) i, t)] : 0.0f;
    }
}

// out: zeroed, contiguous, shape/strides in xs; src: view sv (element i of src in C order pairs with index i).
extern "C" __global__ void scatter_add_f32(float* out, VxView xs, const long long* index, VxView iv, int dim,
                                           const float* src, VxView sv, int n, long long* error) {
    VX_FOR_EACH(i, n) {
        long long t = index[vx_offset(iv, (int) i)];
        if (vx_check_index(t, xs.shape[dim], error)) {
            atomicAdd(&out[vx_gathered(iv, xs, dim, (int) i, t)], src[vx_offset(sv, (int) i)]);
        }
    }
}
