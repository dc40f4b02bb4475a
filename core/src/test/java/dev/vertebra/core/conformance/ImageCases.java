package dev.vertebra.core.conformance;

import dev.vertebra.core.Activation;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Functional;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.PoolSpec;
import dev.vertebra.core.Tensor;

import java.util.ArrayList;
import java.util.List;

/** NHWC image ops: conv2d (every geometry), batch norm (train with running-stat update, eval), pooling. */
final class ImageCases {

    private ImageCases() {
    }

    static List<OpCase> all() {
        List<OpCase> cases = new ArrayList<>();
        for (int v = 0; v < 2; v++) {
            conv(cases, v);
        }
        batchNorm(cases);
        batchNormSilu(cases);
        convBatchNormEval(cases);
        convGated(cases);
        pool(cases);
        return cases;
    }

    /**
     * A squeeze-and-excitation gate taken into the 1×1 projection after it ({@link Functional#conv2dGated}), forward
     * and all three gradients: output channels fewer than the pixels (the CPU folds the gate into the weights) and
     * more (it scales x), narrow and wide enough for whole micro-panels.
     */
    private static void convGated(List<OpCase> cases) {
        int[][] shapes = {{2, 6, 5, 24, 16}, {2, 9, 8, 40, 80}};
        for (int[] sh : shapes) {
            cases.add(new OpCase("conv2dGated x [" + sh[0] + ", " + sh[1] + ", " + sh[2] + ", " + sh[3] + "] → "
                    + sh[4], Tolerance.ACCUMULATING, List.of(Input.normal(sh[0], sh[1], sh[2], sh[3]),
                    Input.positive(sh[0], 1, 1, sh[3]), Input.normal(1, 1, sh[3], sh[4])),
                    in -> Functional.conv2dGated(in.get(0), in.get(1), in.get(2), ConvSpec.of(1, 0, 1, 1))));
        }
    }

    /** A convolution geometry; {@code spec} gets the input's height and width (for TF "SAME" padding). */
    private record Conv(String name, int cin, int cout, int kh, int kw, SpecFor spec, boolean bias, boolean strided) {
    }

    @FunctionalInterface
    private interface SpecFor {
        ConvSpec of(int h, int w);
    }

    private static void conv(List<OpCase> cases, int variant) {
        Shapes s = new Shapes("conv", variant);
        int n = s.dim(1, 2);
        int h = s.dim(5, 9);
        int w = s.dim(4, 8);
        int c = 2 * s.dim(1, 2);
        List<Conv> convs = List.of(
                new Conv("1x1 (a GEMM)", c, 5, 1, 1, (y, x) -> ConvSpec.of(1, 0, 1, 1), true, false),
                new Conv("1x1 stride 2", c, 3, 1, 1, (y, x) -> ConvSpec.of(2, 0, 1, 1), false, false),
                new Conv("3x3 s1 p1 bias", c, 5, 3, 3, (y, x) -> ConvSpec.of(1, 1, 1, 1), true, false),
                new Conv("3x3 s2 p1 no bias", c, 6, 3, 3, (y, x) -> ConvSpec.of(2, 1, 1, 1), false, false),
                new Conv("3x3 valid (no padding)", c, 3, 3, 3, (y, x) -> ConvSpec.of(1, 0, 1, 1), true, false),
                new Conv("3x3 s2 TF-same (asymmetric)", c, 4, 3, 3, (y, x) -> ConvSpec.same(y, x, 3, 3, 2, 1, 1),
                        true, false),
                new Conv("3x3 s1 TF-same", c, 4, 3, 3, (y, x) -> ConvSpec.same(y, x, 3, 3, 1, 1, 1), false, false),
                new Conv("5x5 s2 p2", c, 3, 5, 5, (y, x) -> ConvSpec.of(2, 2, 1, 1), true, false),
                new Conv("5x5 s2 TF-same", c, 3, 5, 5, (y, x) -> ConvSpec.same(y, x, 5, 5, 2, 1, 1), false, false),
                new Conv("3x3 dilation 2 p2", c, 4, 3, 3, (y, x) -> ConvSpec.of(1, 2, 2, 1), true, false),
                new Conv("3x3 dilation 2 TF-same", c, 4, 3, 3, (y, x) -> ConvSpec.same(y, x, 3, 3, 1, 2, 1), false,
                        false),
                new Conv("3x3 groups 2", c, 4, 3, 3, (y, x) -> ConvSpec.of(1, 1, 1, 2), true, false),
                new Conv("depthwise 3x3 s1 p1", c, c, 3, 3, (y, x) -> ConvSpec.of(1, 1, 1, c), false, false),
                new Conv("depthwise 3x3 s2 p1 bias", c, c, 3, 3, (y, x) -> ConvSpec.of(2, 1, 1, c), true, false),
                new Conv("depthwise 5x5 s2 TF-same", c, c, 5, 5, (y, x) -> ConvSpec.same(y, x, 5, 5, 2, 1, c), false,
                        false),
                new Conv("depthwise multiplier 2 3x3", c, 2 * c, 3, 3, (y, x) -> ConvSpec.of(1, 1, 1, c), false,
                        false),
                new Conv("non-square 3x1 kernel, stride (2,1), pads (1,0,0,2)", c, 3, 3, 1,
                        (y, x) -> new ConvSpec(2, 1, 1, 0, 0, 2, 1, 1, 1), true, false),
                new Conv("non-square 1x3 kernel, dilation (1,2)", c, 3, 1, 3,
                        (y, x) -> new ConvSpec(1, 1, 0, 0, 2, 2, 1, 2, 1), false, false),
                new Conv("strided input and weight views (NCHW/OIHW permuted)", c, 4, 3, 3,
                        (y, x) -> ConvSpec.of(1, 1, 1, 1), true, true),
                new Conv("strided depthwise views", c, c, 3, 3, (y, x) -> ConvSpec.of(2, 1, 1, c), false, true));
        for (Conv conv : convs) {
            ConvSpec spec = conv.spec().of(h, w);
            int cinPerGroup = conv.cin() / spec.groups();
            List<Input> inputs = new ArrayList<>();
            if (conv.strided()) {
                inputs.add(Input.normal(n, conv.cin(), h, w));                         // NCHW, viewed as NHWC
                inputs.add(Input.normal(conv.cout(), cinPerGroup, conv.kh(), conv.kw()));  // OIHW, viewed as HWIO
            } else {
                inputs.add(Input.normal(n, h, w, conv.cin()));
                inputs.add(Input.normal(conv.kh(), conv.kw(), cinPerGroup, conv.cout()));
            }
            if (conv.bias()) {
                inputs.add(Input.normal(conv.cout()));
            }
            cases.add(new OpCase("conv2d " + conv.name() + " x [" + n + ", " + h + ", " + w + ", " + conv.cin()
                    + "] → " + conv.cout() + " #" + variant, Tolerance.ACCUMULATING, inputs, in -> {
                        Tensor x = conv.strided() ? in.get(0).permute(0, 2, 3, 1) : in.get(0);
                        Tensor wt = conv.strided() ? in.get(1).permute(2, 3, 1, 0) : in.get(1);
                        return Functional.conv2d(x, wt, conv.bias() ? in.get(2) : null, spec);
                    }));
        }
    }

    private static void batchNorm(List<OpCase> cases) {
        Shapes s = new Shapes("batchNorm", 0);
        int n = s.dim(2, 3);
        int h = s.dim(2, 4);
        int w = s.dim(2, 4);
        int c = s.dim(2, 5);
        int[][] shapes = {{n, h, w, c}, {n * h, c}};
        for (int[] shape : shapes) {
            String dims = java.util.Arrays.toString(shape);
            for (boolean training : new boolean[]{true, false}) {
                String mode = training ? "train" : "eval";
                for (double[] mEps : new double[][]{{0.1, 1e-5}, {0.01, 1e-3}}) {
                    cases.add(new OpCase("batchNorm " + mode + " momentum " + mEps[0] + " eps " + mEps[1] + " " + dims,
                            Tolerance.CANCELLING, List.of(Input.normal(shape), Input.normal(c), Input.normal(c),
                            Input.constantNormal(c), Input.constantPositive(c)),
                            in -> Functional.batchNorm(in.get(0), in.get(3), in.get(4), in.get(1), in.get(2), training,
                                    mEps[0], mEps[1])));
                }
            }
            cases.add(new OpCase("batchNorm train without running stats " + dims, Tolerance.CANCELLING,
                    List.of(Input.normal(shape), Input.normal(c), Input.normal(c)),
                    in -> Functional.batchNorm(in.get(0), null, null, in.get(1), in.get(2), true, 0.1, 1e-5)));
            cases.add(new OpCase("batchNorm train without affine parameters " + dims, Tolerance.CANCELLING,
                    List.of(Input.normal(shape), Input.constantNormal(c), Input.constantPositive(c)),
                    in -> Functional.batchNorm(in.get(0), in.get(1), in.get(2), null, null, true, 0.1, 1e-5)));
        }
        cases.add(new OpCase("batchNorm train, strided (NCHW permuted) input [" + n + ", " + c + ", " + h + ", " + w
                + "]", Tolerance.CANCELLING, List.of(Input.normal(n, c, h, w), Input.normal(c), Input.normal(c),
                Input.constantNormal(c), Input.constantPositive(c)),
                in -> Functional.batchNorm(in.get(0).permute(0, 2, 3, 1), in.get(3), in.get(4), in.get(1), in.get(2),
                        true, 0.1, 1e-5)));
    }

    /** The fused batch norm + SiLU: training (fused), evaluation (composite), no affine, a strided input. */
    private static void batchNormSilu(List<OpCase> cases) {
        Shapes s = new Shapes("batchNormSilu", 0);
        int n = s.dim(2, 3);
        int h = s.dim(2, 4);
        int w = s.dim(2, 4);
        int c = s.dim(2, 5);
        int[] shape = {n, h, w, c};
        String dims = java.util.Arrays.toString(shape);
        for (boolean training : new boolean[]{true, false}) {
            cases.add(new OpCase("batchNormSilu " + (training ? "train " : "eval ") + dims, Tolerance.CANCELLING,
                    List.of(Input.normal(shape), Input.normal(c), Input.normal(c), Input.constantNormal(c),
                            Input.constantPositive(c)),
                    in -> Functional.batchNormSilu(in.get(0), in.get(3), in.get(4), in.get(1), in.get(2), training,
                            0.1, 1e-5)));
        }
        cases.add(new OpCase("batchNormSilu train without affine parameters " + dims, Tolerance.CANCELLING,
                List.of(Input.normal(shape), Input.constantNormal(c), Input.constantPositive(c)),
                in -> Functional.batchNormSilu(in.get(0), in.get(1), in.get(2), null, null, true, 0.1, 1e-5)));
        cases.add(new OpCase("batchNormSilu train, strided (NCHW permuted) input [" + n + ", " + c + ", " + h + ", "
                + w + "]", Tolerance.CANCELLING, List.of(Input.normal(n, c, h, w), Input.normal(c), Input.normal(c)),
                in -> Functional.batchNormSilu(in.get(0).permute(0, 2, 3, 1), null, null, in.get(1), in.get(2), true,
                        0.1, 1e-5)));
    }

    /**
     * Evaluation-mode conv → batch norm → activation ({@link Functional#conv2dBatchNormEval}): without autograd the
     * fused backend op (forward only), for every kernel family (1×1 GEMM, grouped 1×1, im2col, depthwise with and
     * without a partial vector per row), every activation, with and without the conv bias and the batch norm's
     * affine parameters, and on a strided input; with autograd recording, the separate ops and their gradients.
     */
    private static void convBatchNormEval(List<OpCase> cases) {
        Shapes s = new Shapes("convBatchNormEval", 0);
        int n = s.dim(1, 2);
        int h = s.dim(5, 9);
        int w = s.dim(4, 8);
        record Geometry(String name, int cin, int cout, int k, ConvSpec spec) {
        }
        List<Geometry> geometries = List.of(
                new Geometry("1x1", 6, 19, 1, ConvSpec.of(1, 0, 1, 1)),
                new Geometry("1x1 groups 2", 6, 38, 1, ConvSpec.of(1, 0, 1, 2)),
                new Geometry("3x3 s2 p1 (im2col)", 3, 21, 3, ConvSpec.of(2, 1, 1, 1)),
                new Geometry("depthwise 3x3 s1 p1", 20, 20, 3, ConvSpec.of(1, 1, 1, 20)),
                new Geometry("depthwise 5x5 s2 p2", 16, 16, 5, ConvSpec.of(2, 2, 1, 16)));
        for (Geometry g : geometries) {
            for (Activation activation : Activation.values()) {
                for (boolean full : new boolean[]{true, false}) {
                    // full: conv bias and affine batch norm; otherwise neither.
                    String name = "conv2dBatchNormEval " + g.name() + " " + activation
                            + (full ? " conv bias, affine" : " no bias, not affine")
                            + " x [" + n + ", " + h + ", " + w + ", " + g.cin() + "] → " + g.cout();
                    List<Input> inputs = new ArrayList<>(List.of(Input.normal(n, h, w, g.cin()),
                            Input.normal(g.k(), g.k(), g.cin() / g.spec().groups(), g.cout()),
                            Input.constantNormal(g.cout()), Input.constantPositive(g.cout())));
                    if (full) {
                        inputs.addAll(List.of(Input.normal(g.cout()), Input.normal(g.cout()), Input.normal(g.cout())));
                    }
                    OpCase.Op op = in -> Functional.conv2dBatchNormEval(in.get(0), in.get(1),
                            full ? in.get(4) : null, g.spec(), in.get(2), in.get(3), full ? in.get(5) : null,
                            full ? in.get(6) : null, 1e-3, activation);
                    cases.add(new OpCase(name + " (fused, no grad)", Tolerance.ACCUMULATING, inputs, in -> {
                        try (NoGrad _ = NoGrad.enter()) {
                            return op.apply(in);
                        }
                    }).withoutFiniteDifferences());
                    if (activation != Activation.RELU) {   // ReLU's kink is no place for finite differences
                        cases.add(new OpCase(name + " (recording: separate ops)", Tolerance.ACCUMULATING, inputs, op));
                    }
                }
            }
        }
        // With a squeeze-excitation gate [N, 1, 1, Cin]: folded into the weights (1×1) or applied to x (depthwise).
        for (Geometry g : List.of(geometries.get(0), geometries.get(3))) {
            String name = "conv2dBatchNormEval gated " + g.name() + " x [" + n + ", " + h + ", " + w + ", " + g.cin()
                    + "] → " + g.cout();
            List<Input> inputs = List.of(Input.normal(n, h, w, g.cin()), Input.positive(n, 1, 1, g.cin()),
                    Input.normal(g.k(), g.k(), g.cin() / g.spec().groups(), g.cout()), Input.constantNormal(g.cout()),
                    Input.constantPositive(g.cout()), Input.normal(g.cout()), Input.normal(g.cout()));
            OpCase.Op op = in -> Functional.conv2dBatchNormEval(in.get(0), in.get(1), in.get(2), null, g.spec(),
                    in.get(3), in.get(4), in.get(5), in.get(6), 1e-3, Activation.NONE);
            cases.add(new OpCase(name + " (fused, no grad)", Tolerance.ACCUMULATING, inputs, in -> {
                try (NoGrad _ = NoGrad.enter()) {
                    return op.apply(in);
                }
            }).withoutFiniteDifferences());
            cases.add(new OpCase(name + " (recording: separate ops)", Tolerance.ACCUMULATING, inputs, op));
        }
        cases.add(new OpCase("conv2dBatchNormEval depthwise on a strided (NCHW permuted) input (fused, no grad)",
                Tolerance.ACCUMULATING, List.of(Input.normal(n, 20, h, w), Input.normal(3, 3, 1, 20),
                Input.constantNormal(20), Input.constantPositive(20)), in -> {
                    try (NoGrad _ = NoGrad.enter()) {
                        return Functional.conv2dBatchNormEval(in.get(0).permute(0, 2, 3, 1), in.get(1), null,
                                ConvSpec.of(1, 1, 1, 20), in.get(2), in.get(3), null, null, 1e-5, Activation.SILU);
                    }
                }).withoutFiniteDifferences());
        // Two layers in a row (conv2dBatchNormEvalChain): an inverted bottleneck's 1×1 expansion then depthwise
        // 3×3 stride 2, and a pair the CPU does not fuse (a 3×3 first layer); fused without autograd, the separate
        // ops and their gradients when recording.
        for (int k : new int[]{1, 3}) {
            String name = "conv2dBatchNormEvalChain " + k + "x" + k + " → depthwise 3x3 s2 x [" + n + ", " + h + ", "
                    + w + ", 6] → 24";
            List<Input> inputs = List.of(Input.normal(n, h, w, 6), Input.normal(k, k, 6, 24), Input.constantNormal(24),
                    Input.constantPositive(24), Input.normal(24), Input.normal(24), Input.normal(3, 3, 1, 24),
                    Input.constantNormal(24), Input.constantPositive(24), Input.normal(24), Input.normal(24));
            OpCase.Op op = in -> Functional.conv2dBatchNormEvalChain(in.get(0),
                    new Functional.ConvBatchNorm(in.get(1), null, ConvSpec.of(1, k / 2, 1, 1), in.get(2), in.get(3),
                            in.get(4), in.get(5), 1e-3, Activation.SILU),
                    new Functional.ConvBatchNorm(in.get(6), null, ConvSpec.of(2, 1, 1, 24), in.get(7), in.get(8),
                            in.get(9), in.get(10), 1e-3, Activation.SILU));
            cases.add(new OpCase(name + " (fused, no grad)", Tolerance.ACCUMULATING, inputs, in -> {
                try (NoGrad _ = NoGrad.enter()) {
                    return op.apply(in);
                }
            }).withoutFiniteDifferences());
            cases.add(new OpCase(name + " (recording: separate ops)", Tolerance.ACCUMULATING, inputs, op));
        }
    }

    private static void pool(List<OpCase> cases) {
        Shapes s = new Shapes("pool", 0);
        int n = s.dim(1, 2);
        int h = s.dim(5, 9);
        int w = s.dim(5, 8);
        int c = s.dim(2, 4);
        List<PoolSpec> specs = List.of(PoolSpec.max(2, 2, 0), PoolSpec.max(3, 2, 1), PoolSpec.max(3, 1, 1),
                new PoolSpec(true, 2, 3, 1, 2, 1, 0, 1, 1, true),
                PoolSpec.avg(2, 2, 0), PoolSpec.avg(3, 2, 1), PoolSpec.avg(3, 1, 1),
                new PoolSpec(false, 3, 3, 2, 2, 1, 1, 1, 1, false),
                new PoolSpec(false, 2, 3, 1, 2, 1, 0, 1, 1, false));
        String dims = " [" + n + ", " + h + ", " + w + ", " + c + "]";
        for (PoolSpec spec : specs) {
            Tolerance tol = Tolerance.ELEMENTWISE;   // overlapping windows add gradients in any order
            cases.add(new OpCase("pool2d " + spec + dims, tol, List.of(Input.normal(n, h, w, c)),
                    in -> Functional.pool2d(in.getFirst(), spec)));
            cases.add(new OpCase("pool2d strided (NCHW permuted) " + spec + dims, tol,
                    List.of(Input.normal(n, c, h, w)), in -> Functional.pool2d(in.getFirst().permute(0, 2, 3, 1), spec)));
        }
        cases.add(new OpCase("globalAvgPool" + dims, Tolerance.ACCUMULATING, List.of(Input.normal(n, h, w, c)),
                in -> Functional.globalAvgPool(in.getFirst())));
        cases.add(new OpCase("globalAvgPool strided (NCHW permuted)" + dims, Tolerance.ACCUMULATING,
                List.of(Input.normal(n, c, h, w)), in -> Functional.globalAvgPool(in.getFirst().permute(0, 2, 3, 1))));
    }
}
