// CUDA's launch model emulated on the host, so that kernel sources can run as plain C++ on a machine without a
// GPU (KernelEmulationTest): every block of a grid runs in turn on a pool of OS threads, one per CUDA thread, with
// __syncthreads as a barrier among them, __shared__ as statics (one block at a time uses them) and atomics under
// a lock. It checks the kernels' index arithmetic and loop logic against plain loops; warps, the memory model and
// performance are the GPU's business.
#pragma once
#include <barrier>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

struct alignas(16) float4 {
    float x, y, z, w;
};

struct alignas(8) uint2 {
    unsigned int x, y;
};

inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

// The threads of one block, kept across blocks and launches of the same block shape.
class BlockPool {
public:
    explicit BlockPool(unsigned n) : n_(n), start_(n + 1), done_(n + 1), sync_(n) {
        for (unsigned t = 0; t < n; ++t) workers_.emplace_back([this, t] { work(t); });
    }

    ~BlockPool() {
        stop_ = true;
        start_.arrive_and_wait();
        for (auto& w : workers_) w.join();
    }

    // Runs kernel as block `block` on every thread and waits for all of them.
    void run(dim3 block, const std::function<void()>& kernel) {
        block_ = block;
        kernel_ = &kernel;
        start_.arrive_and_wait();
        done_.arrive_and_wait();
    }

    void sync() { sync_.arrive_and_wait(); }

    unsigned size() const { return n_; }

private:
    void work(unsigned t) {
        for (;;) {
            start_.arrive_and_wait();
            if (stop_) return;
            threadIdx = {t % blockDim.x, t / blockDim.x % blockDim.y, t / (blockDim.x * blockDim.y)};
            blockIdx = block_;
            (*kernel_)();
            done_.arrive_and_wait();
        }
    }

    unsigned n_;
    std::barrier<> start_, done_, sync_;
    std::vector<std::thread> workers_;
    dim3 block_;
    const std::function<void()>* kernel_ = nullptr;
    bool stop_ = false;
};

inline std::unique_ptr<BlockPool> vx_pool;
inline std::mutex vx_atomic_lock;

inline void __syncthreads() { vx_pool->sync(); }

inline float atomicAdd(float* p, float v) {
    std::lock_guard<std::mutex> hold(vx_atomic_lock);
    float old = *p;
    *p = old + v;
    return old;
}

inline double atomicAdd(double* p, double v) {
    std::lock_guard<std::mutex> hold(vx_atomic_lock);
    double old = *p;
    *p = old + v;
    return old;
}

inline int __ffs(int x) { return __builtin_ffs(x); }
// Round-to-nearest intrinsics: plain operations (the harnesses compile with -ffp-contract=off).
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
// Fast-math intrinsics: the exact operations (the GPU's approximations are a few ulp from them; GPU tests check those).
inline float __expf(float x) { return std::exp(x); }
inline float __fdividef(float a, float b) { return a / b; }

// kernel<<<grid, block>>>: every block in turn.
inline void launch(dim3 grid, dim3 block, const std::function<void()>& kernel) {
    if (!vx_pool || blockDim.x != block.x || blockDim.y != block.y || blockDim.z != block.z) {
        vx_pool.reset();
        blockDim = block;
        vx_pool = std::make_unique<BlockPool>(block.x * block.y * block.z);
    }
    gridDim = grid;
    for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
            for (unsigned bx = 0; bx < grid.x; ++bx) vx_pool->run({bx, by, bz}, kernel);
}

// Largest |got - want| against a bound relative to want's largest magnitude (NaN anywhere fails); prints one line,
// returns pass/fail.
template <typename Got>
bool vx_expect_close(const char* what, const Got* got, const double* want, size_t n, double relative) {
    double worst = 0, scale = 1e-30;
    for (size_t i = 0; i < n; ++i) {
        scale = std::fmax(scale, std::fabs(want[i]));
        double d = std::fabs((double) got[i] - want[i]);
        worst = d == d ? std::fmax(worst, d) : INFINITY;  // a NaN (an element never written) fails
    }
    bool ok = worst <= relative * scale;
    std::printf("%-72s max |diff| %.3g of scale %.3g: %s\n", what, worst, scale, ok ? "ok" : "FAILED");
    return ok;
}
