package dev.vertebra.core.conformance;

import dev.vertebra.core.Activation;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Functional;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.PoolSpec;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;

/**
 * Shapes large enough for a fast backend's vector bodies, odd sizes for its tails, and more elements than one
 * parallel chunk (tens of thousands), so the other groups' small shapes are not the only ones checked. The
 * float64 finite-difference check leaves these out (the small cases cover the same backward rules).
 */
final class LargeCases {

    private LargeCases() {
    }

    static List<OpCase> all() {
        List<OpCase> cases = new ArrayList<>();
        int[] big = {3, 50, 301};
        int[] nhwc = {2, 20, 30, 67};
        List<Binary> binaries = List.of(new Binary("add", Tensor::add), new Binary("mul", Tensor::mul),
                new Binary("div", Tensor::div), new Binary("maximum", Tensor::maximum));
        for (Binary op : binaries) {
            cases.add(large("large " + op.name() + " same shape [3, 50, 301]", Tolerance.ELEMENTWISE,
                    List.of(Input.normal(big), positiveIfDiv(op, big)), in -> op.fn().apply(in.get(0), in.get(1))));
            cases.add(large("large " + op.name() + " channel-last broadcast [2, 20, 30, 67] [67]",
                    new Tolerance(1e-5, 1e-5, "the [C] operand's gradient sums 1200 rows in fp32"),
                    List.of(Input.normal(nhwc), positiveIfDiv(op, 67)), in -> op.fn().apply(in.get(0), in.get(1))));
            cases.add(large("large " + op.name() + " SE-gate broadcast [2, 20, 30, 67] [2, 1, 1, 67]",
                    new Tolerance(1e-5, 1e-5, "the gate's gradient sums 600 rows in fp32"),
                    List.of(Input.normal(nhwc), positiveIfDiv(op, 2, 1, 1, 67)),
                    in -> op.fn().apply(in.get(0), in.get(1))));
            cases.add(large("large " + op.name() + " channel-last broadcast, lhs at an offset [1 of 2, 20, 30, 67] [67]",
                    new Tolerance(1e-5, 1e-5, "the [C] operand's gradient sums 600 rows in fp32"),
                    List.of(Input.normal(nhwc), positiveIfDiv(op, 67)),
                    in -> op.fn().apply(in.get(0).narrow(0, 1, 1), in.get(1))));
            cases.add(large("large " + op.name() + " strided (permuted) lhs [301, 50, 3]", Tolerance.ELEMENTWISE,
                    List.of(Input.normal(301, 50, 3), positiveIfDiv(op, big)),
                    in -> op.fn().apply(in.get(0).permute(2, 1, 0), in.get(1))));
        }
        List<Unary> unaries = List.of(new Unary("exp", Tensor::exp), new Unary("sigmoid", Tensor::sigmoid),
                new Unary("silu", Tensor::silu), new Unary("tanh", Tensor::tanh), new Unary("softplus", Tensor::softplus),
                new Unary("relu", Tensor::relu), new Unary("mul(3).add(1)", t -> t.mul(3).add(1)),
                new Unary("pow(2)", t -> t.pow(2)));
        for (Unary op : unaries) {
            cases.add(large("large " + op.name() + " [3, 50, 301]", Tolerance.ELEMENTWISE, List.of(Input.normal(big)),
                    in -> op.fn().apply(in.getFirst())));
            cases.add(large("large " + op.name() + " strided [3, 50, 301]ᵀ", Tolerance.ELEMENTWISE,
                    List.of(Input.normal(big)), in -> op.fn().apply(in.getFirst().transpose(0, 2))));
        }
        cases.add(large("large log [3, 50, 301]", Tolerance.ELEMENTWISE, List.of(Input.positive(big)),
                in -> in.getFirst().log()));
        int[] cube = {40, 50, 37};
        for (int[] dims : new int[][]{{2}, {0}, {1}, {0, 1}, {0, 1, 2}}) {
            for (boolean keep : new boolean[]{false, true}) {
                String d = java.util.Arrays.toString(dims) + (keep ? " keepDim" : "");
                cases.add(large("large sum " + d, Tolerance.ACCUMULATING, List.of(Input.normal(cube)),
                        in -> in.getFirst().sum(keep, dims)));
                cases.add(large("large max " + d, Tolerance.ELEMENTWISE, List.of(Input.normal(cube)),
                        in -> in.getFirst().max(keep, dims)));
                cases.add(large("large var " + d, Tolerance.CANCELLING, List.of(Input.normal(cube)),
                        in -> in.getFirst().var(1, keep, dims)));
            }
        }
        cases.add(large("large mean of a strided view", Tolerance.ACCUMULATING, List.of(Input.normal(cube)),
                in -> in.getFirst().permute(2, 0, 1).mean(false, 0, 2)));
        matmulAndConv(cases);
        return cases;
    }

    private static void matmulAndConv(List<OpCase> cases) {
        Tolerance gemm = new Tolerance(1e-5, 2e-5, "fp32 GEMM/convolution sums of a few hundred products");
        cases.add(large("large matmul [130, 70] · [70, 150]", gemm, List.of(Input.normal(130, 70), Input.normal(70, 150)),
                in -> in.get(0).matmul(in.get(1))));
        cases.add(large("large batched matmul [3, 65, 40] · [3, 40, 33]", gemm,
                List.of(Input.normal(3, 65, 40), Input.normal(3, 40, 33)), in -> in.get(0).matmul(in.get(1))));
        cases.add(large("large matmul of transposed views [70, 130]ᵀ · [150, 70]ᵀ", gemm,
                List.of(Input.normal(70, 130), Input.normal(150, 70)),
                in -> in.get(0).transpose(0, 1).matmul(in.get(1).transpose(0, 1))));
        cases.add(large("large linear [96, 200] → 120", gemm,
                List.of(Input.normal(96, 200), Input.normal(120, 200), Input.normal(120)),
                in -> Functional.linear(in.get(0), in.get(1), in.get(2))));
        cases.add(large("large conv2d 3x3 s1 p1 [2, 20, 20, 16] → 24", gemm,
                List.of(Input.normal(2, 20, 20, 16), Input.normal(3, 3, 16, 24), Input.normal(24)),
                in -> Functional.conv2d(in.get(0), in.get(1), in.get(2), ConvSpec.of(1, 1, 1, 1))));
        cases.add(large("large conv2d 1x1 [2, 16, 16, 32] → 48", gemm,
                List.of(Input.normal(2, 16, 16, 32), Input.normal(1, 1, 32, 48)),
                in -> Functional.conv2d(in.get(0), in.get(1), null, ConvSpec.of(1, 0, 1, 1))));
        cases.add(large("large conv2d 3x3 s2 TF-same [2, 17, 17, 24] → 40", gemm,
                List.of(Input.normal(2, 17, 17, 24), Input.normal(3, 3, 24, 40)),
                in -> Functional.conv2d(in.get(0), in.get(1), null, ConvSpec.same(17, 17, 3, 3, 2, 1, 1))));
        cases.add(large("large depthwise 3x3 s1 p1 [2, 19, 21, 40]", gemm,
                List.of(Input.normal(2, 19, 21, 40), Input.normal(3, 3, 1, 40), Input.normal(40)),
                in -> Functional.conv2d(in.get(0), in.get(1), in.get(2), ConvSpec.of(1, 1, 1, 40))));
        cases.add(large("large depthwise 5x5 s2 TF-same [2, 18, 18, 36]", gemm,
                List.of(Input.normal(2, 18, 18, 36), Input.normal(5, 5, 1, 36)),
                in -> Functional.conv2d(in.get(0), in.get(1), null, ConvSpec.same(18, 18, 5, 5, 2, 1, 36))));
        cases.add(large("large grouped conv 3x3 groups 4 [2, 12, 12, 32] → 32", gemm,
                List.of(Input.normal(2, 12, 12, 32), Input.normal(3, 3, 8, 32)),
                in -> Functional.conv2d(in.get(0), in.get(1), null, ConvSpec.of(1, 1, 1, 4))));
        // A stem (few input channels, whole output vectors) takes the direct small-channel kernel: borders,
        // stride 2, asymmetric padding, dilation, and the fused evaluation epilogue.
        cases.add(large("large stem conv 3x3 s2 p1 [2, 17, 19, 3] → 32", gemm,
                List.of(Input.normal(2, 17, 19, 3), Input.normal(3, 3, 3, 32), Input.normal(32)),
                in -> Functional.conv2d(in.get(0), in.get(1), in.get(2), ConvSpec.of(2, 1, 1, 1))));
        cases.add(large("large stem conv 5x5 TF-same dilation 2 [1, 12, 13, 4] → 16", gemm,
                List.of(Input.normal(1, 12, 13, 4), Input.normal(5, 5, 4, 16)),
                in -> Functional.conv2d(in.get(0), in.get(1), null, ConvSpec.same(12, 13, 5, 5, 1, 2, 1))));
        cases.add(large("large stem conv2dBatchNormEval 3x3 s2 TF-same [2, 18, 16, 1] → 48, SiLU (fused, no grad)",
                gemm, List.of(Input.normal(2, 18, 16, 1), Input.normal(3, 3, 1, 48), Input.constantNormal(48),
                        Input.constantPositive(48), Input.normal(48), Input.normal(48)), in -> {
                    try (NoGrad _ = NoGrad.enter()) {
                        return Functional.conv2dBatchNormEval(in.get(0), in.get(1), null,
                                ConvSpec.same(18, 16, 3, 3, 2, 1, 1), in.get(2), in.get(3), in.get(4), in.get(5),
                                1e-3, Activation.SILU);
                    }
                }));
        cases.add(large("large conv2d on a strided (NCHW permuted) input [2, 16, 14, 14]", gemm,
                List.of(Input.normal(2, 16, 14, 14), Input.normal(3, 3, 16, 8)),
                in -> Functional.conv2d(in.get(0).permute(0, 2, 3, 1), in.get(1), null, ConvSpec.of(1, 1, 1, 1))));
        // The fused evaluation conv → BN → SiLU through the large-GEMM path: 1,024 pixel rows share one packed B,
        // and 1,040 output channels make two column tiles, so the epilogue sees tiles that start past channel 0.
        cases.add(large("large conv2dBatchNormEval 1x1 [1, 32, 32, 24] → 1040, SiLU (fused, no grad)", gemm,
                List.of(Input.normal(1, 32, 32, 24), Input.normal(1, 1, 24, 1040), Input.constantNormal(1040),
                        Input.constantPositive(1040), Input.normal(1040), Input.normal(1040)), in -> {
                    try (NoGrad _ = NoGrad.enter()) {
                        return Functional.conv2dBatchNormEval(in.get(0), in.get(1), null, ConvSpec.of(1, 0, 1, 1),
                                in.get(2), in.get(3), in.get(4), in.get(5), 1e-3, Activation.SILU);
                    }
                }));
        cases.add(large("large conv2dBatchNormEval gated 1x1 [3, 20, 20, 72] → 40 (fused, no grad)", gemm,
                List.of(Input.normal(3, 20, 20, 72), Input.positive(3, 1, 1, 72), Input.normal(1, 1, 72, 40),
                        Input.constantNormal(40), Input.constantPositive(40), Input.normal(40), Input.normal(40)),
                in -> {
                    try (NoGrad _ = NoGrad.enter()) {
                        return Functional.conv2dBatchNormEval(in.get(0), in.get(1), in.get(2), null,
                                ConvSpec.of(1, 0, 1, 1), in.get(3), in.get(4), in.get(5), in.get(6), 1e-3,
                                Activation.NONE);
                    }
                }));
        // Cout ≥ H·W: the gate scales x instead of the weights.
        cases.add(large("large conv2dBatchNormEval gated 1x1 [2, 3, 3, 40] → 48, SiLU (fused, no grad)", gemm,
                List.of(Input.normal(2, 3, 3, 40), Input.positive(2, 1, 1, 40), Input.normal(1, 1, 40, 48),
                        Input.constantNormal(48), Input.constantPositive(48), Input.normal(48), Input.normal(48)),
                in -> {
                    try (NoGrad _ = NoGrad.enter()) {
                        return Functional.conv2dBatchNormEval(in.get(0), in.get(1), in.get(2), null,
                                ConvSpec.of(1, 0, 1, 1), in.get(3), in.get(4), in.get(5), in.get(6), 1e-3,
                                Activation.SILU);
                    }
                }));
        cases.add(large("large conv2dBatchNormEval depthwise 3x3 [2, 19, 21, 40], no activation (fused, no grad)", gemm,
                List.of(Input.normal(2, 19, 21, 40), Input.normal(3, 3, 1, 40), Input.constantNormal(40),
                        Input.constantPositive(40), Input.normal(40), Input.normal(40)), in -> {
                    try (NoGrad _ = NoGrad.enter()) {
                        return Functional.conv2dBatchNormEval(in.get(0), in.get(1), null, ConvSpec.of(1, 1, 1, 40),
                                in.get(2), in.get(3), in.get(4), in.get(5), 1e-3, Activation.NONE);
                    }
                }));
        // An inverted bottleneck's expansion and depthwise layers as one op: one image split into bands whose
        // sub-bands carry shared rows forward (5×5 stride 2, TensorFlow padding), and a batch at stride 1.
        cases.add(chain("large conv2dBatchNormEvalChain 1x1 → depthwise 5x5 s2 TF-same [1, 41, 40, 16] → 400 "
                + "(fused, no grad)", gemm, 1, 41, 40, 16, 400, 5, ConvSpec.same(41, 40, 5, 5, 2, 1, 400)));
        cases.add(chain("large conv2dBatchNormEvalChain 1x1 → depthwise 3x3 s1 [3, 17, 15, 24] → 148 (fused, no grad)",
                gemm, 3, 17, 15, 24, 148, 3, ConvSpec.of(1, 1, 1, 148)));
        // The same with the squeeze-excitation's pooling taken row by row (whole images per task): its mean.
        cases.add(chain("large conv2dBatchNormEvalChainWithMean 1x1 → depthwise 3x3 s2 [8, 30, 29, 16] → 96, the mean "
                + "(fused, no grad)", gemm, 8, 30, 29, 16, 96, 3, ConvSpec.of(2, 1, 1, 96), true));
        cases.add(large("large conv2dBatchNormEvalWithMean depthwise 3x3 [8, 26, 25, 32], the mean (fused, no grad)",
                gemm, List.of(Input.normal(8, 26, 25, 32), Input.normal(3, 3, 1, 32), Input.constantNormal(32),
                        Input.constantPositive(32), Input.normal(32), Input.normal(32)), in -> {
                    try (NoGrad _ = NoGrad.enter()) {
                        return Functional.conv2dBatchNormEvalWithMean(in.get(0), new Functional.ConvBatchNorm(
                                in.get(1), null, ConvSpec.of(1, 1, 1, 32), in.get(2), in.get(3), in.get(4),
                                in.get(5), 1e-3, Activation.SILU)).mean();
                    }
                }));
        for (boolean training : new boolean[]{true, false}) {
            cases.add(large("large batchNorm " + (training ? "train" : "eval") + " [4, 12, 12, 40]", Tolerance.CANCELLING,
                    List.of(Input.normal(4, 12, 12, 40), Input.normal(40), Input.normal(40), Input.constantNormal(40),
                            Input.constantPositive(40)),
                    in -> Functional.batchNorm(in.get(0), in.get(3), in.get(4), in.get(1), in.get(2), training, 0.1,
                            1e-5)));
        }
        // Channel counts with and without a partial vector per row (67 = 4·16 + 3, 96 = 6·16), and a strided input.
        for (int[] dims : new int[][]{{4, 12, 12, 96}, {2, 9, 11, 67}}) {
            int c = dims[3];
            cases.add(large("large batchNormSilu train " + java.util.Arrays.toString(dims), Tolerance.CANCELLING,
                    List.of(Input.normal(dims), Input.normal(c), Input.normal(c), Input.constantNormal(c),
                            Input.constantPositive(c)),
                    in -> Functional.batchNormSilu(in.get(0), in.get(3), in.get(4), in.get(1), in.get(2), true, 0.1,
                            1e-5)));
        }
        cases.add(large("large batchNormSilu train, strided input [2, 40, 13, 14]", Tolerance.CANCELLING,
                List.of(Input.normal(2, 40, 13, 14), Input.normal(40), Input.normal(40)),
                in -> Functional.batchNormSilu(in.get(0).permute(0, 2, 3, 1), null, null, in.get(1), in.get(2), true,
                        0.1, 1e-5)));
        for (PoolSpec spec : List.of(PoolSpec.max(3, 2, 1), PoolSpec.avg(3, 2, 1), PoolSpec.max(2, 2, 0))) {
            cases.add(large("large pool2d " + spec + " [2, 21, 20, 35]", Tolerance.ELEMENTWISE,
                    List.of(Input.normal(2, 21, 20, 35)), in -> Functional.pool2d(in.getFirst(), spec)));
        }
        cases.add(large("large globalAvgPool [2, 21, 20, 35]", Tolerance.ACCUMULATING,
                List.of(Input.normal(2, 21, 20, 35)), in -> Functional.globalAvgPool(in.getFirst())));
        cases.add(large("large softmax [64, 1000]", Tolerance.CANCELLING, List.of(Input.normal(64, 1000)),
                in -> Functional.softmax(in.getFirst(), 1)));
        cases.add(large("large crossEntropy smoothing 0.1 [256, 100]", Tolerance.CANCELLING,
                List.of(Input.normal(256, 100), Input.indices(100, 256)),
                in -> Functional.crossEntropy(in.get(0), in.get(1), 0.1, Reduction.MEAN)));
        cases.add(large("large BCE with logits, pos_weight [256, 130]", Tolerance.CANCELLING,
                List.of(Input.normal(256, 130), Input.probabilities(256, 130), Input.constantPositive(130)),
                in -> Functional.binaryCrossEntropyWithLogits(in.get(0).mul(8), in.get(1), null, in.get(2),
                        Reduction.MEAN)));
    }

    private record Binary(String name, BinaryOperator<Tensor> fn) {
    }

    private record Unary(String name, UnaryOperator<Tensor> fn) {
    }

    private static Input positiveIfDiv(Binary op, int... shape) {
        return op.name().equals("div") ? Input.positive(shape) : Input.normal(shape);
    }

    /**
     * {@link Functional#conv2dBatchNormEvalChain} of a 1×1 expansion cin → c and a k×k depthwise convolution
     * (spec), each with an evaluation batch norm and SiLU, on x [n, h, w, cin].
     */
    private static OpCase chain(String name, Tolerance tolerance, int n, int h, int w, int cin, int c, int k,
                                ConvSpec depthwise) {
        return chain(name, tolerance, n, h, w, cin, c, k, depthwise, false);
    }

    /** {@link #chain} giving, when {@code mean}, the output's mean over H and W instead of the output. */
    private static OpCase chain(String name, Tolerance tolerance, int n, int h, int w, int cin, int c, int k,
                                ConvSpec depthwise, boolean mean) {
        return large(name, tolerance, List.of(Input.normal(n, h, w, cin), Input.normal(1, 1, cin, c),
                Input.constantNormal(c), Input.constantPositive(c), Input.normal(c), Input.normal(c),
                Input.normal(k, k, 1, c), Input.constantNormal(c), Input.constantPositive(c), Input.normal(c),
                Input.normal(c)), in -> {
                    try (NoGrad _ = NoGrad.enter()) {
                        Functional.ConvBatchNorm first = new Functional.ConvBatchNorm(in.get(1), null,
                                ConvSpec.of(1, 0, 1, 1), in.get(2), in.get(3), in.get(4), in.get(5), 1e-3,
                                Activation.SILU);
                        Functional.ConvBatchNorm second = new Functional.ConvBatchNorm(in.get(6), null, depthwise,
                                in.get(7), in.get(8), in.get(9), in.get(10), 1e-3, Activation.SILU);
                        return mean ? Functional.conv2dBatchNormEvalChainWithMean(in.get(0), first, second).mean()
                                : Functional.conv2dBatchNormEvalChain(in.get(0), first, second);
                    }
                });
    }

    private static OpCase large(String name, Tolerance tolerance, List<Input> inputs, OpCase.Op op) {
        return new OpCase(name, tolerance, inputs, op).withoutFiniteDifferences();
    }
}
