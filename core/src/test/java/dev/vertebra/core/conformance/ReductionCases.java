package dev.vertebra.core.conformance;

import dev.vertebra.core.Functional;
import dev.vertebra.core.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Reductions over chosen dimensions (keepDim both ways), matrix products and linear layers. */
final class ReductionCases {

    private ReductionCases() {
    }

    static List<OpCase> all() {
        List<OpCase> cases = new ArrayList<>();
        reductions(cases);
        matmul(cases);
        linear(cases);
        return cases;
    }

    @FunctionalInterface
    private interface Reduce {
        Tensor apply(Tensor x, boolean keepDim, int[] dims);
    }

    private record Reduction(String name, Reduce fn, Tolerance tolerance) {
    }

    private static void reductions(List<OpCase> cases) {
        List<Reduction> ops = List.of(
                new Reduction("sum", (x, k, d) -> x.sum(k, d), Tolerance.ACCUMULATING),
                new Reduction("mean", (x, k, d) -> x.mean(k, d), Tolerance.ACCUMULATING),
                new Reduction("max", (x, k, d) -> x.max(k, d), Tolerance.ELEMENTWISE),
                new Reduction("min", (x, k, d) -> x.min(k, d), Tolerance.ELEMENTWISE),
                new Reduction("var unbiased", (x, k, d) -> x.var(1, k, d), Tolerance.CANCELLING),
                new Reduction("var biased", (x, k, d) -> x.var(0, k, d), Tolerance.CANCELLING));
        int[][] dimSets = {{0}, {-1}, {1}, {0, 2}, {0, 1, 2}};
        Shapes s = new Shapes("reduce", 0);
        int[] shape = {s.dim(2, 4), s.dim(2, 5), s.dim(2, 5)};
        for (Reduction op : ops) {
            for (int[] dims : dimSets) {
                for (boolean keepDim : new boolean[]{false, true}) {
                    cases.add(new OpCase(op.name() + " dims " + Arrays.toString(dims) + (keepDim ? " keepDim " : " ")
                            + Arrays.toString(shape), op.tolerance(), List.of(Input.normal(shape)),
                            in -> op.fn().apply(in.getFirst(), keepDim, dims)));
                }
            }
            // Strided input: a permuted view, reduced over what was its innermost dimension.
            cases.add(new OpCase(op.name() + " strided (permuted) input " + Arrays.toString(shape),
                    op.tolerance(), List.of(Input.normal(shape)),
                    in -> op.fn().apply(in.getFirst().permute(2, 0, 1), false, new int[]{0})));
            // A long reduction (the fast path's tree/vector accumulation kicks in).
            cases.add(new OpCase(op.name() + " long row [3, 700]", op.tolerance(), List.of(Input.normal(3, 700)),
                    in -> op.fn().apply(in.getFirst(), true, new int[]{1})).withoutFiniteDifferences());
        }
        cases.add(new OpCase("sum() of everything", Tolerance.ACCUMULATING, List.of(Input.normal(shape)),
                in -> in.getFirst().sum()));
        cases.add(new OpCase("mean() of everything", Tolerance.ACCUMULATING, List.of(Input.normal(shape)),
                in -> in.getFirst().mean()));
        cases.add(new OpCase("max() of everything", Tolerance.ELEMENTWISE, List.of(Input.normal(shape)),
                in -> in.getFirst().max()));
        cases.add(new OpCase("sum of a 0-d tensor", Tolerance.EXACT, List.of(Input.normal()),
                in -> in.getFirst().sum()));
        for (String name : List.of("max", "min")) {
            cases.add(new OpCase(name + " with ties (gradient split evenly) [4, 6]", Tolerance.ELEMENTWISE,
                    List.of(Input.smallIntegers(4, 6).withGrad()),
                    in -> name.equals("max") ? in.getFirst().max(false, 1) : in.getFirst().min(true, 0))
                    .withoutFiniteDifferences());
        }
    }

    private static void matmul(List<OpCase> cases) {
        for (int v = 0; v < 2; v++) {
            Shapes s = new Shapes("matmul", v);
            int b = s.dim(2, 3);
            int m = s.dim(1, 5);
            int k = s.dim(1, 6);
            int n = s.dim(1, 5);
            String suffix = " m" + m + " k" + k + " n" + n + " #" + v;
            addMatmul(cases, "1-D · 1-D" + suffix, new int[]{k}, new int[]{k}, false, false);
            addMatmul(cases, "1-D · 2-D" + suffix, new int[]{k}, new int[]{k, n}, false, false);
            addMatmul(cases, "2-D · 1-D" + suffix, new int[]{m, k}, new int[]{k}, false, false);
            addMatmul(cases, "2-D · 2-D" + suffix, new int[]{m, k}, new int[]{k, n}, false, false);
            addMatmul(cases, "batched 3-D · 3-D" + suffix, new int[]{b, m, k}, new int[]{b, k, n}, false, false);
            addMatmul(cases, "batched [B,M,K] · [K,N]" + suffix, new int[]{b, m, k}, new int[]{k, n}, false, false);
            addMatmul(cases, "broadcast batch [1,M,K] · [B,K,N]" + suffix, new int[]{1, m, k}, new int[]{b, k, n},
                    false, false);
            addMatmul(cases, "broadcast batch [B,1,M,K] · [2,K,N]" + suffix, new int[]{b, 1, m, k},
                    new int[]{2, k, n}, false, false);
            addMatmul(cases, "batched 3-D · 1-D" + suffix, new int[]{b, m, k}, new int[]{k}, false, false);
            addMatmul(cases, "transposed lhs view Aᵀ · B" + suffix, new int[]{k, m}, new int[]{k, n}, true, false);
            addMatmul(cases, "transposed rhs view A · Bᵀ" + suffix, new int[]{m, k}, new int[]{n, k}, false, true);
            addMatmul(cases, "both transposed, batched" + suffix, new int[]{b, k, m}, new int[]{b, n, k}, true, true);
        }
        cases.add(new OpCase("matmul K = 300 [7, 300] · [300, 9]",
                new Tolerance(1e-5, 2e-5, "fp32 dot products of 300 terms"),
                List.of(Input.normal(7, 300), Input.normal(300, 9)), in -> in.get(0).matmul(in.get(1)))
                .withoutFiniteDifferences());
        cases.add(new OpCase("matmul narrowed (offset, strided rows) operands",
                Tolerance.ACCUMULATING, List.of(Input.normal(6, 8), Input.normal(5, 9)),
                in -> in.get(0).narrow(0, 1, 4).narrow(1, 2, 5).matmul(in.get(1).narrow(1, 3, 4))));
    }

    private static void addMatmul(List<OpCase> cases, String name, int[] a, int[] b, boolean transposeA,
                                  boolean transposeB) {
        cases.add(new OpCase("matmul " + name, Tolerance.ACCUMULATING, List.of(Input.normal(a), Input.normal(b)),
                in -> {
                    Tensor x = transposeA ? in.get(0).transpose(-1, -2) : in.get(0);
                    Tensor y = transposeB ? in.get(1).transpose(-1, -2) : in.get(1);
                    return x.matmul(y);
                }));
    }

    private static void linear(List<OpCase> cases) {
        for (int v = 0; v < 2; v++) {
            Shapes s = new Shapes("linear", v);
            int batch = s.dim(1, 4);
            int in = s.dim(2, 6);
            int out = s.dim(2, 5);
            String dims = " in " + in + " out " + out + " #" + v;
            cases.add(new OpCase("linear with bias [" + batch + ", " + in + "]" + dims, Tolerance.ACCUMULATING,
                    List.of(Input.normal(batch, in), Input.normal(out, in), Input.normal(out)),
                    t -> Functional.linear(t.get(0), t.get(1), t.get(2))));
            cases.add(new OpCase("linear without bias [" + batch + ", " + in + "]" + dims, Tolerance.ACCUMULATING,
                    List.of(Input.normal(batch, in), Input.normal(out, in)),
                    t -> Functional.linear(t.get(0), t.get(1), null)));
            cases.add(new OpCase("linear 3-D input [2, " + batch + ", " + in + "]" + dims, Tolerance.ACCUMULATING,
                    List.of(Input.normal(2, batch, in), Input.normal(out, in), Input.normal(out)),
                    t -> Functional.linear(t.get(0), t.get(1), t.get(2))));
        }
    }
}
