package dev.vertebra.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which dtype each op computes in inside and outside an autocast scope, and what happens to parameters. */
class AutocastTest {
    private static final Generator GEN = new Generator(7);

    private static Tensor randn(DType dtype, int... shape) {
        return Init.normal(GEN, Shape.of(shape), 0, 1, Device.CPU).to(dtype);
    }

    private static Tensor image(DType dtype) {
        return randn(dtype, 2, 5, 5, 3);        // NHWC
    }

    private static Tensor convWeight() {
        return randn(DType.FLOAT32, 3, 3, 3, 4).requiresGrad(true);   // HWIO
    }

    private static DType inside(DType low, Function<Void, Tensor> op) {
        try (Autocast _ = Autocast.enter(low)) {
            return op.apply(null).dtype();
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BFLOAT16", "FLOAT16"})
    void computeBoundOpsRunInTheLowTypeInsideAndFloat32Outside(DType low) {
        Tensor x = image(DType.FLOAT32);
        Tensor w = convWeight();
        Tensor b = randn(DType.FLOAT32, 4);
        Function<Void, Tensor> conv = _ -> Functional.conv2d(x, w, b, ConvSpec.of(1, 1, 1, 1));
        Tensor a = randn(DType.FLOAT32, 3, 6);
        Tensor m = randn(DType.FLOAT32, 6, 2);
        Tensor lw = randn(DType.FLOAT32, 2, 6);
        Function<Void, Tensor> matmul = _ -> a.matmul(m);
        Function<Void, Tensor> linear = _ -> Functional.linear(a, lw, randn(DType.FLOAT32, 2));
        for (Function<Void, Tensor> op : List.of(conv, matmul, linear)) {
            assertEquals(low, inside(low, op));
            assertEquals(DType.FLOAT32, op.apply(null).dtype());
        }
        // The parameters themselves never change dtype.
        assertEquals(DType.FLOAT32, w.dtype());
        assertEquals(DType.FLOAT32, b.dtype());
    }

    @Test
    void float64IsNeverLowered() {
        Tensor a = randn(DType.FLOAT64, 3, 4);
        Tensor m = randn(DType.FLOAT64, 4, 2);
        assertEquals(DType.FLOAT64, inside(DType.BFLOAT16, _ -> a.matmul(m)));
    }

    @Test
    void sensitiveOpsWidenSixteenBitInputsToFloat32InsideOnly() {
        Tensor x = randn(DType.BFLOAT16, 4, 3);
        Tensor positive = x.abs().add(1);
        Tensor targets = Init.uniform(GEN, Shape.of(4, 3), 0, 1, Device.CPU).to(DType.BFLOAT16);
        Tensor labels = Tensor.ofLongs(new long[]{0, 2, 1, 1}, 4);
        List<Function<Void, Tensor>> ops = List.of(
                _ -> x.exp(), _ -> positive.log(), _ -> x.softplus(), _ -> x.pow(2), _ -> x.sum(),
                _ -> x.sum(true, 1), _ -> x.mean(), _ -> x.var(1, false, 0), _ -> Functional.softmax(x, 1),
                _ -> Functional.logSoftmax(x, 1),
                _ -> Functional.binaryCrossEntropyWithLogits(x, targets, null, null, Reduction.MEAN),
                _ -> Functional.crossEntropy(x, labels, 0.1, Reduction.MEAN),
                _ -> Functional.mseLoss(x, targets, Reduction.SUM));
        for (Function<Void, Tensor> op : ops) {
            assertEquals(DType.FLOAT32, inside(DType.BFLOAT16, op));
            assertEquals(DType.BFLOAT16, op.apply(null).dtype(), "outside a scope the op runs in its input's dtype");
        }
    }

    @Test
    void cheapOpsKeepTheirInputDtype() {
        Tensor low = randn(DType.BFLOAT16, 2, 4, 4, 3);
        Tensor full = randn(DType.FLOAT32, 2, 4, 4, 3);
        List<Function<Tensor, Tensor>> ops = List.of(Tensor::relu, Tensor::silu, Tensor::sigmoid, Tensor::tanh,
                Tensor::neg, Tensor::abs, t -> t.max(false, 1), t -> t.mul(3).add(1),
                t -> Functional.pool2d(t, PoolSpec.max(2, 2, 0)), t -> t.reshape(2, -1).transpose(0, 1));
        for (Function<Tensor, Tensor> op : ops) {
            assertEquals(DType.BFLOAT16, inside(DType.FLOAT16, _ -> op.apply(low)));
            assertEquals(DType.FLOAT32, inside(DType.FLOAT16, _ -> op.apply(full)));
        }
    }

    @Test
    void mixedFloatOperandsPromoteToTheWidestInAndOutOfAScope() {
        Tensor bf = randn(DType.BFLOAT16, 3);
        Tensor half = randn(DType.FLOAT16, 3);
        Tensor single = randn(DType.FLOAT32, 3);
        Tensor dbl = randn(DType.FLOAT64, 3);
        assertEquals(DType.FLOAT32, bf.add(single).dtype());
        assertEquals(DType.FLOAT32, single.mul(bf).dtype());
        assertEquals(DType.FLOAT32, bf.sub(half).dtype(), "neither 16-bit type holds the other");
        assertEquals(DType.FLOAT64, half.div(dbl).dtype());
        assertEquals(DType.FLOAT32, bf.gt(single).dtype());
        assertEquals(DType.FLOAT32, Functional.concat(List.of(bf, single), 0).dtype());
        assertEquals(DType.FLOAT32, inside(DType.BFLOAT16, _ -> bf.maximum(single)));
        // float32 with float64 stays an explicit-cast error.
        assertThrows(IllegalArgumentException.class, () -> single.add(dbl));
    }

    @Test
    void promotingOpsHandEachInputAGradientOfItsOwnDtype() {
        Tensor bf = randn(DType.BFLOAT16, 3).requiresGrad(true);
        Tensor single = randn(DType.FLOAT32, 3).requiresGrad(true);
        bf.mul(single).sum().backward();
        assertEquals(DType.BFLOAT16, bf.grad().dtype());
        assertEquals(DType.FLOAT32, single.grad().dtype());
        assertArrayClose(single.toDoubleArray(), bf.grad().toDoubleArray(), 1.0 / 128);
        assertArrayClose(bf.toDoubleArray(), single.grad().toDoubleArray(), 0);
    }

    @Test
    void batchNormTakesALowInputButKeepsFloat32StatisticsAndParameters() {
        Tensor x = image(DType.FLOAT32);
        Tensor weight = Tensor.full(Shape.of(3), DType.FLOAT32, Device.CPU, 1.5).requiresGrad(true);
        Tensor bias = Tensor.full(Shape.of(3), DType.FLOAT32, Device.CPU, 0.25).requiresGrad(true);
        Tensor mean = Tensor.full(Shape.of(3), DType.FLOAT32, Device.CPU, 0);
        Tensor var = Tensor.full(Shape.of(3), DType.FLOAT32, Device.CPU, 1);
        Tensor y;
        try (Autocast _ = Autocast.enter(DType.BFLOAT16)) {
            Tensor low = x.to(DType.BFLOAT16);
            y = Functional.batchNorm(low, mean, var, weight, bias, true, 0.1, 1e-5);
        }
        assertEquals(DType.BFLOAT16, y.dtype());
        assertEquals(DType.FLOAT32, mean.dtype());
        // The running mean moved by 0.1 × the batch mean, computed in float32 from the bfloat16 input.
        double[] lowX = x.to(DType.BFLOAT16).toDoubleArray();
        double[] channelMean = new double[3];
        for (int i = 0; i < lowX.length; i++) {
            channelMean[i % 3] += lowX[i] / (lowX.length / 3.0);
        }
        for (int c = 0; c < 3; c++) {
            channelMean[c] *= 0.1;
        }
        assertArrayClose(channelMean, mean.toDoubleArray(), 1e-6);
        y.to(DType.FLOAT32).sum().backward();
        assertEquals(DType.FLOAT32, weight.grad().dtype());
        assertEquals(DType.FLOAT32, bias.grad().dtype());
        // d(sum y)/d(bias) is the element count per channel; exact despite the bfloat16 output.
        assertArrayClose(new double[]{50, 50, 50}, bias.grad().toDoubleArray(), 0);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BFLOAT16", "FLOAT16"})
    void float32ParametersGetFloat32GradientsCloseToTheFloat32Ones(DType low) {
        Tensor x = image(DType.FLOAT32);
        Tensor w = convWeight();
        Tensor fc = randn(DType.FLOAT32, 2, 4).requiresGrad(true);
        Tensor loss;
        try (Autocast _ = Autocast.enter(low)) {
            Tensor h = Functional.conv2d(x, w, null, ConvSpec.of(1, 1, 1, 1)).silu();
            Tensor logits = Functional.linear(Functional.globalAvgPool(h).reshape(2, 4), fc, null);
            loss = Functional.crossEntropy(logits, Tensor.ofLongs(new long[]{1, 0}, 2), 0, Reduction.MEAN);
        }
        assertEquals(DType.FLOAT32, loss.dtype());
        loss.backward();
        double[] lowW = w.grad().toDoubleArray();
        double[] lowFc = fc.grad().toDoubleArray();
        assertEquals(DType.FLOAT32, w.grad().dtype());
        assertEquals(DType.FLOAT32, fc.grad().dtype());
        assertEquals(DType.FLOAT32, w.dtype());
        w.setGrad(null);
        fc.setGrad(null);
        Tensor h = Functional.conv2d(x, w, null, ConvSpec.of(1, 1, 1, 1)).silu();
        Functional.crossEntropy(Functional.linear(Functional.globalAvgPool(h).reshape(2, 4), fc, null),
                Tensor.ofLongs(new long[]{1, 0}, 2), 0, Reduction.MEAN).backward();
        assertArrayClose(w.grad().toDoubleArray(), lowW, 0.03 * maxAbs(w.grad().toDoubleArray()));
        assertArrayClose(fc.grad().toDoubleArray(), lowFc, 0.03 * maxAbs(fc.grad().toDoubleArray()));
    }

    @Test
    void scopesNestDisableAndRestore() {
        assertFalse(Autocast.isEnabled());
        try (Autocast _ = Autocast.enter(DType.BFLOAT16)) {
            assertEquals(Optional.of(DType.BFLOAT16), Autocast.lowType());
            try (Autocast _ = Autocast.enter(DType.FLOAT16)) {
                assertEquals(Optional.of(DType.FLOAT16), Autocast.lowType());
                try (Autocast _ = Autocast.disable()) {
                    assertFalse(Autocast.isEnabled());
                    Tensor a = randn(DType.FLOAT32, 2, 2);
                    assertEquals(DType.FLOAT32, a.matmul(a).dtype());
                }
                assertEquals(Optional.of(DType.FLOAT16), Autocast.lowType());
            }
            assertEquals(Optional.of(DType.BFLOAT16), Autocast.lowType());
        }
        assertFalse(Autocast.isEnabled());
        assertEquals(Optional.empty(), Autocast.lowType());
    }

    @Test
    void scopesMustCloseInReverseOrderAndClosingTwiceIsHarmless() {
        Autocast outer = Autocast.enter(DType.BFLOAT16);
        Autocast inner = Autocast.enter(DType.FLOAT16);
        assertThrows(IllegalStateException.class, outer::close);
        inner.close();
        inner.close();
        outer.close();
        assertFalse(Autocast.isEnabled());
        assertThrows(IllegalArgumentException.class, () -> Autocast.enter(DType.FLOAT32));
    }

    @Test
    void scopesArePerThreadAndBackwardRunsWithTheScopeUntouched() throws InterruptedException {
        AtomicReference<Boolean> seen = new AtomicReference<>();
        try (Autocast _ = Autocast.enter(DType.BFLOAT16)) {
            Thread t = new Thread(() -> seen.set(Autocast.isEnabled()));
            t.start();
            t.join();
            Tensor w = randn(DType.FLOAT32, 3, 3).requiresGrad(true);
            w.matmul(w).sum().backward();
            assertEquals(DType.FLOAT32, w.grad().dtype());
            assertTrue(Autocast.isEnabled(), "backward restores the scope it found");
        }
        assertFalse(seen.get());
    }

    @Test
    void policyTableCoversEveryElementwiseOpAndReduction() {
        for (UnaryOp op : UnaryOp.values()) {
            assertEquals(op.name(), AutocastOp.of(op).name());
        }
        for (ReduceOp op : ReduceOp.values()) {
            assertTrue(AutocastOp.of(op).name().startsWith(op.name()));
        }
        Set<AutocastOp> lower = EnumSet.noneOf(AutocastOp.class);
        for (AutocastOp op : AutocastOp.values()) {
            if (op.rule() == AutocastOp.Rule.LOWER) {
                lower.add(op);
            }
            assertFalse(op.torchOps().isBlank());
        }
        assertEquals(EnumSet.of(AutocastOp.CONV2D, AutocastOp.MATMUL, AutocastOp.LINEAR), lower);
        assertEquals(AutocastOp.Rule.FP32, AutocastOp.of(ReduceOp.SUM).rule());
        assertEquals(AutocastOp.Rule.FP32_STATISTICS, AutocastOp.BATCH_NORM.rule());
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double d : v) {
            m = Math.max(m, Math.abs(d));
        }
        return m;
    }

    private static void assertArrayClose(double[] expected, double[] actual, double tolerance) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            double bound = tolerance == 0 ? 0 : tolerance * Math.max(1, Math.abs(expected[i]));
            assertTrue(Math.abs(expected[i] - actual[i]) <= bound,
                    "element " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }
}
