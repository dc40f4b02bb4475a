package dev.vertebra.core.conformance;

import dev.vertebra.core.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;

/** Elementwise unary, binary (every broadcast pattern, strided operands), scalar and comparison cases. */
final class ElementwiseCases {
    private static final int VARIANTS = 2;

    private ElementwiseCases() {
    }

    static List<OpCase> all() {
        List<OpCase> cases = new ArrayList<>();
        binary(cases);
        scalar(cases);
        unary(cases);
        comparisons(cases);
        return cases;
    }

    /** Leaf shapes of two operands and the views applied before the op (strided operands). */
    private record Pattern(String name, int[] a, int[] b, UnaryOperator<Tensor> viewA, UnaryOperator<Tensor> viewB) {
        static Pattern plain(String name, int[] a, int[] b) {
            return new Pattern(name, a, b, t -> t, t -> t);
        }
    }

    private static List<Pattern> patterns(int variant) {
        Shapes s = new Shapes("broadcast", variant);
        int a = s.small();
        int b = s.small();
        int c = s.dim(2, 5);
        int n = s.dim(1, 2);
        return List.of(
                Pattern.plain("same shape", new int[]{a, b, c}, new int[]{a, b, c}),
                Pattern.plain("scalar-like [1]", new int[]{a, b, c}, new int[]{1}),
                Pattern.plain("0-d", new int[]{a, c}, new int[]{}),
                Pattern.plain("channel-last [C]", new int[]{n, a, b, c}, new int[]{c}),
                Pattern.plain("[1] on the left", new int[]{1}, new int[]{a, c}),
                Pattern.plain("outer [A,1,C]x[B,1]", new int[]{a, 1, c}, new int[]{b, 1}),
                Pattern.plain("row [1,C] x [R,C]", new int[]{1, c}, new int[]{b, c}),
                Pattern.plain("SE gate [N,1,1,C]", new int[]{n, a, b, c}, new int[]{n, 1, 1, c}),
                new Pattern("strided: permuted lhs, narrowed rhs", new int[]{c, b, a}, new int[]{a, b + 2, c},
                        t -> t.permute(2, 1, 0), t -> t.narrow(1, 1, b)),
                new Pattern("strided: transposed rhs broadcast", new int[]{a, b, c}, new int[]{c, b},
                        t -> t, t -> t.transpose(0, 1)));
    }

    private record Binary(String name, BinaryOperator<Tensor> fn, boolean positiveRhs) {
    }

    private static void binary(List<OpCase> cases) {
        List<Binary> ops = List.of(
                new Binary("add", Tensor::add, false),
                new Binary("sub", Tensor::sub, false),
                new Binary("mul", Tensor::mul, false),
                new Binary("div", Tensor::div, true),
                new Binary("maximum", Tensor::maximum, false),
                new Binary("minimum", Tensor::minimum, false));
        for (int v = 0; v < VARIANTS; v++) {
            for (Pattern p : patterns(v)) {
                for (Binary op : ops) {
                    Input rhs = op.positiveRhs() ? Input.positive(p.b()) : Input.normal(p.b());
                    cases.add(new OpCase(op.name() + " " + p.name() + " " + Arrays.toString(p.a()) + " "
                            + Arrays.toString(p.b()) + " #" + v, Tolerance.ELEMENTWISE,
                            List.of(Input.normal(p.a()), rhs),
                            in -> op.fn().apply(p.viewA().apply(in.get(0)), p.viewB().apply(in.get(1)))));
                }
            }
        }
        // Ties: maximum/minimum send half the gradient to each operand.
        Shapes s = new Shapes("ties", 0);
        int[] shape = {s.dim(3, 6), s.dim(3, 6)};
        for (Binary op : List.of(new Binary("maximum", Tensor::maximum, false), new Binary("minimum", Tensor::minimum, false))) {
            cases.add(new OpCase(op.name() + " with ties " + Arrays.toString(shape), Tolerance.ELEMENTWISE,
                    List.of(Input.smallIntegers(shape).withGrad(), Input.smallIntegers(shape).withGrad()),
                    in -> op.fn().apply(in.get(0), in.get(1))).withoutFiniteDifferences());
        }
    }

    private record Unary(String name, UnaryOperator<Tensor> fn, Kind input) {
    }

    private enum Kind { NORMAL, POSITIVE, AWAY_FROM_ZERO }

    private static Input input(Kind kind, int... shape) {
        return switch (kind) {
            case NORMAL -> Input.normal(shape);
            case POSITIVE -> Input.positive(shape);
            case AWAY_FROM_ZERO -> Input.awayFromZero(shape);
        };
    }

    private static void scalar(List<OpCase> cases) {
        List<Unary> ops = List.of(
                new Unary("add(1.5)", t -> t.add(1.5), Kind.NORMAL),
                new Unary("sub(0.25)", t -> t.sub(0.25), Kind.NORMAL),
                new Unary("mul(-3)", t -> t.mul(-3), Kind.NORMAL),
                new Unary("div(7)", t -> t.div(7), Kind.NORMAL),
                new Unary("pow(2)", t -> t.pow(2), Kind.NORMAL),
                new Unary("pow(3)", t -> t.pow(3), Kind.NORMAL),
                new Unary("pow(0.5)", t -> t.pow(0.5), Kind.POSITIVE),
                new Unary("pow(-1.5)", t -> t.pow(-1.5), Kind.POSITIVE),
                new Unary("clamp(-0.5, 0.7)", t -> t.clamp(-0.5, 0.7), Kind.NORMAL));
        addUnary(cases, ops, "scalar");
    }

    private static void unary(List<OpCase> cases) {
        List<Unary> ops = List.of(
                new Unary("neg", Tensor::neg, Kind.NORMAL),
                new Unary("exp", Tensor::exp, Kind.NORMAL),
                new Unary("log", Tensor::log, Kind.POSITIVE),
                new Unary("sqrt", Tensor::sqrt, Kind.POSITIVE),
                new Unary("abs", Tensor::abs, Kind.AWAY_FROM_ZERO),
                new Unary("relu", Tensor::relu, Kind.AWAY_FROM_ZERO),
                new Unary("sigmoid", Tensor::sigmoid, Kind.NORMAL),
                new Unary("tanh", Tensor::tanh, Kind.NORMAL),
                new Unary("silu", Tensor::silu, Kind.NORMAL),
                new Unary("softplus", Tensor::softplus, Kind.NORMAL),
                new Unary("large-argument sigmoid", t -> t.mul(40).sigmoid(), Kind.NORMAL),
                new Unary("large-argument softplus", t -> t.mul(40).softplus(), Kind.NORMAL));
        addUnary(cases, ops, "unary");
    }

    /** Each op on a contiguous operand and on a permuted (strided) one, for two random shapes. */
    private static void addUnary(List<OpCase> cases, List<Unary> ops, String family) {
        for (int v = 0; v < VARIANTS; v++) {
            Shapes s = new Shapes(family, v);
            int a = s.small();
            int b = s.small();
            int c = s.dim(2, 5);
            for (Unary op : ops) {
                Kind kind = op.name().startsWith("clamp") ? Kind.AWAY_FROM_ZERO : op.input();
                cases.add(new OpCase(op.name() + " [" + a + ", " + b + ", " + c + "] #" + v, Tolerance.ELEMENTWISE,
                        List.of(input(kind, a, b, c)), in -> op.fn().apply(in.getFirst())));
                cases.add(new OpCase(op.name() + " strided (permuted) [" + c + ", " + a + ", " + b + "] #" + v,
                        Tolerance.ELEMENTWISE, List.of(input(kind, a, b, c)),
                        in -> op.fn().apply(in.getFirst().permute(2, 0, 1))));
            }
        }
    }

    private static void comparisons(List<OpCase> cases) {
        for (int v = 0; v < VARIANTS; v++) {
            Shapes s = new Shapes("compare", v);
            int a = s.small();
            int c = s.dim(2, 5);
            cases.add(new OpCase("gt tensor broadcast [" + a + ", " + c + "] [" + c + "] #" + v, Tolerance.EXACT,
                    List.of(Input.smallIntegers(a, c), Input.smallIntegers(c)), in -> in.get(0).gt(in.get(1))));
            cases.add(new OpCase("eq tensor with ties [" + a + ", " + c + "] #" + v, Tolerance.EXACT,
                    List.of(Input.smallIntegers(a, c), Input.smallIntegers(a, c)), in -> in.get(0).eq(in.get(1))));
            cases.add(new OpCase("eq strided [" + c + ", " + a + "]ᵀ #" + v, Tolerance.EXACT,
                    List.of(Input.smallIntegers(c, a), Input.smallIntegers(a, c)),
                    in -> in.get(0).transpose(0, 1).eq(in.get(1))));
            cases.add(new OpCase("gt scalar 0 [" + a + ", " + c + "] #" + v, Tolerance.EXACT,
                    List.of(Input.smallIntegers(a, c)), in -> in.getFirst().gt(0)));
            cases.add(new OpCase("lt scalar 0.5 [" + a + ", " + c + "] #" + v, Tolerance.EXACT,
                    List.of(Input.constantNormal(a, c)), in -> in.getFirst().lt(0.5)));
        }
    }
}
