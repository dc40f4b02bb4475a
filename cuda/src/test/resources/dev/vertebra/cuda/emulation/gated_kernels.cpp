// conv.cu's kernels around the gated 1×1 convolution (GatedPointwise) on the host (emulated_cuda.h) against plain
// double loops: the gate folded into per-image weights, and the weight's and the gate's gradients from the
// per-image products, over sizes whose element counts are not multiples of the 1-D grid. Exit status 1 on a
// mismatch.
#include "emulated_cuda.h"
#include "conv.cu"

#include <random>
#include <string>
#include <tuple>
#include <vector>

int main() {
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> uniform(-1, 1);
    bool ok = true;
    // images, input channels, output channels, blocks of the 1-D grid
    for (auto [n, cin, cout, blocks] : std::vector<std::tuple<int, int, int, unsigned>>{
             {3, 5, 7, 2}, {2, 40, 24, 3}, {4, 33, 1, 1}}) {
        std::vector<float> w((size_t) cin * cout), gate((size_t) n * cin), p((size_t) n * cin * cout);
        for (auto* v : {&w, &gate, &p}) for (float& e : *v) e = uniform(rng);
        std::vector<float> wn(p.size(), NAN), dw(w.size(), NAN), dgate(gate.size(), NAN);
        launch({blocks, 1, 1}, {256, 1, 1}, [&] { gate_weights_f32(wn.data(), w.data(), gate.data(), n, cin, cout); });
        launch({blocks, 1, 1}, {256, 1, 1},
               [&] { gated_weight_grad_f32(dw.data(), p.data(), gate.data(), n, cin, cout); });
        launch({blocks, 1, 1}, {256, 1, 1},
               [&] { gated_gate_grad_f32(dgate.data(), p.data(), w.data(), n, cin, cout); });
        std::vector<double> wn0(wn.size()), dw0(dw.size()), dgate0(dgate.size());
        for (int img = 0; img < n; ++img)
            for (int ci = 0; ci < cin; ++ci)
                for (int co = 0; co < cout; ++co) {
                    size_t i = ((size_t) img * cin + ci) * cout + co;
                    wn0[i] = (double) gate[img * cin + ci] * w[ci * cout + co];
                    dw0[ci * cout + co] += (double) gate[img * cin + ci] * p[i];
                    dgate0[img * cin + ci] += (double) w[ci * cout + co] * p[i];
                }
        std::string at = " (" + std::to_string(n) + " images, " + std::to_string(cin) + " -> " + std::to_string(cout) +
                         ")";
        ok &= vx_expect_close(("gate folded into the weights" + at).c_str(), wn.data(), wn0.data(), wn.size(), 1e-6);
        ok &= vx_expect_close(("weight gradient" + at).c_str(), dw.data(), dw0.data(), dw.size(), 1e-5);
        ok &= vx_expect_close(("gate gradient" + at).c_str(), dgate.data(), dgate0.data(), dgate.size(), 1e-5);
    }
    return ok ? 0 : 1;
}
