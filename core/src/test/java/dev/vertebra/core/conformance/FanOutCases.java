package dev.vertebra.core.conformance;

import dev.vertebra.core.Functional;
import dev.vertebra.core.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Tensors used more than once, so autograd sums several gradients into one: the sums it adds in place into a
 * buffer it owns (a gradient a rule computed) and those it must not (the incoming gradient passed through by add,
 * views of it, broadcast gradients of reductions). Small shapes for the finite-difference check, large and odd ones
 * for the fast backend's in-place kernel.
 */
final class FanOutCases {

    private FanOutCases() {
    }

    static List<OpCase> all() {
        List<OpCase> cases = new ArrayList<>();
        for (int v = 0; v < 2; v++) {
            Shapes s = new Shapes("fan-out", v);
            int[] nhwc = {s.small(), s.small(), s.small(), s.dim(2, 5)};
            int a = s.small();
            add(cases, "#" + v, nhwc, a, false);
        }
        add(cases, "large", new int[]{2, 20, 30, 67}, 301, true);
        return cases;
    }

    private static void add(List<OpCase> cases, String tag, int[] nhwc, int side, boolean large) {
        String shape = java.util.Arrays.toString(nhwc);
        case_(cases, large, "squeeze-excitation: x·σ(mean(x)) " + shape + " " + tag, Tolerance.ACCUMULATING,
                List.of(Input.normal(nhwc)),
                in -> in.getFirst().mul(Functional.globalAvgPool(in.getFirst()).sigmoid()));
        case_(cases, large, "residual: x + silu(x)·w " + shape + " " + tag, Tolerance.ELEMENTWISE,
                List.of(Input.normal(nhwc), Input.normal(nhwc[3])),
                in -> in.get(0).add(in.get(0).silu().mul(in.get(1))));
        case_(cases, large, "three uses of an intermediate: e·e + e + σ(e), e = exp(x) " + shape + " " + tag,
                Tolerance.ELEMENTWISE, List.of(Input.normal(nhwc)), in -> {
                    Tensor e = in.getFirst().mul(0.5).exp();
                    return e.mul(e).add(e).add(e.sigmoid());
                });
        case_(cases, large, "a leaf twice through add, once through mul: x + x + x·x " + shape + " " + tag,
                Tolerance.ELEMENTWISE, List.of(Input.normal(nhwc)),
                in -> in.getFirst().add(in.getFirst()).add(in.getFirst().mul(in.getFirst())));
        case_(cases, large, "strided contribution: y + yᵀ·2, y = silu(x) [" + side + ", " + side + "] " + tag,
                Tolerance.ELEMENTWISE, List.of(Input.normal(side, side)), in -> {
                    Tensor y = in.getFirst().silu();
                    return y.add(y.transpose(0, 1).mul(2));
                });
        case_(cases, large, "broadcast contribution: y·2 + sum(y, rows), y = exp(x) [" + side + ", 7] " + tag,
                Tolerance.ACCUMULATING, List.of(Input.normal(side, 7)), in -> {
                    Tensor y = in.getFirst().mul(0.25).exp();
                    return y.mul(2).add(y.sum(true, 0));
                });
    }

    private static void case_(List<OpCase> cases, boolean large, String name, Tolerance tolerance, List<Input> inputs,
                              OpCase.Op op) {
        OpCase c = new OpCase(name, tolerance, inputs, op);
        cases.add(large ? c.withoutFiniteDifferences() : c);
    }
}
