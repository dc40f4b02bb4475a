// conv.cu's depthwise kernels on the host (emulated_cuda.h) against plain double loops: forward, data gradient and
// weight gradient for the register-tiled 3x3 and 5x5 kernels and the general ones, over channel counts around the
// 32-channel blocks, strides 1 to 3, asymmetric padding, dilation and channel multipliers, on float and on bfloat16
// data, and the kernels that compute runs of outputs per thread. Grids are kept small so that the kernels' loops over
// rows run more than once. Exit status 1 on any mismatch.
#include "emulated_cuda.h"
#include "conv.cu"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

struct Case {
    const char* name;
    int n, h, w, cin, kh, kw, mult, sh, sw, pt, pb, pl, pr, dh, dw;
};

int main() {
    const Case cases[] = {
        {"3x3 s1 pad 1, 40 channels", 2, 9, 11, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {"3x3 s2 SAME, 36 channels", 2, 10, 9, 36, 3, 3, 1, 2, 2, 0, 1, 0, 1, 1, 1},
        {"5x5 s1 pad 2, 33 channels", 1, 8, 7, 33, 5, 5, 1, 1, 1, 2, 2, 2, 2, 1, 1},
        {"5x5 s2 SAME, 64 channels", 2, 11, 10, 64, 5, 5, 1, 2, 2, 1, 2, 1, 2, 1, 1},
        {"3x3 dilation 2, multiplier 2", 1, 8, 9, 20, 3, 3, 2, 1, 1, 2, 2, 2, 2, 2, 2},
        {"5x5 s2, multiplier 3", 1, 9, 8, 11, 5, 5, 3, 2, 2, 2, 2, 2, 2, 1, 1},
        {"7x7 pad 3", 1, 10, 9, 8, 7, 7, 1, 1, 1, 3, 3, 3, 3, 1, 1},
        {"3x3 stride 3", 1, 16, 14, 24, 3, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1},
        {"3x5 pad (1, 1, 2, 2)", 1, 10, 9, 36, 3, 5, 1, 1, 1, 1, 1, 2, 2, 1, 1},
    };
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uniform(-1, 1);
    bool ok = true;
    for (const Case& c : cases) {
        int cout = c.cin * c.mult;
        int oh = (c.h + c.pt + c.pb - c.dh * (c.kh - 1) - 1) / c.sh + 1;
        int ow = (c.w + c.pl + c.pr - c.dw * (c.kw - 1) - 1) / c.sw + 1;
        VxConv g{c.n, c.h, c.w, c.cin, c.kh, c.kw, 1, cout, oh, ow, c.sh, c.sw, c.pt, c.pl, c.dh, c.dw};
        // x [n, h, w, cin], w [kh, kw, 1, cout], dy [n, oh, ow, cout]
        std::vector<float> x((size_t) c.n * c.h * c.w * c.cin), w((size_t) c.kh * c.kw * cout);
        std::vector<float> dy((size_t) c.n * oh * ow * cout);
        for (auto* v : {&x, &w, &dy}) for (float& e : *v) e = uniform(rng);
        // The three results by plain loops in double, over the given values.
        auto reference = [&](const std::vector<float>& xv, const std::vector<float>& wv, const std::vector<float>& dyv,
                             std::vector<double>& y0, std::vector<double>& dx0, std::vector<double>& dw0) {
            y0.assign(dyv.size(), 0.0);
            dx0.assign(xv.size(), 0.0);
            dw0.assign(wv.size(), 0.0);
            for (int b = 0; b < c.n; ++b) for (int oy = 0; oy < oh; ++oy) for (int ox = 0; ox < ow; ++ox)
            for (int co = 0; co < cout; ++co) for (int ky = 0; ky < c.kh; ++ky) for (int kx = 0; kx < c.kw; ++kx) {
                int iy = oy * c.sh - c.pt + ky * c.dh, ix = ox * c.sw - c.pl + kx * c.dw;
                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
                size_t xi = ((size_t) (b * c.h + iy) * c.w + ix) * c.cin + co / c.mult;
                size_t yi = ((size_t) (b * oh + oy) * ow + ox) * cout + co;
                size_t wi = (size_t) (ky * c.kw + kx) * cout + co;
                y0[yi] += (double) xv[xi] * wv[wi];
                dx0[xi] += (double) dyv[yi] * wv[wi];
                dw0[wi] += (double) xv[xi] * dyv[yi];
            }
        };
        std::vector<double> y0, dx0, dw0;
        reference(x, w, dy, y0, dx0, dw0);
        // The kernel choice and grids of ConvolutionOps, with at most 5 row blocks.
        bool square = c.kh == c.kw && (c.kh == 3 || c.kh == 5);
        unsigned outBlocks = (cout + 31) / 32, inBlocks = (c.cin + 31) / 32;
        std::vector<float> y(dy.size()), dx(x.size()), dwt(w.size(), 0.0f);
        auto forward = !square ? depthwise_forward_f32 : c.kh == 3 ? depthwise_forward_k3_f32 : depthwise_forward_k5_f32;
        launch({outBlocks, (unsigned) std::min(c.n * oh, 5), 1}, {32, 8, 1},
               [&] { forward(y.data(), x.data(), w.data(), g); });
        auto data = !square || c.mult != 1 ? depthwise_backward_input_f32
                : c.kh == 3 ? depthwise_backward_input_k3_f32 : depthwise_backward_input_k5_f32;
        launch({inBlocks, (unsigned) std::min(c.n * c.h, 5), 1}, {32, 8, 1},
               [&] { data(dx.data(), dy.data(), w.data(), g); });
        if (square) {
            auto weight = c.kh == 3 ? depthwise_backward_weight_k3_f32 : depthwise_backward_weight_k5_f32;
            launch({outBlocks, 3, 1}, {32, 8, 1}, [&] { weight(dwt.data(), x.data(), dy.data(), g); });
        } else {
            launch({outBlocks, (unsigned) (c.kh * c.kw), 2}, {32, 8, 1},
                   [&] { depthwise_backward_weight_f32(dwt.data(), x.data(), dy.data(), g); });
        }
        std::string name = c.name;
        ok &= vx_expect_close(("forward, " + name).c_str(), y.data(), y0.data(), y.size(), 1e-6);
        ok &= vx_expect_close(("data gradient, " + name).c_str(), dx.data(), dx0.data(), dx.size(), 1e-6);
        ok &= vx_expect_close(("weight gradient, " + name).c_str(), dwt.data(), dw0.data(), dwt.size(), 1e-6);

        // The run kernels where ConvolutionOps would take them: 3×3 or 5×5, the same stride 1 or 2 both ways, no
        // dilation or multiplier; the flipped one for the stride-1 data gradient. Few row blocks, so rows repeat.
        bool runs = square && c.mult == 1 && c.dh == 1 && c.dw == 1 && c.sh == c.sw && (c.sh == 1 || c.sh == 2);
        if (runs) {
            VxRunGeometry fwd{c.n, c.h, c.w, c.cin, oh, ow, c.pt, c.pl};
            std::fill(y.begin(), y.end(), NAN);
            auto run = c.kh == 3 ? (c.sh == 1 ? depthwise_run_k3_s1_f32 : depthwise_run_k3_s2_f32)
                                 : (c.sh == 1 ? depthwise_run_k5_s1_f32 : depthwise_run_k5_s2_f32);
            launch({outBlocks, (unsigned) std::min(c.n * oh, 3), 1}, {32, 8, 1},
                   [&] { run(y.data(), x.data(), w.data(), fwd); });
            ok &= vx_expect_close(("forward in runs, " + name).c_str(), y.data(), y0.data(), y.size(), 1e-6);
            if (c.sh == 1) {
                VxRunGeometry back{c.n, oh, ow, c.cin, c.h, c.w, c.kh - 1 - c.pt, c.kw - 1 - c.pl};
                std::fill(dx.begin(), dx.end(), NAN);
                auto flip = c.kh == 3 ? depthwise_run_flip_k3_f32 : depthwise_run_flip_k5_f32;
                launch({inBlocks, (unsigned) std::min(c.n * c.h, 3), 1}, {32, 8, 1},
                       [&] { flip(dx.data(), dy.data(), w.data(), back); });
                ok &= vx_expect_close(("data gradient in runs, " + name).c_str(), dx.data(), dx0.data(), dx.size(),
                                      1e-6);
            }
        }

        // The same kernels on bfloat16 data (float sums, outputs rounded), against the loops over the rounded values.
        auto toBf16 = [](const std::vector<float>& v, std::vector<VxBf16>& bits, std::vector<float>& rounded) {
            bits.resize(v.size());
            rounded.resize(v.size());
            for (size_t i = 0; i < v.size(); ++i) {
                bits[i] = vx_from_float<VxBf16>(v[i]);
                rounded[i] = vx_to_float(bits[i]);
            }
        };
        std::vector<VxBf16> xb, wb, dyb, yb(y.size()), dxb(dx.size());
        std::vector<float> xr, wr, dyr;
        toBf16(x, xb, xr);
        toBf16(w, wb, wr);
        toBf16(dy, dyb, dyr);
        reference(xr, wr, dyr, y0, dx0, dw0);
        std::fill(dwt.begin(), dwt.end(), 0.0f);
        auto forwardB = !square ? depthwise_forward_bf16 : c.kh == 3 ? depthwise_forward_k3_bf16
                                                                     : depthwise_forward_k5_bf16;
        launch({outBlocks, (unsigned) std::min(c.n * oh, 5), 1}, {32, 8, 1},
               [&] { forwardB(yb.data(), xb.data(), wb.data(), g); });
        auto dataB = !square || c.mult != 1 ? depthwise_backward_input_bf16
                : c.kh == 3 ? depthwise_backward_input_k3_bf16 : depthwise_backward_input_k5_bf16;
        launch({inBlocks, (unsigned) std::min(c.n * c.h, 5), 1}, {32, 8, 1},
               [&] { dataB(dxb.data(), dyb.data(), wb.data(), g); });
        if (square) {
            auto weightB = c.kh == 3 ? depthwise_backward_weight_k3_bf16 : depthwise_backward_weight_k5_bf16;
            launch({outBlocks, 3, 1}, {32, 8, 1}, [&] { weightB(dwt.data(), xb.data(), dyb.data(), g); });
        } else {
            launch({outBlocks, (unsigned) (c.kh * c.kw), 2}, {32, 8, 1},
                   [&] { depthwise_backward_weight_bf16(dwt.data(), xb.data(), dyb.data(), g); });
        }
        for (size_t i = 0; i < y.size(); ++i) y[i] = vx_to_float(yb[i]);
        for (size_t i = 0; i < dx.size(); ++i) dx[i] = vx_to_float(dxb[i]);
        ok &= vx_expect_close(("bfloat16 forward, " + name).c_str(), y.data(), y0.data(), y.size(), 8e-3);
        ok &= vx_expect_close(("bfloat16 data gradient, " + name).c_str(), dx.data(), dx0.data(), dx.size(), 8e-3);
        ok &= vx_expect_close(("bfloat16 weight gradient, " + name).c_str(), dwt.data(), dw0.data(), dwt.size(),
                              1e-6);
        if (runs) {
            VxRunGeometry fwd{c.n, c.h, c.w, c.cin, oh, ow, c.pt, c.pl};
            auto run = c.kh == 3 ? (c.sh == 1 ? depthwise_run_k3_s1_bf16 : depthwise_run_k3_s2_bf16)
                                 : (c.sh == 1 ? depthwise_run_k5_s1_bf16 : depthwise_run_k5_s2_bf16);
            launch({outBlocks, (unsigned) std::min(c.n * oh, 3), 1}, {32, 8, 1},
                   [&] { run(yb.data(), xb.data(), wb.data(), fwd); });
            for (size_t i = 0; i < y.size(); ++i) y[i] = vx_to_float(yb[i]);
            ok &= vx_expect_close(("bfloat16 forward in runs, " + name).c_str(), y.data(), y0.data(), y.size(), 8e-3);
        }
    }
    return ok ? 0 : 1;
}
