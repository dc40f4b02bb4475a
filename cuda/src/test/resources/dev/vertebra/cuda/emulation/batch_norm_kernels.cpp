// norm.cu's batch-norm kernels on the host (emulated_cuda.h) against plain double loops: the per-channel sums and
// squared deviations, the normalisation with its fused SiLU, and the backward sums (with and without the SiLU's
// derivative) and data gradient, over row counts that do and do not fill the four-row loads, channel counts around
// the 32-channel blocks and 1-D grids whose stride is not a multiple of the channels. Exit status 1 on a mismatch.
#include "emulated_cuda.h"
#include "norm.cu"

#include <random>
#include <string>
#include <tuple>
#include <vector>

int main() {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> uniform(-2, 3);
    bool ok = true;
    // rows, channels, row slices of the sums' grid, blocks of the 1-D passes
    for (auto [rows, c, slices, blocks] : std::vector<std::tuple<int, int, unsigned, unsigned>>{
             {1000, 40, 5, 7}, {37, 33, 2, 3}, {2049, 16, 9, 5}, {300, 96, 1, 11}}) {
        size_t total = (size_t) rows * c;
        std::vector<float> x(total), dy(total), weight(c), bias(c);
        for (auto* v : {&x, &dy, &bias}) for (float& e : *v) e = uniform(rng);
        for (float& e : weight) e = 0.5f + 0.5f * uniform(rng);
        std::vector<double> sum0(c), mean(c), squares0(c);
        for (size_t r = 0; r < (size_t) rows; ++r) for (int ch = 0; ch < c; ++ch) sum0[ch] += x[r * c + ch];
        for (int ch = 0; ch < c; ++ch) mean[ch] = sum0[ch] / rows;
        for (size_t r = 0; r < (size_t) rows; ++r) for (int ch = 0; ch < c; ++ch) {
            double d = x[r * c + ch] - mean[ch];
            squares0[ch] += d * d;
        }
        std::string at = " (" + std::to_string(rows) + " rows, " + std::to_string(c) + " channels)";
        dim3 sumsGrid{(unsigned) (c + 31) / 32, slices, 1};
        std::vector<double> sum(c, 0.0), squares(c, 0.0);
        launch(sumsGrid, {32, 8, 1}, [&] { channel_sums_f32(sum.data(), x.data(), nullptr, rows, c, 0); });
        launch(sumsGrid, {32, 8, 1}, [&] { channel_sums_f32(squares.data(), x.data(), mean.data(), rows, c, 1); });
        ok &= vx_expect_close(("sums" + at).c_str(), sum.data(), sum0.data(), c, 1e-12);
        ok &= vx_expect_close(("squared deviations" + at).c_str(), squares.data(), squares0.data(), c, 1e-12);

        std::vector<double> invStd(c);
        for (int ch = 0; ch < c; ++ch) invStd[ch] = 1.0 / std::sqrt(squares0[ch] / rows + 1e-5);
        std::vector<float> y(total);
        launch({blocks, 1, 1}, {256, 1, 1}, [&] {
            batch_norm_apply_f32(y.data(), x.data(), mean.data(), invStd.data(), weight.data(), bias.data(),
                                 (long long) total, c, 1);
        });
        std::vector<double> y0(total);
        for (size_t i = 0; i < total; ++i) {
            int ch = (int) (i % c);
            double v = (x[i] - mean[ch]) * invStd[ch] * weight[ch] + bias[ch];
            y0[i] = v / (1 + std::exp(-v));
        }
        ok &= vx_expect_close(("normalise + SiLU" + at).c_str(), y.data(), y0.data(), total, 1e-6);

        std::vector<float> meanF(c), invStdF(c);
        for (int ch = 0; ch < c; ++ch) {
            meanF[ch] = (float) mean[ch];
            invStdF[ch] = (float) invStd[ch];
        }
        for (int silu = 0; silu <= 1; ++silu) {
            std::vector<double> sumDy(c, 0.0), sumDyXhat(c, 0.0), sumDy0(c), sumDyXhat0(c);
            launch(sumsGrid, {32, 8, 1}, [&] {
                batch_norm_backward_sums_f32(sumDy.data(), sumDyXhat.data(), dy.data(), x.data(), meanF.data(),
                                             invStdF.data(), weight.data(), bias.data(), rows, c, silu);
            });
            for (size_t r = 0; r < (size_t) rows; ++r) for (int ch = 0; ch < c; ++ch) {
                size_t i = r * c + ch;
                double g = dy[i];
                if (silu) {
                    double v = (x[i] - (double) meanF[ch]) * invStdF[ch] * weight[ch] + bias[ch];
                    double s = 1 / (1 + std::exp(-v));
                    g *= s * (1 + v * (1 - s));
                }
                sumDy0[ch] += g;
                sumDyXhat0[ch] += g * (x[i] - (double) meanF[ch]) * invStdF[ch];
            }
            std::string kind = silu ? ", through the SiLU" : "";
            ok &= vx_expect_close(("backward sum of dy" + kind + at).c_str(), sumDy.data(), sumDy0.data(), c, 1e-6);
            ok &= vx_expect_close(("backward sum of dy * xhat" + kind + at).c_str(), sumDyXhat.data(),
                                  sumDyXhat0.data(), c, 1e-6);
        }
        std::vector<double> sumDy0(c), sumDyXhat0(c);
        for (size_t r = 0; r < (size_t) rows; ++r) for (int ch = 0; ch < c; ++ch) {
            size_t i = r * c + ch;
            sumDy0[ch] += dy[i];
            sumDyXhat0[ch] += dy[i] * (x[i] - (double) meanF[ch]) * invStdF[ch];
        }
        std::vector<float> dx(total);
        launch({blocks, 1, 1}, {256, 1, 1}, [&] {
            batch_norm_backward_apply_f32(dx.data(), dy.data(), x.data(), weight.data(), bias.data(), meanF.data(),
                                          invStdF.data(), sumDy0.data(), sumDyXhat0.data(), (long long) total, c,
                                          rows, 0);
        });
        std::vector<double> dx0(total);
        for (size_t i = 0; i < total; ++i) {
            int ch = (int) (i % c);
            double xhat = (x[i] - (double) meanF[ch]) * invStdF[ch];
            dx0[i] = weight[ch] * (double) invStdF[ch] * (dy[i] - sumDy0[ch] / rows - xhat * sumDyXhat0[ch] / rows);
        }
        ok &= vx_expect_close(("data gradient" + at).c_str(), dx.data(), dx0.data(), total, 1e-6);
    }
    return ok ? 0 : 1;
}
