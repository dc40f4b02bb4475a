package dev.vertebra.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How the graph is recorded and walked: accumulation, retained graphs, no-grad scopes, detach, shared tensors. */
class AutogradBehaviourTest {
    private static final double[] W = {0.5, -1.25, 2.0};

    private static Tensor leaf() {
        return Tensor.of(W.clone(), 3).requiresGrad(true);
    }

    private static double[] expected(java.util.function.DoubleUnaryOperator f) {
        double[] out = new double[W.length];
        for (int i = 0; i < W.length; i++) {
            out[i] = f.applyAsDouble(W[i]);
        }
        return out;
    }

    @Test
    void gradientsAccumulateAcrossBackwardCalls() {
        Tensor w = leaf();
        w.mul(w).sum().backward();
        w.mul(3).sum().backward();
        assertArrayEquals(expected(x -> 2 * x + 3), w.grad().toDoubleArray(), 1e-12);
        w.setGrad(null);
        assertNull(w.grad());
        w.sum().backward();
        assertArrayEquals(new double[]{1, 1, 1}, w.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void retainGraphAllowsASecondBackwardThenTheGraphIsFreed() {
        Tensor w = leaf();
        Tensor loss = w.exp().sum();
        Tensor one = Tensor.full(Shape.scalar(), DType.FLOAT64, Device.CPU, 1);
        loss.backward(one, true);
        loss.backward(one, false);
        assertArrayEquals(expected(x -> 2 * Math.exp(x)), w.grad().toDoubleArray(), 1e-12);
        assertThrows(IllegalStateException.class, () -> loss.backward(one, false));
    }

    @Test
    void noGradScopesRecordNothingAndNest() {
        Tensor w = leaf();
        assertTrue(NoGrad.isGradEnabled());
        NoGrad outer = NoGrad.enter();
        Tensor y = w.mul(2).exp();
        assertFalse(y.requiresGrad());
        assertNull(y.gradFn());
        try (NoGrad _ = NoGrad.enter()) {
            assertFalse(NoGrad.isGradEnabled());
        }
        assertFalse(NoGrad.isGradEnabled(), "closing the inner scope must not re-enable gradients");
        outer.close();
        assertTrue(NoGrad.isGradEnabled());
        outer.close();   // closing twice must not unbalance the nesting count
        assertTrue(NoGrad.isGradEnabled());
        assertEquals("exp", w.exp().gradFn());
        try (NoGrad _ = NoGrad.enter()) {
            assertFalse(NoGrad.isGradEnabled(), "a scope closed twice left the next one ineffective");
        }
    }

    @Test
    void valuesComputedWithoutGradAreConstantsLater() {
        Tensor w = leaf();
        Tensor c;
        try (NoGrad _ = NoGrad.enter()) {
            c = w.mul(w);
        }
        w.mul(c).sum().backward();     // d/dw (w · c) with c constant = c = w²
        assertArrayEquals(expected(x -> x * x), w.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void detachSharesValuesButStopsGradients() {
        Tensor w = leaf();
        Tensor y = w.exp();
        Tensor d = y.detach();
        assertTrue(d.isLeaf());
        assertFalse(d.requiresGrad());
        assertArrayEquals(y.toDoubleArray(), d.toDoubleArray(), 0);
        w.mul(d).sum().backward();     // d/dw (w · exp(w)) with exp(w) detached = exp(w)
        assertArrayEquals(expected(Math::exp), w.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void diamondGraphsSumBothPaths() {
        Tensor w = leaf();
        Tensor a = w.exp();
        a.mul(2).add(a.mul(a)).sum().backward();   // y = 2a + a², dy/dw = (2 + 2a)·a
        assertArrayEquals(expected(x -> (2 + 2 * Math.exp(x)) * Math.exp(x)), w.grad().toDoubleArray(), 1e-12);

        Tensor v = leaf();
        v.mul(v).add(v).sum().backward();           // the same leaf three times in one expression
        assertArrayEquals(expected(x -> 2 * x + 1), v.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void leafGradientsDoNotAliasEachOtherOrTheUpstreamGradient() {
        Tensor x = leaf();
        Tensor y = leaf();
        x.add(y).sum().backward();
        assertNotSame(x.grad(), y.grad());
        try (NoGrad _ = NoGrad.enter()) {
            x.grad().assign(Tensor.full(Shape.of(3), DType.FLOAT64, Device.CPU, 7));
        }
        assertArrayEquals(new double[]{1, 1, 1}, y.grad().toDoubleArray(), 0, "y's gradient changed with x's");

        Tensor z = leaf();
        Tensor upstream = Tensor.of(new double[]{1, 2, 3}, 3);
        z.reshape(3).add(0.0).backward(upstream, false);
        upstream.assign(Tensor.full(Shape.of(3), DType.FLOAT64, Device.CPU, 0));
        assertArrayEquals(new double[]{1, 2, 3}, z.grad().toDoubleArray(), 0, "z's gradient aliases the upstream");
    }

    /**
     * Autograd sums a tensor's gradients in place only into buffers it owns: never into the upstream gradient a
     * caller passed in, nor into a leaf's gradient a caller may hold from an earlier backward.
     */
    @Test
    void inPlaceGradientSumsLeaveTheCallersTensorsAlone() {
        Tensor w = leaf();
        Tensor h = w.mul(2);
        Tensor upstream = Tensor.of(new double[]{1, 2, 3}, 3);
        h.add(h.mul(3)).backward(upstream, false);            // h gets the upstream itself, then 3·upstream
        assertArrayEquals(new double[]{1, 2, 3}, upstream.toDoubleArray(), 0, "the upstream gradient was written");
        assertArrayEquals(new double[]{8, 16, 24}, w.grad().toDoubleArray(), 1e-12);

        Tensor first = w.grad();
        w.mul(w).add(w.exp()).sum().backward();               // w's new gradient is itself a sum of two
        assertArrayEquals(new double[]{8, 16, 24}, first.toDoubleArray(), 0, "a held gradient was written");
        double[] want = expected(x -> 2 * x + Math.exp(x));
        for (int i = 0; i < want.length; i++) {
            want[i] += first.toDoubleArray()[i];
        }
        assertArrayEquals(want, w.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void onlyDifferentiableInputsGetGradients() {
        Tensor logits = Tensor.of(new double[]{1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad(true);
        Tensor labels = Tensor.ofLongs(new long[]{2, 0}, 2);
        Tensor constant = Tensor.of(new double[]{1, 1, 1, 1, 1, 1}, 2, 3);
        Functional.crossEntropy(logits.mul(constant), labels, 0, Reduction.SUM).backward();
        assertNull(labels.grad());
        assertNull(constant.grad());
        assertFalse(constant.requiresGrad());
        // Σ over samples of softmax − onehot, computed here directly.
        double[] g = logits.grad().toDoubleArray();
        double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
        assertEquals(Math.exp(1) / z, g[0], 1e-12);
        assertEquals(Math.exp(3) / z - 1, g[2], 1e-12);
        assertEquals(Math.exp(4) / (Math.exp(4) + Math.exp(5) + Math.exp(6)) - 1, g[3], 1e-12);
    }

    @Test
    void integerCastsAndComparisonsAreNotDifferentiable() {
        Tensor w = leaf();
        assertFalse(w.to(DType.INT64).requiresGrad());
        assertFalse(w.gt(0).requiresGrad());
        assertEquals("to", w.to(DType.FLOAT32).gradFn());
    }

    @Test
    void longChainsBackpropagateWithoutRecursion() {
        Tensor w = Tensor.of(new double[]{1}, 1).requiresGrad(true);
        Tensor y = w;
        for (int i = 0; i < 20_000; i++) {
            y = y.mul(1.0001);
        }
        y.sum().backward();
        assertEquals(Math.pow(1.0001, 20_000), w.grad().toDoubleArray()[0], 1e-9);
    }
}
