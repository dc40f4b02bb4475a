package dev.vertebra.cuda;

import dev.vertebra.core.Backend.GatedConvGrads;
import dev.vertebra.core.DType;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;

/**
 * A 1×1 convolution of {@code x · gate} (a squeeze-excitation gate, {@code [N, 1, 1, Cin]}) on float32 NHWC data
 * as batched cuBLAS GEMMs over per-image weights {@code wn = diag(gate_n) · w}: the forward never forms
 * {@code x · gate}; the backward takes the input gradient from {@code dy · wnᵀ} and both the weight's and the
 * gate's gradients from the per-image products {@code P_n = x_nᵀ · dy_n} ({@code dw = Σ_n gate_n ⊙ P_n},
 * {@code dgate_n = Σ_co w ⊙ P_n}), where the default makes four more passes over the gated activations. The
 * CPU backend does the same (Conv2dGemm.forwardGated, GatedPointwiseBackward).
 */
final class GatedPointwise {
    private final CudaBackend backend;

    GatedPointwise(CudaBackend backend) {
        this.backend = backend;
    }

    /** True when this path takes the op: float32, contiguous x and gate, a 1×1 weight of x's channels, no empties. */
    static boolean takes(Tensor x, Tensor gate, Tensor w) {
        return x.dtype() == DType.FLOAT32 && gate.dtype() == DType.FLOAT32 && w.dtype() == DType.FLOAT32
                && x.rank() == 4 && x.isContiguous() && gate.isContiguous() && x.numel() > 0
                && gate.shape().equals(Shape.of(x.dim(0), 1, 1, x.dim(3))) && w.rank() == 4 && w.dim(0) == 1
                && w.dim(1) == 1 && w.dim(2) == x.dim(3) && w.dim(3) > 0;
    }

    /** wn: [n, cin, cout] = diag(gate_n) · w. */
    private Tensor gatedWeights(Tensor gate, Tensor wd, int n, int cin, int cout) {
        Tensor wn = backend.empty(Shape.of(n, cin, cout), DType.FLOAT32);
        long pwn = backend.address(wn);
        long pw = backend.address(wd);
        long pg = backend.address(gate);
        backend.kernels().launch1d("conv", "gate_weights_f32", (long) n * cin * cout,
                a -> a.pointer(pwn).pointer(pw).pointer(pg).i32(n).i32(cin).i32(cout));
        return wn;
    }

    /** {@code C[p] = op(A[p]) · op(B[p])} for p < batch, float32 row-major (see {@link Cublas#gemm}). */
    private void gemm(int batch, int m, int n, int k, Cublas.Operand a, Cublas.Operand b, long c, int ldc,
                      long strideC) {
        MemorySegment handle = backend.blasHandle();
        backend.context().makeCurrent();
        backend.cublas().gemm(handle, false, batch, m, n, k, 1, a, b, 0, c, ldc, strideC);
    }

    /** y_n [HW, Cout] = x_n [HW, Cin] · wn_n [Cin, Cout]. */
    Tensor forward(Tensor x, Tensor gate, Tensor w) {
        int n = x.dim(0);
        int hw = x.dim(1) * x.dim(2);
        int cin = x.dim(3);
        int cout = w.dim(3);
        Tensor wd = backend.dense(w);
        Tensor wn = gatedWeights(gate, wd, n, cin, cout);
        Tensor y = backend.empty(Shape.of(n, x.dim(1), x.dim(2), cout), DType.FLOAT32);
        gemm(n, hw, cout, cin, new Cublas.Operand(backend.address(x), false, cin, (long) hw * cin),
                new Cublas.Operand(backend.address(wn), false, cout, (long) cin * cout), backend.address(y), cout,
                (long) hw * cout);
        Reference.reachabilityFence(wd);
        Reference.reachabilityFence(wn);
        return y;
    }

    GatedConvGrads backward(Tensor dy, Tensor x, Tensor gate, Tensor w) {
        int n = x.dim(0);
        int hw = x.dim(1) * x.dim(2);
        int cin = x.dim(3);
        int cout = w.dim(3);
        Tensor dyd = backend.dense(dy);
        Tensor wd = backend.dense(w);
        Tensor wn = gatedWeights(gate, wd, n, cin, cout);
        long pdy = backend.address(dyd);
        long px = backend.address(x);
        // dx_n [HW, Cin] = dy_n [HW, Cout] · wn_nᵀ.
        Tensor dx = backend.empty(x.shape(), DType.FLOAT32);
        gemm(n, hw, cin, cout, new Cublas.Operand(pdy, false, cout, (long) hw * cout),
                new Cublas.Operand(backend.address(wn), true, cout, (long) cin * cout), backend.address(dx), cin,
                (long) hw * cin);
        // P_n [Cin, Cout] = x_nᵀ · dy_n.
        Tensor p = backend.empty(Shape.of(n, cin, cout), DType.FLOAT32);
        long pp = backend.address(p);
        gemm(n, cin, cout, hw, new Cublas.Operand(px, true, cin, (long) hw * cin),
                new Cublas.Operand(pdy, false, cout, (long) hw * cout), pp, cout, (long) cin * cout);
        Tensor dw = backend.empty(w.shape(), DType.FLOAT32);
        Tensor dgate = backend.empty(gate.shape(), DType.FLOAT32);
        long pg = backend.address(gate);
        long pdw = backend.address(dw);
        long pdg = backend.address(dgate);
        long pw = backend.address(wd);
        backend.kernels().launch1d("conv", "gated_weight_grad_f32", (long) cin * cout,
                a -> a.pointer(pdw).pointer(pp).pointer(pg).i32(n).i32(cin).i32(cout));
        backend.kernels().launch1d("conv", "gated_gate_grad_f32", (long) n * cin,
                a -> a.pointer(pdg).pointer(pp).pointer(pw).i32(n).i32(cin).i32(cout));
        Reference.reachabilityFence(dyd);
        Reference.reachabilityFence(wd);
        Reference.reachabilityFence(wn);
        Reference.reachabilityFence(p);
        return new GatedConvGrads(dx, dgate, dw);
    }
}
