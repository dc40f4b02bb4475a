package dev.vertebra.core.conformance;

import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * One conformance case: inputs drawn from a generator seeded by the case's name, an operation over them, and the
 * tolerance a backend must meet against the reference. Running a case on a device gives its forward output, the
 * gradient of every input (after backpropagating a random upstream gradient) and the inputs' values afterwards
 * (which catches in-place updates such as batch-norm running statistics).
 *
 * @param name      unique, readable name (also the seed)
 * @param tolerance bound against the reference in float32
 * @param inputs    input distributions, in the order the op receives them
 * @param op        the computation
 * @param fdStep    finite-difference step for the float64 gradient check
 * @param fdTol     finite-difference tolerance (relative to the gradient's largest element)
 */
public record OpCase(String name, Tolerance tolerance, List<Input> inputs, Op op, double fdStep, double fdTol) {

    /** The computation under test; it may take views of its inputs (strided operands). */
    @FunctionalInterface
    public interface Op {
        Tensor apply(List<Tensor> in);
    }

    /** Default finite-difference settings for smooth float64 computations. */
    public static final double FD_STEP = 1e-6;
    public static final double FD_TOL = 1e-6;

    public OpCase(String name, Tolerance tolerance, List<Input> inputs, Op op) {
        this(name, tolerance, inputs, op, FD_STEP, FD_TOL);
    }

    /** This case with other finite-difference settings (for ops that round through a narrower type). */
    public OpCase withFiniteDifferences(double step, double tol) {
        return new OpCase(name, tolerance, inputs, op, step, tol);
    }

    /** This case excluded from finite differences (inputs sit on a kink on purpose, e.g. ties). */
    public OpCase withoutFiniteDifferences() {
        return new OpCase(name, tolerance, inputs, op, 0, 0);
    }

    /** True when the float64 finite-difference check applies. */
    public boolean finiteDifferencesApply() {
        return fdStep > 0 && differentiable();
    }

    long seed() {
        return name.hashCode() * 0x9E3779B97F4A7C15L;
    }

    /** What one run produced, downloaded to double arrays (null where an input got no gradient). */
    public record Outcome(Tensor output, double[] values, List<double[]> grads, List<double[]> inputsAfter) {
    }

    /** Runs the case on {@code device} with floating inputs of {@code floatType}. */
    public Outcome run(Device device, DType floatType) {
        Generator gen = new Generator(seed());
        List<Tensor> leaves = new ArrayList<>();
        for (Input in : inputs) {
            leaves.add(in.make(gen, floatType, device));
        }
        Tensor out = op.apply(leaves);
        if (out.requiresGrad()) {
            Tensor upstream = Input.normal(out.shape().dims()).make(gen, floatType, device).detach().to(out.dtype());
            out.backward(upstream, false);
        }
        List<double[]> grads = new ArrayList<>();
        List<double[]> after = new ArrayList<>();
        for (Tensor leaf : leaves) {
            grads.add(leaf.grad() == null ? null : leaf.grad().toDoubleArray());
            after.add(leaf.toDoubleArray());
        }
        return new Outcome(out, out.toDoubleArray(), grads, after);
    }

    /** True when some input is differentiable (the case has a backward rule to check). */
    public boolean differentiable() {
        return inputs.stream().anyMatch(Input::differentiable);
    }

    @Override
    public String toString() {
        return name;
    }
}
