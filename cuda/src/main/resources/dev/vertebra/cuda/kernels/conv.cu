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
// y: [n, oh, ow, cout]; x: [n, h, w, cin]; w: [kh, kw, 1, cout].
extern "C" __global__ void depthwise_forward_f32(float* y, const float* x, const float* w, VxConv g) {
    int mult = g.cout / g.cin;
    long long total = (long long) g.n * g.oh * g.ow * g.cout;
    VX_FOR_EACH(e, total) {
        int co = (int) (e % g.cout);
        long long pixel = e / g.cout;
        int ox = (int) (pixel % g.ow);
        int oy = (int) ((pixel / g.ow) % g.oh);
        int b = (int) (pixel / ((long long) g.ow * g.oh));
        int ci = co / mult;
        float sum = 0.0f;
        for (int ky = 0; ky < g.kh; ++ky) {
            int iy = oy * g.sh - g.pt + ky * g.dh;
            if (iy < 0 || iy >= g.h) continue;
            for (int kx = 0; kx < g.kw; ++kx) {
                int ix = ox * g.sw - g.pl + kx * g.dw;
                if (ix < 0 || ix >= g.w) continue;
                sum += x[(((long long) b * g.h + iy) * g.w + ix) * g.cin + ci] * w[(ky * g.kw + kx) * g.cout + co];
            }
        }
        y[e] = sum;
    }
}

// dx: [n, h, w, cin]; dy: [n, oh, ow, cout]; w: [kh, kw, 1, cout].
extern "C" __global__ void depthwise_backward_input_f32(float* dx, const float* dy, const float* w, VxConv g) {
    int mult = g.cout / g.cin;
    long long total = (long long) g.n * g.h * g.w * g.cin;
    VX_FOR_EACH(e, total) {
        int ci = (int) (e % g.cin);
        long long pixel = e / g.cin;
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
                const float* dyRow = dy + (((long long) b * g.oh + oy) * g.ow + ox) * g.cout;
                for (int m = 0; m < mult; ++m) {
                    int co = ci * mult + m;
                    sum += dyRow[co] * w[(ky * g.kw + kx) * g.cout + co];
                }
            }
        }
        dx[e] = sum;
    }
}

// dw: [kh, kw, 1, cout], zeroed by the caller. Block (32, 8): x walks 32 output channels (coalesced), y and
// gridDim.z split the n*oh*ow positions; blockIdx.y is the tap ky*kw+kx. Partial sums meet with atomicAdd.
extern "C" __global__ void depthwise_backward_weight_f32(float* dw, const float* x, const float* dy, VxConv g) {
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
                sum += x[(((long long) b * g.h + iy) * g.w + ix) * g.cin + ci] * dy[p * g.cout + co];
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
