package dev.vertebra.core.conformance;

import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Finite-difference gradient check in float64 on the reference backend. For a computation {@code y = f(x₁, …)} and
 * a random projection {@code u}, the scalar {@code L = Σ u·y} has {@code ∂L/∂xᵢ} = what autograd returns for an
 * upstream gradient {@code u}; each element of each differentiable input is perturbed by ±h and the central
 * difference {@code (L(x+h) − L(x−h)) / 2h} must agree with it.
 *
 * <pre>{@code
 * GradCheck.check("exp", in -> in.getFirst().exp(), List.of(x), new boolean[]{true}, 1e-6, 1e-6);
 * }</pre>
 */
public final class GradCheck {

    private GradCheck() {
    }

    /** Checks every differentiable input of a conformance case, drawn in float64. */
    public static void check(OpCase c) {
        Generator gen = new Generator(c.seed());
        List<HostArray> values = new ArrayList<>();
        boolean[] differentiable = new boolean[c.inputs().size()];
        for (int i = 0; i < differentiable.length; i++) {
            Input in = c.inputs().get(i);
            values.add(in.draw(gen, DType.FLOAT64));
            differentiable[i] = in.differentiable();
        }
        check(c.name(), c.op(), values, differentiable, c.fdStep(), c.fdTol());
    }

    /**
     * Compares autograd with central differences; {@code tol} bounds the error relative to
     * {@code |fd| + max|fd|} of the input's gradient.
     */
    public static void check(String what, OpCase.Op op, List<HostArray> inputs, boolean[] differentiable,
                             double step, double tol) {
        List<Tensor> leaves = tensors(inputs, differentiable);
        Tensor out = op.apply(leaves);
        if (!out.requiresGrad()) {
            fail(what + ": the output records no gradient");
        }
        Generator gen = new Generator(what.hashCode());
        HostArray uHost = Input.floats(out.shape().dims(), DType.FLOAT64, gen::nextGaussian);
        Tensor upstream = Tensor.fromHost(uHost, Device.REFERENCE).to(out.dtype());
        double[] u = upstream.toDoubleArray();
        out.backward(upstream, false);
        for (int i = 0; i < inputs.size(); i++) {
            Tensor grad = leaves.get(i).grad();
            if (!differentiable[i] || inputs.get(i).dtype() != DType.FLOAT64) {
                assertNull(grad, what + ": input " + i + " is not differentiable but got a gradient");
                continue;
            }
            assertNotNull(grad, what + ": no gradient for input " + i);
            double[] auto = grad.toDoubleArray();
            double[] numeric = numericGradient(op, inputs, i, u, step);
            compare(what + ": d/d input " + i, numeric, auto, tol);
        }
    }

    private static double[] numericGradient(OpCase.Op op, List<HostArray> inputs, int which, double[] u, double h) {
        double[] base = (double[]) inputs.get(which).data();
        double[] grad = new double[base.length];
        try (NoGrad _ = NoGrad.enter()) {
            for (int j = 0; j < base.length; j++) {
                grad[j] = (projected(op, inputs, which, j, h, u) - projected(op, inputs, which, j, -h, u)) / (2 * h);
            }
        }
        return grad;
    }

    /** {@code Σ u·f(x)} with element {@code j} of input {@code which} moved by {@code delta}. */
    private static double projected(OpCase.Op op, List<HostArray> inputs, int which, int j, double delta, double[] u) {
        List<HostArray> moved = new ArrayList<>(inputs);
        HostArray original = inputs.get(which);
        double[] v = ((double[]) original.data()).clone();
        v[j] += delta;
        moved.set(which, new HostArray(DType.FLOAT64, original.shape(), v));
        double[] y = op.apply(tensors(moved, new boolean[inputs.size()])).toDoubleArray();
        double sum = 0;
        for (int k = 0; k < y.length; k++) {
            sum += u[k] * y[k];
        }
        return sum;
    }

    /** Fresh tensors on the reference backend over copies of the data (ops may update inputs in place). */
    private static List<Tensor> tensors(List<HostArray> inputs, boolean[] differentiable) {
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            HostArray h = inputs.get(i);
            Tensor t = Tensor.fromHost(new HostArray(h.dtype(), h.shape(), copy(h.data())), Device.REFERENCE);
            out.add(differentiable[i] && t.dtype().isFloating() ? t.requiresGrad(true) : t);
        }
        return out;
    }

    private static Object copy(Object array) {
        return switch (array) {
            case double[] a -> a.clone();
            case float[] a -> a.clone();
            case long[] a -> a.clone();
            case int[] a -> a.clone();
            case short[] a -> a.clone();
            case byte[] a -> a.clone();
            default -> throw new IllegalArgumentException("not a primitive array: " + array.getClass());
        };
    }

    private static void compare(String what, double[] numeric, double[] auto, double tol) {
        double maxAbs = 0;
        for (double v : numeric) {
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        for (int k = 0; k < numeric.length; k++) {
            double bound = tol * (Math.abs(numeric[k]) + maxAbs) + 1e-10;
            if (!(Math.abs(auto[k] - numeric[k]) <= bound)) {
                fail(what + "[" + k + "]: autograd " + auto[k] + " vs finite difference " + numeric[k]
                        + " (|diff| " + Math.abs(auto[k] - numeric[k]) + " > " + bound + ")");
            }
        }
    }
}
