// 2-D max and average pooling over NHWC activations (floor mode), forward and backward. Max pooling keeps
// NaN (as the reference: a NaN input wins) and sends each gradient to the first maximum of its window; the
// backward pass gathers per input element, so it needs no atomics.
#include "vertebra_common.cuh"

// Byte layout matches PoolingOps.geometry (14 ints).
struct VxPool {
    int n, h, w, c;   // x: [n, h, w, c]
    int oh, ow;       // y: [n, oh, ow, c]
    int kh, kw, sh, sw, pt, pl;
    int include_pad;  // average divides by kh*kw (1) or by the in-image count (0)
    int is_max;
};

// y: [n, oh, ow, c]; x: [n, h, w, c].
extern "C" __global__ void pool_forward_f32(float* y, const float* x, VxPool g) {
    long long total = (long long) g.n * g.oh * g.ow * g.c;
    VX_FOR_EACH(e, total) {
        int ch = (int) (e % g.c);
        long long pixel = e / g.c;
        int ox = (int) (pixel % g.ow);
        int oy = (int) ((pixel / g.ow) % g.oh);
        int b = (int) (pixel / ((long long) g.ow * g.oh));
        float best = -vx_inf(0.0f);
        double sum = 0.0;
        int count = 0;
        for (int ky = 0; ky < g.kh; ++ky) {
            int iy = oy * g.sh - g.pt + ky;
            for (int kx = 0; kx < g.kw; ++kx) {
                int ix = ox * g.sw - g.pl + kx;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                float v = x[(((long long) b * g.h + iy) * g.w + ix) * g.c + ch];
                ++count;
                if (v > best || v != v) best = v;
                sum += v;
            }
        }
        if (g.is_max) {
            y[e] = best;
        } else {
            y[e] = (float) (sum / (g.include_pad ? (double) (g.kh * g.kw) : (double) count));
        }
    }
}

// dx: [n, h, w, c]; x: [n, h, w, c]; dy: [n, oh, ow, c].
extern "C" __global__ void pool_backward_f32(float* dx, const float* x, const float* dy, VxPool g) {
    long long total = (long long) g.n * g.h * g.w * g.c;
    VX_FOR_EACH(e, total) {
        int ch = (int) (e % g.c);
        long long pixel = e / g.c;
        int ix = (int) (pixel % g.w);
        int iy = (int) ((pixel / g.w) % g.h);
        int b = (int) (pixel / ((long long) g.w * g.h));
        // Outputs whose window covers (iy, ix): oy*sh - pt <= iy <= oy*sh - pt + kh - 1.
        int oy0 = iy + g.pt - g.kh + 1;
        oy0 = oy0 <= 0 ? 0 : (oy0 + g.sh - 1) / g.sh;
        int oy1 = vx_min_int((iy + g.pt) / g.sh, g.oh - 1);
        int ox0 = ix + g.pl - g.kw + 1;
        ox0 = ox0 <= 0 ? 0 : (ox0 + g.sw - 1) / g.sw;
        int ox1 = vx_min_int((ix + g.pl) / g.sw, g.ow - 1);
        float grad = 0.0f;
        for (int oy = oy0; oy <= oy1; ++oy) {
            for (int ox = ox0; ox <= ox1; ++ox) {
                float upstream = dy[(((long long) b * g.oh + oy) * g.ow + ox) * g.c + ch];
                int argY = -1, argX = -1, count = 0;
                float best = 0.0f;
                for (int ky = 0; ky < g.kh; ++ky) {
                    int ty = oy * g.sh - g.pt + ky;
                    for (int kx = 0; kx < g.kw; ++kx) {
                        int tx = ox * g.sw - g.pl + kx;
                        if (ty < 0 || ty >= g.h || tx < 0 || tx >= g.w) continue;
                        ++count;
                        if (g.is_max) {
                            float v = x[(((long long) b * g.h + ty) * g.w + tx) * g.c + ch];
                            if (argY < 0 || v > best) {
                                best = v;
                                argY = ty;
                                argX = tx;
                            }
                        }
                    }
                }
                if (g.is_max) {
                    if (argY == iy && argX == ix) grad += upstream;
                } else {
                    grad += (float) (upstream / (g.include_pad ? (double) (g.kh * g.kw) : (double) count));
                }
            }
        }
        dx[e] = grad;
    }
}
