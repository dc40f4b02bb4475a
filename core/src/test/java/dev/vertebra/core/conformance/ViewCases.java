package dev.vertebra.core.conformance;

import dev.vertebra.core.DType;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

import java.util.ArrayList;
import java.util.List;

/** Views, contiguous copies of strided views, concat/stack/pad, gather and dtype casts. */
final class ViewCases {

    private ViewCases() {
    }

    static List<OpCase> all() {
        List<OpCase> cases = new ArrayList<>();
        views(cases);
        assembly(cases);
        gather(cases);
        casts(cases);
        return cases;
    }

    private static OpCase exact(String name, List<Input> inputs, OpCase.Op op) {
        return new OpCase(name, Tolerance.EXACT, inputs, op);
    }

    /** A view whose backward sums a broadcast gradient: the sum is fp32 on fast backends. */
    private static OpCase summing(String name, List<Input> inputs, OpCase.Op op) {
        return new OpCase(name, Tolerance.ACCUMULATING, inputs, op);
    }

    private static void views(List<OpCase> cases) {
        Shapes s = new Shapes("views", 0);
        int a = s.small();
        int b = s.small();
        int c = s.dim(2, 5);
        List<Input> x = List.of(Input.normal(a, b, c));
        cases.add(exact("reshape contiguous", x, in -> in.getFirst().reshape(b, a * c)));
        cases.add(exact("reshape with -1", x, in -> in.getFirst().reshape(-1, c)));
        cases.add(exact("reshape of a permuted view (copies)", x, in -> in.getFirst().permute(2, 0, 1).reshape(c, -1)));
        cases.add(exact("permute", x, in -> in.getFirst().permute(1, 2, 0)));
        cases.add(exact("transpose", x, in -> in.getFirst().transpose(0, 2)));
        cases.add(exact("transpose negative dims", x, in -> in.getFirst().transpose(-1, -2)));
        cases.add(exact("narrow", x, in -> in.getFirst().narrow(1, 1, b - 1)));
        cases.add(exact("narrow of narrow (offset views)", x, in -> in.getFirst().narrow(2, 1, c - 1).narrow(0, 1, a - 1)));
        cases.add(summing("expand [A,1,C] → [A,4,C]", List.of(Input.normal(a, 1, c)),
                in -> in.getFirst().expand(Shape.of(a, 4, c))));
        cases.add(summing("expand with a new leading dim", List.of(Input.normal(b, c)),
                in -> in.getFirst().expand(Shape.of(3, b, c))));
        cases.add(exact("unsqueeze/squeeze", x, in -> in.getFirst().unsqueeze(1).unsqueeze(-1).squeeze(1)));
        cases.add(exact("flatten(1, 2)", x, in -> in.getFirst().flatten(1, 2)));
        cases.add(exact("flatten of a transposed view", x, in -> in.getFirst().transpose(0, 1).flatten(0, 1)));
        cases.add(exact("contiguousCopy of a permuted view", x, in -> in.getFirst().permute(2, 0, 1).contiguousCopy()));
        cases.add(exact("contiguous of a narrowed view", x, in -> in.getFirst().narrow(2, 1, c - 1).contiguous()));
        cases.add(summing("contiguousCopy of an expanded view", List.of(Input.normal(a, 1, c)),
                in -> in.getFirst().expand(Shape.of(a, 3, c)).contiguousCopy()));
        cases.add(exact("view chain then elementwise", x,
                in -> in.getFirst().transpose(0, 2).narrow(0, 1, c - 1).reshape(-1).mul(in.getFirst().narrow(2, 1, c - 1)
                        .permute(2, 1, 0).reshape(-1))));
    }

    private static void assembly(List<OpCase> cases) {
        Shapes s = new Shapes("assembly", 0);
        int a = s.small();
        int b = s.small();
        int c = s.dim(2, 5);
        cases.add(exact("concat dim 0 of three", List.of(Input.normal(a, c), Input.normal(1, c), Input.normal(b, c)),
                in -> Functional.concat(in, 0)));
        cases.add(exact("concat dim -1 (channels) of NHWC", List.of(Input.normal(2, a, b, c), Input.normal(2, a, b, 1)),
                in -> Functional.concat(in, -1)));
        cases.add(exact("concat of strided parts", List.of(Input.normal(c, a), Input.normal(a, b + 1)),
                in -> Functional.concat(List.of(in.get(0).transpose(0, 1), in.get(1).narrow(1, 1, b)), 1)));
        cases.add(exact("concat with a non-differentiable part", List.of(Input.normal(a, c), Input.constantNormal(b, c)),
                in -> Functional.concat(in, 0)));
        cases.add(exact("stack dim 0", List.of(Input.normal(a, c), Input.normal(a, c), Input.normal(a, c)),
                in -> Functional.stack(in, 0)));
        cases.add(exact("stack dim -1", List.of(Input.normal(a, c), Input.normal(a, c)),
                in -> Functional.stack(in, -1)));
        cases.add(exact("pad NHWC spatially (TF-same style, asymmetric)", List.of(Input.normal(2, a, b, c)),
                in -> Functional.pad(in.getFirst(), new int[]{0, 0, 1, 0}, new int[]{0, 1, 2, 0}, 0)));
        cases.add(exact("pad every dim with a value", List.of(Input.normal(a, c)),
                in -> Functional.pad(in.getFirst(), new int[]{1, 2}, new int[]{3, 0}, -1.5)));
        cases.add(exact("pad a strided view", List.of(Input.normal(c, a)),
                in -> Functional.pad(in.getFirst().transpose(0, 1), new int[]{1, 0}, new int[]{0, 2}, 0)));
    }

    private static void gather(List<OpCase> cases) {
        Shapes s = new Shapes("gather", 0);
        int a = s.dim(2, 4);
        int b = s.dim(3, 5);
        cases.add(exact("gather dim 1 (repeats)", List.of(Input.normal(a, b), Input.indices(b, a, b + 2)),
                in -> in.get(0).gather(1, in.get(1))));
        cases.add(new OpCase("gather dim 0 of a smaller index", Tolerance.EXACT,
                List.of(Input.normal(a, b), Input.indices(a, 2, b - 1)), in -> in.get(0).gather(0, in.get(1))));
        cases.add(exact("gather dim -1 of a strided tensor", List.of(Input.normal(b, a), Input.indices(b, a, 3)),
                in -> in.get(0).transpose(0, 1).gather(-1, in.get(1))));
        cases.add(exact("gather dim 2 of 3-D", List.of(Input.normal(2, a, b), Input.indices(b, 2, a, 2)),
                in -> in.get(0).gather(2, in.get(1))));
    }

    private static void casts(List<OpCase> cases) {
        int[] shape = {3, 7};
        for (DType target : new DType[]{DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16}) {
            double step = target == DType.BFLOAT16 ? 1 : target == DType.FLOAT16 ? 0.25 : 1e-2;
            double tol = target == DType.FLOAT64 ? 1e-4 : 1e-2;
            // Finite differences of a rounding function need steps far above its ulp; see GradCheckTest.
            cases.add(exact("cast float → " + target, List.of(Input.normal(shape)), in -> in.getFirst().to(target))
                    .withFiniteDifferences(step, tol));
            cases.add(exact("cast float → " + target + " → float32 of a strided view", List.of(Input.normal(shape)),
                    in -> in.getFirst().transpose(0, 1).to(target).to(DType.FLOAT32)).withFiniteDifferences(step, tol));
        }
        cases.add(exact("cast float32 → float64, arithmetic, back", List.of(Input.normal(shape)),
                in -> in.getFirst().to(DType.FLOAT64).mul(3).to(DType.FLOAT32)).withFiniteDifferences(1e-2, 1e-4));
        cases.add(new OpCase("cast float → float16 overflow and underflow", Tolerance.ELEMENTWISE, List.of(Input.normal(shape)),
                in -> in.getFirst().mul(7e4).to(DType.FLOAT16)).withoutFiniteDifferences());
        // Not exact: the gradient passes through mul(1e30), one fp32 rounding of a scalar product.
        cases.add(new OpCase("cast float → bfloat16 of large values", Tolerance.ELEMENTWISE, List.of(Input.normal(shape)),
                in -> in.getFirst().mul(1e30).to(DType.BFLOAT16)).withoutFiniteDifferences());
        for (DType target : new DType[]{DType.INT64, DType.INT32}) {
            cases.add(exact("cast float → " + target + " (truncates toward zero)", List.of(Input.constantNormal(shape)),
                    in -> in.getFirst().mul(50).to(target)));
        }
        cases.add(exact("cast float → uint8", List.of(Input.constantNormal(shape)),
                in -> in.getFirst().abs().mul(80).to(DType.UINT8)));
        for (DType source : new DType[]{DType.INT64, DType.INT32, DType.UINT8}) {
            int low = source == DType.UINT8 ? 0 : -1000;
            int high = source == DType.UINT8 ? 256 : 1000;
            for (DType target : new DType[]{DType.FLOAT32, DType.FLOAT64, DType.INT64, DType.INT32, DType.UINT8,
                    DType.FLOAT16, DType.BFLOAT16}) {
                if (target != source) {
                    cases.add(exact("cast " + source + " → " + target, List.of(Input.integers(source, low, high, shape)),
                            in -> in.getFirst().to(target)));
                }
            }
        }
    }
}
