package dev.vertebra.core.conformance;

import dev.vertebra.core.Functional;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** softmax/logSoftmax, dropout and drop-path (seeded masks), and the three losses. */
final class NnCases {

    private NnCases() {
    }

    static List<OpCase> all() {
        List<OpCase> cases = new ArrayList<>();
        softmax(cases);
        dropout(cases);
        losses(cases);
        return cases;
    }

    private static void softmax(List<OpCase> cases) {
        Shapes s = new Shapes("softmax", 0);
        int[] shape = {s.small(), s.small(), s.dim(3, 7)};
        String dims = " " + Arrays.toString(shape);
        for (int dim : new int[]{-1, 0, 1}) {
            cases.add(new OpCase("softmax dim " + dim + dims, Tolerance.CANCELLING, List.of(Input.normal(shape)),
                    in -> Functional.softmax(in.getFirst(), dim)));
            cases.add(new OpCase("logSoftmax dim " + dim + dims, Tolerance.CANCELLING, List.of(Input.normal(shape)),
                    in -> Functional.logSoftmax(in.getFirst(), dim)));
        }
        cases.add(new OpCase("softmax of large logits (×30, stability)" + dims, Tolerance.CANCELLING,
                List.of(Input.normal(shape)), in -> Functional.softmax(in.getFirst().mul(30), -1)));
        cases.add(new OpCase("logSoftmax strided (permuted)" + dims, Tolerance.CANCELLING,
                List.of(Input.normal(shape)), in -> Functional.logSoftmax(in.getFirst().permute(2, 0, 1), 0)));
    }

    private static void dropout(List<OpCase> cases) {
        // Each call builds its generator from the same seed: every device must draw the same mask.
        int[] shape = {3, 4, 5, 6};
        String dims = " " + Arrays.toString(shape);
        cases.add(new OpCase("dropout p 0.3 training" + dims, Tolerance.ELEMENTWISE, List.of(Input.normal(shape)),
                in -> Functional.dropout(in.getFirst(), 0.3, true, new Generator(11))));
        cases.add(new OpCase("dropout p 0.5 training, strided input" + dims, Tolerance.ELEMENTWISE,
                List.of(Input.normal(shape)),
                in -> Functional.dropout(in.getFirst().transpose(1, 3), 0.5, true, new Generator(12))));
        cases.add(new OpCase("dropout p 0.3 evaluation (identity)" + dims, Tolerance.EXACT,
                List.of(Input.normal(shape)), in -> Functional.dropout(in.getFirst(), 0.3, false, new Generator(13))));
        cases.add(new OpCase("dropout p 0 training (identity)" + dims, Tolerance.EXACT,
                List.of(Input.normal(shape)), in -> Functional.dropout(in.getFirst(), 0, true, new Generator(14))));
        cases.add(new OpCase("dropPath p 0.5 training" + dims, Tolerance.ELEMENTWISE, List.of(Input.normal(shape)),
                in -> Functional.dropPath(in.getFirst(), 0.5, true, new Generator(15))));
        cases.add(new OpCase("dropPath p 0.2 training, 8 samples [8, 3, 2]", Tolerance.ELEMENTWISE,
                List.of(Input.normal(8, 3, 2)),
                in -> Functional.dropPath(in.getFirst(), 0.2, true, new Generator(16))));
        cases.add(new OpCase("dropPath p 0.5 evaluation (identity)" + dims, Tolerance.EXACT,
                List.of(Input.normal(shape)), in -> Functional.dropPath(in.getFirst(), 0.5, false, new Generator(17))));
    }

    private static void losses(List<OpCase> cases) {
        Shapes s = new Shapes("losses", 0);
        int b = s.dim(3, 5);
        int c = s.dim(3, 6);
        String dims = " [" + b + ", " + c + "]";
        Tolerance tol = Tolerance.CANCELLING;
        for (Reduction r : Reduction.values()) {
            // ×8 spreads the logits to about ±25, where a naive log(1 + eˣ) or log σ(x) loses everything.
            cases.add(new OpCase("BCE with logits " + r + dims, tol,
                    List.of(Input.normal(b, c), Input.probabilities(b, c)),
                    in -> Functional.binaryCrossEntropyWithLogits(in.get(0).mul(8), in.get(1), null, null, r)));
            cases.add(new OpCase("BCE with logits, element weights " + r + dims, tol,
                    List.of(Input.normal(b, c), Input.probabilities(b, c), Input.constantPositive(b, c)),
                    in -> Functional.binaryCrossEntropyWithLogits(in.get(0).mul(8), in.get(1), in.get(2), null, r)));
            cases.add(new OpCase("BCE with logits, column weights [C] " + r + dims, tol,
                    List.of(Input.normal(b, c), Input.probabilities(b, c), Input.constantPositive(c)),
                    in -> Functional.binaryCrossEntropyWithLogits(in.get(0).mul(8), in.get(1), in.get(2), null, r)));
            cases.add(new OpCase("BCE with logits, pos_weight [C] " + r + dims, tol,
                    List.of(Input.normal(b, c), Input.probabilities(b, c), Input.constantPositive(c)),
                    in -> Functional.binaryCrossEntropyWithLogits(in.get(0).mul(8), in.get(1), null, in.get(2), r)));
            cases.add(new OpCase("BCE with logits, weights and pos_weight " + r + dims, tol,
                    List.of(Input.normal(b, c), Input.probabilities(b, c), Input.constantPositive(c),
                            Input.constantPositive(c)),
                    in -> Functional.binaryCrossEntropyWithLogits(in.get(0).mul(8), in.get(1), in.get(2), in.get(3),
                            r)));
            for (double smoothing : new double[]{0, 0.1, 1}) {
                cases.add(new OpCase("crossEntropy smoothing " + smoothing + " " + r + dims, tol,
                        List.of(Input.normal(b, c), Input.indices(c, b)),
                        in -> Functional.crossEntropy(in.get(0), in.get(1), smoothing, r)));
            }
            cases.add(new OpCase("mseLoss " + r + dims, tol, List.of(Input.normal(b, c), Input.normal(b, c)),
                    in -> Functional.mseLoss(in.get(0), in.get(1), r)));
        }
        cases.add(new OpCase("crossEntropy on strided logits (transposed)" + dims, tol,
                List.of(Input.normal(c, b), Input.indices(c, b)),
                in -> Functional.crossEntropy(in.get(0).transpose(0, 1), in.get(1), 0.1, Reduction.MEAN)));
    }
}
