// norm.cu's one-pass column kernels on the host (emulated_cuda.h) against plain double loops: column sums and sums
// of products over [outer, rows, c], batch norm's moments and normalisation (with the fused SiLU), its gradient
// sums and data gradient, on float32 and on 16-bit data; one and four values per load, grids laid out as
// ColumnSums.Grid lays them out, with fewer slices (once more than the finishing kernels' 32 lanes) and 1-D blocks,
// so that the loops repeat. Exit status 1 on a mismatch.
#include "emulated_cuda.h"
#include "norm.cu"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

// ColumnSums.Grid.of, with the slices given.
struct Grid {
    int vector, cols, threads, chunks;
};

static Grid grid(int c, int vector) {
    int vc = c / vector;
    int chunks = (vc + 255) / 256;
    int cols = (vc + chunks - 1) / chunks;
    return {vector, cols, cols * (256 / cols), chunks};
}

// Batch norm on 16-bit activations T (float32 statistics and parameters): the kernels of type T against double
// loops over the same rounded inputs; outputs compared within T's rounding.
template <typename T>
bool check16(const char* type, double tolerance, int rows, int c, unsigned slices, unsigned blocks, int vector,
             std::mt19937& rng) {
    std::uniform_real_distribution<float> uniform(-2, 3);
    auto round = [](float f) {
        T t = vx_from_float<T>(f);
        return std::pair<T, float>{t, vx_to_float(t)};
    };
    size_t total = (size_t) rows * c;
    std::vector<T> x(total), dy(total), y(total), dx(total);
    std::vector<double> xd(total), dyd(total);
    std::vector<float> weight(c), bias(c);
    for (size_t i = 0; i < total; ++i) {
        std::tie(x[i], xd[i]) = round(uniform(rng) + 4.0f);
        std::tie(dy[i], dyd[i]) = round(uniform(rng));
    }
    for (int ch = 0; ch < c; ++ch) {
        weight[ch] = 0.5f + 0.5f * uniform(rng);
        bias[ch] = uniform(rng);
    }
    Grid g = grid(c, vector);
    std::string at = std::string(" (") + type + ", " + std::to_string(rows) + " rows, " + std::to_string(c) +
                     " channels, " + std::to_string(vector) + " per load)";
    dim3 sumsGrid{(unsigned) g.chunks, slices, 1}, sumsBlock{(unsigned) g.threads, 1, 1};
    dim3 finishGrid{(unsigned) (c + 31) / 32, 1, 1}, finishBlock{32, 32, 1};
    std::vector<double> partial((size_t) slices * 2 * c, -1e300), mean(c), var(c), invStd(c);
    for (size_t i = 0; i < total; ++i) mean[i % c] += xd[i] / rows;
    for (size_t i = 0; i < total; ++i) var[i % c] += (xd[i] - mean[i % c]) * (xd[i] - mean[i % c]) / rows;
    for (int ch = 0; ch < c; ++ch) invStd[ch] = 1.0 / std::sqrt(var[ch] + 1e-5);
    launch(sumsGrid, sumsBlock, [&] {
        if (vector == 4) vx_column_partials<4, 2>(partial.data(), VxMomentsTerm<4, T>{x.data()}, rows, c, g.cols);
        else vx_column_partials<1, 2>(partial.data(), VxMomentsTerm<1, T>{x.data()}, rows, c, g.cols);
    });
    std::vector<float> meanF(c), varF(c), invStdF(c);
    std::vector<double> meanD(c), invStdD(c);
    launch(finishGrid, finishBlock, [&] {
        vx_moments_finish(meanF.data(), varF.data(), invStdF.data(), meanD.data(), invStdD.data(), partial.data(),
                          x.data(), (int) slices, rows, c, 1e-5);
    });
    bool ok = vx_expect_close(("mean" + at).c_str(), meanD.data(), mean.data(), c, 1e-12);
    ok &= vx_expect_close(("variance" + at).c_str(), varF.data(), var.data(), c, 1e-6);
    long long vectors = (long long) total / vector;
    launch({blocks, 1, 1}, {256, 1, 1}, [&] {
        if constexpr (std::is_same_v<T, VxBf16>) {
            if (vector == 4) batch_norm_apply_bf16_v4(y.data(), x.data(), meanD.data(), invStdD.data(),
                                                      weight.data(), bias.data(), vectors, c / 4, 1);
            else batch_norm_apply_bf16_v1(y.data(), x.data(), meanD.data(), invStdD.data(), weight.data(),
                                          bias.data(), vectors, c, 1);
        } else {
            if (vector == 4) batch_norm_apply_f16_v4(y.data(), x.data(), meanD.data(), invStdD.data(),
                                                     weight.data(), bias.data(), vectors, c / 4, 1);
            else batch_norm_apply_f16_v1(y.data(), x.data(), meanD.data(), invStdD.data(), weight.data(),
                                         bias.data(), vectors, c, 1);
        }
    });
    std::vector<double> y0(total), yGot(total);
    for (size_t i = 0; i < total; ++i) {
        int ch = (int) (i % c);
        double v = (xd[i] - mean[ch]) * invStd[ch] * weight[ch] + bias[ch];
        y0[i] = v / (1 + std::exp(-v));
        yGot[i] = vx_to_float(y[i]);
    }
    ok &= vx_expect_close(("normalise + SiLU" + at).c_str(), yGot.data(), y0.data(), total, tolerance);

    std::vector<double> g0(total), sumG(c), sumGx(c);
    for (size_t i = 0; i < total; ++i) {
        int ch = (int) (i % c);
        double v = (xd[i] - (double) meanF[ch]) * invStdF[ch] * weight[ch] + bias[ch];
        double sg = 1 / (1 + std::exp(-v));
        g0[i] = dyd[i] * sg * (1 + v * (1 - sg));
        sumG[ch] += g0[i];
        sumGx[ch] += g0[i] * (xd[i] - (double) meanF[ch]) * invStdF[ch];
    }
    launch(sumsGrid, sumsBlock, [&] {
        if (vector == 4) {
            VxBnGradTerm<4, T, false> term{dy.data(), x.data(), meanF.data(), invStdF.data(), weight.data(),
                                           bias.data(), 1};
            vx_column_partials<4, 2>(partial.data(), term, rows, c, g.cols);
        } else {
            VxBnGradTerm<1, T, false> term{dy.data(), x.data(), meanF.data(), invStdF.data(), weight.data(),
                                           bias.data(), 1};
            vx_column_partials<1, 2>(partial.data(), term, rows, c, g.cols);
        }
    });
    std::vector<float> dWeight(c), dBias(c);
    std::vector<double> meanG(c), meanGx(c);
    launch(finishGrid, finishBlock, [&] {
        batch_norm_grad_finish_f32(dWeight.data(), dBias.data(), meanG.data(), meanGx.data(), partial.data(),
                                   (int) slices, rows, c);
    });
    ok &= vx_expect_close(("bias gradient" + at).c_str(), dBias.data(), sumG.data(), c, 1e-5);
    ok &= vx_expect_close(("weight gradient" + at).c_str(), dWeight.data(), sumGx.data(), c, 1e-5);
    launch({blocks, 1, 1}, {256, 1, 1}, [&] {
        if constexpr (std::is_same_v<T, VxBf16>) {
            if (vector == 4) batch_norm_grad_apply_bf16_v4(dx.data(), dy.data(), x.data(), weight.data(), bias.data(),
                                                           meanF.data(), invStdF.data(), meanG.data(), meanGx.data(),
                                                           vectors, c / 4, 1);
            else batch_norm_grad_apply_bf16_v1(dx.data(), dy.data(), x.data(), weight.data(), bias.data(),
                                               meanF.data(), invStdF.data(), meanG.data(), meanGx.data(), vectors, c,
                                               1);
        } else {
            if (vector == 4) batch_norm_grad_apply_f16_v4(dx.data(), dy.data(), x.data(), weight.data(), bias.data(),
                                                          meanF.data(), invStdF.data(), meanG.data(), meanGx.data(),
                                                          vectors, c / 4, 1);
            else batch_norm_grad_apply_f16_v1(dx.data(), dy.data(), x.data(), weight.data(), bias.data(),
                                              meanF.data(), invStdF.data(), meanG.data(), meanGx.data(), vectors, c, 1);
        }
    });
    std::vector<double> dx0(total), dxGot(total);
    for (size_t i = 0; i < total; ++i) {
        int ch = (int) (i % c);
        double xhat = (xd[i] - (double) meanF[ch]) * invStdF[ch];
        dx0[i] = weight[ch] * (double) invStdF[ch] * (g0[i] - sumG[ch] / rows - xhat * sumGx[ch] / rows);
        dxGot[i] = vx_to_float(dx[i]);
    }
    ok &= vx_expect_close(("data gradient" + at).c_str(), dxGot.data(), dx0.data(), total, tolerance);

    // The fast kernels on T: the affine map from the finishing kernel, then the fast apply, sums and data gradient.
    std::vector<float> scale(c), shift(c), coef(3 * (size_t) c), mean2(c), var2(c), invStd2(c);
    std::vector<double> mean2D(c), invStd2D(c);
    launch(sumsGrid, sumsBlock, [&] {
        if (vector == 4) vx_column_partials<4, 2>(partial.data(), VxMomentsTerm<4, T>{x.data()}, rows, c, g.cols);
        else vx_column_partials<1, 2>(partial.data(), VxMomentsTerm<1, T>{x.data()}, rows, c, g.cols);
    });
    launch(finishGrid, finishBlock, [&] {
        vx_moments_finish(mean2.data(), var2.data(), invStd2.data(), mean2D.data(), invStd2D.data(), partial.data(),
                          x.data(), (int) slices, rows, c, 1e-5, weight.data(), bias.data(), scale.data(),
                          shift.data());
    });
    launch(sumsGrid, sumsBlock, [&] {
        if (vector == 4) {
            VxBnGradTerm<4, T, true> term{dy.data(), x.data(), meanF.data(), invStdF.data(), weight.data(),
                                          bias.data(), 1};
            vx_column_partials<4, 2>(partial.data(), term, rows, c, g.cols);
        } else {
            VxBnGradTerm<1, T, true> term{dy.data(), x.data(), meanF.data(), invStdF.data(), weight.data(),
                                          bias.data(), 1};
            vx_column_partials<1, 2>(partial.data(), term, rows, c, g.cols);
        }
    });
    launch(finishGrid, finishBlock, [&] {
        batch_norm_grad_finish_fast_f32(dWeight.data(), dBias.data(), coef.data(), partial.data(), (int) slices, rows,
                                        c, weight.data(), invStdF.data());
    });
    ok &= vx_expect_close(("fast bias gradient" + at).c_str(), dBias.data(), sumG.data(), c, 1e-5);
    ok &= vx_expect_close(("fast weight gradient" + at).c_str(), dWeight.data(), sumGx.data(), c, 1e-5);
    int cv = c / vector;
    launch({blocks, 1, 1}, {256, 1, 1}, [&] {
        if constexpr (std::is_same_v<T, VxBf16>) {
            if (vector == 4) {
                batch_norm_apply_fast_bf16_v4(y.data(), x.data(), scale.data(), shift.data(), vectors, cv, 1);
                batch_norm_grad_apply_fast_bf16_v4(dx.data(), dy.data(), x.data(), weight.data(), bias.data(),
                                                   meanF.data(), invStdF.data(), coef.data(), vectors, cv, 1);
            } else {
                batch_norm_apply_fast_bf16_v1(y.data(), x.data(), scale.data(), shift.data(), vectors, cv, 1);
                batch_norm_grad_apply_fast_bf16_v1(dx.data(), dy.data(), x.data(), weight.data(), bias.data(),
                                                   meanF.data(), invStdF.data(), coef.data(), vectors, cv, 1);
            }
        } else {
            if (vector == 4) {
                batch_norm_apply_fast_f16_v4(y.data(), x.data(), scale.data(), shift.data(), vectors, cv, 1);
                batch_norm_grad_apply_fast_f16_v4(dx.data(), dy.data(), x.data(), weight.data(), bias.data(),
                                                  meanF.data(), invStdF.data(), coef.data(), vectors, cv, 1);
            } else {
                batch_norm_apply_fast_f16_v1(y.data(), x.data(), scale.data(), shift.data(), vectors, cv, 1);
                batch_norm_grad_apply_fast_f16_v1(dx.data(), dy.data(), x.data(), weight.data(), bias.data(),
                                                  meanF.data(), invStdF.data(), coef.data(), vectors, cv, 1);
            }
        }
    });
    for (size_t i = 0; i < total; ++i) {
        yGot[i] = vx_to_float(y[i]);
        dxGot[i] = vx_to_float(dx[i]);
    }
    ok &= vx_expect_close(("fast normalise + SiLU" + at).c_str(), yGot.data(), y0.data(), total, tolerance);
    ok &= vx_expect_close(("fast data gradient" + at).c_str(), dxGot.data(), dx0.data(), total, tolerance);

    // Column sums of x and of x·dy (each product rounded to T first).
    std::vector<double> sum0(c), mulSum0(c);
    for (size_t i = 0; i < total; ++i) {
        sum0[i % c] += xd[i];
        mulSum0[i % c] += vx_to_float(vx_from_float<T>((float) xd[i] * (float) dyd[i]));
    }
    std::vector<float> out(c);
    for (int product = 0; product <= 1; ++product) {
        launch(sumsGrid, sumsBlock, [&] {
            if (vector == 4) {
                if (product) vx_column_partials<4, 1>(partial.data(), VxMulSumTerm<4, T>{x.data(), dy.data()}, rows, c,
                                                      g.cols);
                else vx_column_partials<4, 1>(partial.data(), VxSumTerm<4, T>{x.data()}, rows, c, g.cols);
            } else {
                if (product) vx_column_partials<1, 1>(partial.data(), VxMulSumTerm<1, T>{x.data(), dy.data()}, rows, c,
                                                      g.cols);
                else vx_column_partials<1, 1>(partial.data(), VxSumTerm<1, T>{x.data()}, rows, c, g.cols);
            }
        });
        launch(finishGrid, finishBlock, [&] { column_sums_finish_f32(out.data(), partial.data(), (int) slices, c); });
        ok &= vx_expect_close(((product ? "sums of products" : "column sums") + at).c_str(), out.data(),
                              (product ? mulSum0 : sum0).data(), c, 1e-6);
    }
    return ok;
}

// vx_sigmoid_pair against two vx_sigmoid calls, bit for bit (a NaN's sign aside), over random values of every
// magnitude and the special ones: the fused SiLU gradient keeps the unfused kernels' rounding.
static bool sigmoidPairMatchesTwoSigmoids(std::mt19937& rng) {
    std::uniform_real_distribution<float> exponent(-30, 30), sign(-1, 1);
    std::vector<float> xs = {0.0f, -0.0f, 1e-30f, -1e-30f, 88.0f, -88.0f, 104.0f, -104.0f, INFINITY, -INFINITY, NAN};
    for (int i = 0; i < 200000; ++i) xs.push_back((sign(rng) < 0 ? -1.0f : 1.0f) * std::exp2(exponent(rng)));
    int mismatches = 0;
    for (float x : xs) {
        float pos, neg;
        vx_sigmoid_pair(x, pos, neg);
        float a = vx_sigmoid(x), b = vx_sigmoid(-x);
        auto same = [](float u, float v) { return (u != u && v != v) || std::memcmp(&u, &v, 4) == 0; };
        if (!same(pos, a) || !same(neg, b)) ++mismatches;
    }
    std::printf("%-72s %d mismatches in %zu values: %s\n", "sigmoid pair = two sigmoids, bit for bit", mismatches,
                xs.size(), mismatches == 0 ? "ok" : "FAILED");
    return mismatches == 0;
}

int main() {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> uniform(-2, 3);
    bool ok = sigmoidPairMatchesTwoSigmoids(rng);
    // outer, rows, channels, slices, blocks of the 1-D passes
    for (auto [outer, rows, c, slices, blocks] : std::vector<std::tuple<int, int, int, unsigned, unsigned>>{
             {1, 1000, 40, 5, 7}, {3, 37, 36, 2, 3}, {2, 2049, 16, 9, 5}, {1, 300, 96, 1, 11},
             {1, 19, 1160, 3, 4}, {2, 50, 7, 4, 3}, {1, 700, 12, 70, 3}}) {
        size_t total = (size_t) outer * rows * c;
        std::vector<float> x(total), y(total), dy(total), weight(c), bias(c);
        for (auto* v : {&x, &y, &dy, &bias}) for (float& e : *v) e = uniform(rng);
        // An offset, so that the moments have a mean to cancel.
        for (float& e : x) e += 40.0f;
        for (float& e : weight) e = 0.5f + 0.5f * uniform(rng);
        for (int vector : {1, 4}) {
            if (c % vector != 0) continue;
            Grid g = grid(c, vector);
            std::string at = " (" + std::to_string(outer) + " x " + std::to_string(rows) + " rows, " +
                             std::to_string(c) + " channels, " + std::to_string(vector) + " per load)";
            dim3 sumsGrid{(unsigned) g.chunks, slices, (unsigned) outer};
            dim3 sumsBlock{(unsigned) g.threads, 1, 1};
            dim3 finishGrid{(unsigned) (c + 31) / 32, (unsigned) outer, 1}, finishBlock{32, 32, 1};

            // Column sums and sums of products.
            std::vector<double> sum0((size_t) outer * c), mulSum0((size_t) outer * c);
            for (int o = 0; o < outer; ++o)
                for (size_t r = 0; r < (size_t) rows; ++r)
                    for (int ch = 0; ch < c; ++ch) {
                        size_t i = ((size_t) o * rows + r) * c + ch;
                        sum0[(size_t) o * c + ch] += x[i];
                        mulSum0[(size_t) o * c + ch] += (double) (x[i] * y[i]);
                    }
            std::vector<double> partial((size_t) outer * slices * 2 * c, -1e300);
            std::vector<float> out((size_t) outer * c);
            for (int product = 0; product <= 1; ++product) {
                launch(sumsGrid, sumsBlock, [&] {
                    if (vector == 4) {
                        if (product) column_mul_sums_f32_v4(partial.data(), x.data(), y.data(), rows, c, g.cols);
                        else column_sums_f32_v4(partial.data(), x.data(), rows, c, g.cols);
                    } else {
                        if (product) column_mul_sums_f32_v1(partial.data(), x.data(), y.data(), rows, c, g.cols);
                        else column_sums_f32_v1(partial.data(), x.data(), rows, c, g.cols);
                    }
                });
                launch(finishGrid, finishBlock, [&] {
                    column_sums_finish_f32(out.data(), partial.data(), (int) slices, c);
                });
                ok &= vx_expect_close(((product ? "sums of products" : "column sums") + at).c_str(), out.data(),
                                      (product ? mulSum0 : sum0).data(), out.size(), 1e-6);
            }
            if (outer != 1) continue;

            // Batch norm: moments, normalisation + SiLU.
            std::vector<double> mean(c), invStd(c), var0(c);
            for (int ch = 0; ch < c; ++ch) mean[ch] = sum0[ch] / rows;
            for (size_t r = 0; r < (size_t) rows; ++r)
                for (int ch = 0; ch < c; ++ch) {
                    double d = x[r * c + ch] - mean[ch];
                    var0[ch] += d * d / rows;
                }
            for (int ch = 0; ch < c; ++ch) invStd[ch] = 1.0 / std::sqrt(var0[ch] + 1e-5);
            launch(sumsGrid, sumsBlock, [&] {
                if (vector == 4) batch_norm_moments_f32_v4(partial.data(), x.data(), rows, c, g.cols);
                else batch_norm_moments_f32_v1(partial.data(), x.data(), rows, c, g.cols);
            });
            std::vector<float> meanF(c), varF(c), invStdF(c);
            std::vector<double> meanD(c), invStdD(c);
            launch({finishGrid.x, 1, 1}, finishBlock, [&] {
                batch_norm_moments_finish_f32(meanF.data(), varF.data(), invStdF.data(), meanD.data(), invStdD.data(),
                                              partial.data(), x.data(), (int) slices, rows, c, 1e-5);
            });
            ok &= vx_expect_close(("mean" + at).c_str(), meanD.data(), mean.data(), c, 1e-12);
            ok &= vx_expect_close(("variance" + at).c_str(), varF.data(), var0.data(), c, 1e-6);
            ok &= vx_expect_close(("1 / standard deviation" + at).c_str(), invStdD.data(), invStd.data(), c, 1e-9);
            std::vector<float> yOut(total);
            long long vectors = (long long) total / vector;
            for (int silu = 0; silu <= 1; ++silu) {
                launch({blocks, 1, 1}, {256, 1, 1}, [&] {
                    if (vector == 4)
                        batch_norm_apply_f32_v4(yOut.data(), x.data(), mean.data(), invStd.data(), weight.data(),
                                                bias.data(), vectors, c / 4, silu);
                    else
                        batch_norm_apply_f32_v1(yOut.data(), x.data(), mean.data(), invStd.data(), weight.data(),
                                                bias.data(), vectors, c, silu);
                });
                std::vector<double> y0(total);
                for (size_t i = 0; i < total; ++i) {
                    int ch = (int) (i % c);
                    double v = (x[i] - mean[ch]) * invStd[ch] * weight[ch] + bias[ch];
                    y0[i] = silu ? v / (1 + std::exp(-v)) : v;
                }
                ok &= vx_expect_close(((silu ? "normalise + SiLU" : "normalise") + at).c_str(), yOut.data(),
                                      y0.data(), total, 1e-6);
                // The fast kernels: the float affine map from the finishing kernel, then the fast SiLU.
                std::vector<float> scale(c), shift(c);
                launch({finishGrid.x, 1, 1}, finishBlock, [&] {
                    batch_norm_moments_finish_affine_f32(meanF.data(), varF.data(), invStdF.data(), meanD.data(),
                                                         invStdD.data(), partial.data(), x.data(), (int) slices, rows,
                                                         c, 1e-5, weight.data(), bias.data(), scale.data(),
                                                         shift.data());
                });
                launch({blocks, 1, 1}, {256, 1, 1}, [&] {
                    if (vector == 4)
                        batch_norm_apply_fast_f32_v4(yOut.data(), x.data(), scale.data(), shift.data(), vectors,
                                                     c / 4, silu);
                    else
                        batch_norm_apply_fast_f32_v1(yOut.data(), x.data(), scale.data(), shift.data(), vectors, c,
                                                     silu);
                });
                ok &= vx_expect_close(((silu ? "fast normalise + SiLU" : "fast normalise") + at).c_str(),
                                      yOut.data(), y0.data(), total, 1e-5);
            }

            // Batch norm backward: the two sums, then the data gradient (with and without the SiLU's derivative).
            for (int ch = 0; ch < c; ++ch) {
                meanF[ch] = (float) mean[ch];
                invStdF[ch] = (float) invStd[ch];
            }
            for (int silu = 0; silu <= 1; ++silu) {
                std::vector<double> g0(total), sumG(c), sumGx(c);
                for (size_t i = 0; i < total; ++i) {
                    int ch = (int) (i % c);
                    double g = dy[i];
                    if (silu) {
                        double v = (x[i] - (double) meanF[ch]) * invStdF[ch] * weight[ch] + bias[ch];
                        double s = 1 / (1 + std::exp(-v));
                        g *= s * (1 + v * (1 - s));
                    }
                    g0[i] = g;
                    sumG[ch] += g;
                    sumGx[ch] += g * (x[i] - (double) meanF[ch]) * invStdF[ch];
                }
                launch(sumsGrid, sumsBlock, [&] {
                    if (vector == 4)
                        batch_norm_grad_sums_f32_v4(partial.data(), dy.data(), x.data(), meanF.data(), invStdF.data(),
                                                    weight.data(), bias.data(), rows, c, g.cols, silu);
                    else
                        batch_norm_grad_sums_f32_v1(partial.data(), dy.data(), x.data(), meanF.data(), invStdF.data(),
                                                    weight.data(), bias.data(), rows, c, g.cols, silu);
                });
                std::vector<float> dWeight(c), dBias(c);
                std::vector<double> meanG(c), meanGx(c);
                launch({finishGrid.x, 1, 1}, finishBlock, [&] {
                    batch_norm_grad_finish_f32(dWeight.data(), dBias.data(), meanG.data(), meanGx.data(),
                                               partial.data(), (int) slices, rows, c);
                });
                std::string kind = silu ? ", through the SiLU" : "";
                ok &= vx_expect_close(("bias gradient" + kind + at).c_str(), dBias.data(), sumG.data(), c, 1e-6);
                ok &= vx_expect_close(("weight gradient" + kind + at).c_str(), dWeight.data(), sumGx.data(), c,
                                      1e-6);
                std::vector<float> dx(total);
                launch({blocks, 1, 1}, {256, 1, 1}, [&] {
                    if (vector == 4)
                        batch_norm_grad_apply_f32_v4(dx.data(), dy.data(), x.data(), weight.data(), bias.data(),
                                                     meanF.data(), invStdF.data(), meanG.data(), meanGx.data(),
                                                     vectors, c / 4, silu);
                    else
                        batch_norm_grad_apply_f32_v1(dx.data(), dy.data(), x.data(), weight.data(), bias.data(),
                                                     meanF.data(), invStdF.data(), meanG.data(), meanGx.data(),
                                                     vectors, c, silu);
                });
                std::vector<double> dx0(total);
                for (size_t i = 0; i < total; ++i) {
                    int ch = (int) (i % c);
                    double xhat = (x[i] - (double) meanF[ch]) * invStdF[ch];
                    dx0[i] = weight[ch] * (double) invStdF[ch] * (g0[i] - sumG[ch] / rows - xhat * sumGx[ch] / rows);
                }
                ok &= vx_expect_close(("data gradient" + kind + at).c_str(), dx.data(), dx0.data(), total, 1e-5);

                // The fast kernels: float sums of up to 64 rows, float coefficients, float data gradient.
                std::fill(partial.begin(), partial.end(), -1e300);
                launch(sumsGrid, sumsBlock, [&] {
                    if (vector == 4)
                        batch_norm_grad_sums_fast_f32_v4(partial.data(), dy.data(), x.data(), meanF.data(),
                                                         invStdF.data(), weight.data(), bias.data(), rows, c, g.cols,
                                                         silu);
                    else
                        batch_norm_grad_sums_fast_f32_v1(partial.data(), dy.data(), x.data(), meanF.data(),
                                                         invStdF.data(), weight.data(), bias.data(), rows, c, g.cols,
                                                         silu);
                });
                std::vector<float> coef(3 * (size_t) c);
                launch({finishGrid.x, 1, 1}, finishBlock, [&] {
                    batch_norm_grad_finish_fast_f32(dWeight.data(), dBias.data(), coef.data(), partial.data(),
                                                    (int) slices, rows, c, weight.data(), invStdF.data());
                });
                ok &= vx_expect_close(("fast bias gradient" + kind + at).c_str(), dBias.data(), sumG.data(), c, 1e-5);
                ok &= vx_expect_close(("fast weight gradient" + kind + at).c_str(), dWeight.data(), sumGx.data(), c,
                                      1e-5);
                std::fill(dx.begin(), dx.end(), NAN);
                launch({blocks, 1, 1}, {256, 1, 1}, [&] {
                    const float* pb = silu ? bias.data() : nullptr;
                    if (vector == 4)
                        batch_norm_grad_apply_fast_f32_v4(dx.data(), dy.data(), x.data(), weight.data(), pb,
                                                          meanF.data(), invStdF.data(), coef.data(), vectors, c / 4,
                                                          silu);
                    else
                        batch_norm_grad_apply_fast_f32_v1(dx.data(), dy.data(), x.data(), weight.data(), pb,
                                                          meanF.data(), invStdF.data(), coef.data(), vectors, c, silu);
                });
                ok &= vx_expect_close(("fast data gradient" + kind + at).c_str(), dx.data(), dx0.data(), total,
                                      1e-5);
            }
        }
    }
    for (auto [rows, c, slices, blocks] : std::vector<std::tuple<int, int, unsigned, unsigned>>{
             {1000, 40, 5, 7}, {300, 96, 40, 11}, {37, 33, 2, 3}}) {
        for (int vector : {1, 4}) {
            if (c % vector != 0) continue;
            ok &= check16<VxBf16>("bfloat16", 8e-3, rows, c, slices, blocks, vector, rng);
            ok &= check16<VxF16>("float16", 1e-3, rows, c, slices, blocks, vector, rng);
        }
    }
    return ok ? 0 : 1;
}
