package dev.vertebra.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Wrong shapes, dtypes, devices and misuse of autograd: each must throw a typed exception whose message names
 * what was wrong (the shapes, dtypes or devices involved), never compute something or fail deep inside a kernel.
 */
class BadInputTest {
    private static final Device REF = Device.REFERENCE;

    private static Tensor f32(int... shape) {
        return Tensor.full(Shape.of(shape), DType.FLOAT32, Device.CPU, 0.5);
    }

    private static Tensor f64(int... shape) {
        return Tensor.full(Shape.of(shape), DType.FLOAT64, Device.CPU, 0.5);
    }

    private static Tensor i64(int... shape) {
        return Tensor.full(Shape.of(shape), DType.INT64, Device.CPU, 1);
    }

    private static Tensor onReference(int... shape) {
        return Tensor.full(Shape.of(shape), DType.FLOAT32, REF, 0.5);
    }

    /** Asserts {@code body} throws {@code type} with every fragment in its message. */
    private static <T extends Throwable> void assertThrowsNaming(Class<T> type, Executable body, String... fragments) {
        T e = assertThrows(type, body);
        String message = String.valueOf(e.getMessage());
        for (String f : fragments) {
            assertTrue(message.contains(f), "message '" + message + "' does not mention '" + f + "'");
        }
    }

    // ---- shapes -----------------------------------------------------------------------------------------------

    @Test
    void binaryOpsRefuseShapesThatDoNotBroadcast() {
        for (Executable op : List.<Executable>of(() -> f32(2, 3).add(f32(4)), () -> f32(2, 3).sub(f32(3, 2)),
                () -> f32(2, 3).mul(f32(4)), () -> f32(2, 3).div(f32(4)), () -> f32(2, 3).maximum(f32(4)))) {
            assertThrowsNaming(IllegalArgumentException.class, op, "[2, 3]", "cannot be broadcast");
        }
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(5, 1, 3).gt(f32(2, 4)), "[5, 1, 3]", "[2, 4]");
    }

    @Test
    void matmulRefusesMismatchedInnerAndBatchDimensions() {
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3).matmul(f32(4, 5)),
                "inner dimensions", "[2, 3]", "[4, 5]");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(3).matmul(f32(4)), "[4]");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3, 4).matmul(f32(3, 4, 5)),
                "matmul", "[2, 3, 4]", "[3, 4, 5]");
        assertThrowsNaming(IllegalArgumentException.class, () -> Tensor.scalar(1).matmul(f32(2)), "1-D");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.linear(f32(2, 3), f32(4, 5), null),
                "[2, 3]");
    }

    @Test
    void conv2dRefusesBadGeometry() {
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.conv2d(f32(1, 5, 5), f32(3, 3, 3, 4), null, ConvSpec.of(1, 1, 1, 1)),
                "[1, 5, 5]", "[N, H, W, Cin]");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.conv2d(f32(1, 5, 5, 3), f32(3, 3, 4, 8), null, ConvSpec.of(1, 1, 1, 1)),
                "input channels 3", "[3, 3, 4, 8]");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.conv2d(f32(1, 5, 5, 6), f32(3, 3, 3, 5), null, ConvSpec.of(1, 1, 1, 2)),
                "groups 2", "[3, 3, 3, 5]");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.conv2d(f32(1, 2, 2, 3), f32(5, 5, 3, 4), null, ConvSpec.of(1, 0, 1, 1)),
                "5×5", "[1, 2, 2, 3]");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.conv2d(f32(1, 5, 5, 3), f32(3, 3, 3, 4), f32(5), ConvSpec.of(1, 1, 1, 1)),
                "bias", "[5]", "4 output channels");
        assertThrowsNaming(IllegalArgumentException.class, () -> ConvSpec.of(0, 1, 1, 1), "stride");
        assertThrowsNaming(IllegalArgumentException.class, () -> ConvSpec.of(1, -1, 1, 1), "padding");
    }

    @Test
    void batchNormRefusesMismatchedParameters() {
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.batchNorm(f32(2, 3, 3, 4), null, null, f32(5), f32(4), true, 0.1, 1e-5),
                "[5]", "4 channels", "[2, 3, 3, 4]");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.batchNorm(f32(2, 4), f32(4, 1), f32(4), null, null, false, 0.1, 1e-5), "[4, 1]");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.batchNorm(f32(1, 1, 1, 4), null, null, null, null, true, 0.1, 1e-5),
                "more than one value per channel", "[1, 1, 1, 4]");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.batchNorm(f32(2, 4), null, null, null, null, false, 0.1, 1e-5), "running statistics");
    }

    @Test
    void batchNormRefusesIntegerInputsAndMixedDtypes() {
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.batchNorm(i64(2, 4), null, null, null, null, true, 0.1, 1e-5), "int64", "[2, 4]");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.batchNorm(f32(2, 4), null, null, f64(4), f32(4), true, 0.1, 1e-5),
                "float64", "float32");
    }

    @Test
    void lossesRefuseMismatchedShapes() {
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.binaryCrossEntropyWithLogits(f32(6, 8),
                f32(6, 7), null, null, Reduction.MEAN), "[6, 8]", "[6, 7]");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.binaryCrossEntropyWithLogits(f32(6, 8),
                f32(6, 8), f32(5), null, Reduction.MEAN), "[5]");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.binaryCrossEntropyWithLogits(f32(6, 8),
                f32(6, 8), null, f32(3), Reduction.MEAN), "[3]");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.mseLoss(f32(4, 6), f32(6, 4),
                Reduction.MEAN), "[4, 6]", "[6, 4]");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.crossEntropy(f32(5, 7),
                Tensor.ofLongs(new long[]{1, 2, 3}, 3), 0, Reduction.MEAN), "[5, 7]", "[3]");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.crossEntropy(f32(2, 5, 7),
                Tensor.ofLongs(new long[]{1, 2}, 2), 0, Reduction.MEAN), "[2, 5, 7]", "[B, C]");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.crossEntropy(f32(2, 3),
                Tensor.ofLongs(new long[]{1, 2}, 2), 1.5, Reduction.MEAN), "1.5");
    }

    @Test
    void crossEntropyRefusesWrongLabelDtypesAndOutOfRangeLabels() {
        Tensor int32Labels = Tensor.ofLongs(new long[]{0, 1}, 2).to(DType.INT32);
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.crossEntropy(f32(2, 3), int32Labels, 0, Reduction.MEAN), "int64", "int32");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.crossEntropy(f32(2, 3), f32(2), 0, Reduction.MEAN), "int64", "float32");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.crossEntropy(f32(3, 4),
                Tensor.ofLongs(new long[]{0, 4, 1}, 3), 0, Reduction.MEAN), "label 4", "index 1", "0..3");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.crossEntropy(f32(2, 4),
                Tensor.ofLongs(new long[]{-1, 0}, 2), 0, Reduction.MEAN), "label -1");
    }

    // ---- dtypes -----------------------------------------------------------------------------------------------

    @Test
    void floatOpsRefuseIntegerTensors() {
        for (Executable op : List.<Executable>of(() -> i64(3).exp(), () -> i64(3).add(i64(3)), () -> i64(3).sum(),
                () -> i64(3).mean(), () -> i64(2, 2).matmul(i64(2, 2)), () -> i64(3).relu(), () -> i64(3).mul(2),
                () -> i64(3).max(false, 0), () -> Functional.softmax(i64(2, 3), 1),
                () -> Functional.pool2d(i64(1, 4, 4, 2), PoolSpec.max(2, 2, 0)),
                () -> Functional.conv2d(i64(1, 3, 3, 1), i64(1, 1, 1, 1), null, ConvSpec.of(1, 0, 1, 1)))) {
            assertThrowsNaming(IllegalArgumentException.class, op, "floating-point", "int64");
        }
    }

    @Test
    void mixedDtypesAreRefusedWithBothOperandsNamed() {
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(3).add(f64(3)), "dtypes differ", "float32",
                "float64");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 2).matmul(f64(2, 2)), "float32", "float64");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.conv2d(f32(1, 3, 3, 1), f64(1, 1, 1, 1), null, ConvSpec.of(1, 0, 1, 1)),
                "float32", "float64");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.concat(List.of(f32(2), f64(2)), 0),
                "float32", "float64");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(3).gather(0, Tensor.ofLongs(new long[]{0}, 1)
                .to(DType.INT32)), "int64", "int32");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.binaryCrossEntropyWithLogits(f32(2, 2),
                i64(2, 2), null, null, Reduction.MEAN), "float32", "int64");
    }

    // ---- devices ----------------------------------------------------------------------------------------------

    @Test
    void mixedDevicesAreRefused() {
        for (Executable op : List.<Executable>of(() -> f32(3).add(onReference(3)),
                () -> f32(2, 2).matmul(onReference(2, 2)), () -> f32(3).maximum(onReference(3)),
                () -> f32(3).eq(onReference(3)),
                () -> Functional.conv2d(f32(1, 3, 3, 1), onReference(1, 1, 1, 1), null, ConvSpec.of(1, 0, 1, 1)),
                () -> Functional.conv2d(f32(1, 3, 3, 1), f32(1, 1, 1, 2), onReference(2), ConvSpec.of(1, 0, 1, 1)),
                () -> Functional.concat(List.of(f32(2), onReference(2)), 0),
                () -> Functional.mseLoss(f32(2), onReference(2), Reduction.MEAN),
                () -> f32(2).assign(onReference(2)),
                () -> Functional.batchNorm(f32(2, 3), null, null, onReference(3), f32(3), true, 0.1, 1e-5),
                () -> Functional.batchNorm(f32(2, 3), onReference(3), onReference(3), null, null, true, 0.1, 1e-5))) {
            assertThrowsNaming(IllegalArgumentException.class, op, "different devices", "cpu", "cpu-reference");
        }
        Tensor labelsElsewhere = Tensor.fromHost(Tensor.ofLongs(new long[]{0, 1}, 2).toHost(), REF);
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.crossEntropy(f32(2, 3), labelsElsewhere, 0, Reduction.MEAN), "cpu-reference");
    }

    @Test
    void unknownDevicesAreRefused() {
        assertThrowsNaming(IllegalArgumentException.class, () -> Backends.get(new Device("tpu", 0)), "tpu",
                "cpu-reference");
        assertThrowsNaming(IllegalArgumentException.class, () -> Device.parse("cuda:x"), "cuda:x");
    }

    // ---- autograd misuse --------------------------------------------------------------------------------------

    @Test
    void secondBackwardThroughAFreedGraphFails() {
        Tensor w = f32(3).requiresGrad(true);
        Tensor loss = w.mul(w).sum();
        loss.backward();
        assertThrowsNaming(IllegalStateException.class, loss::backward, "second time", "retainGraph");
    }

    @Test
    void backwardOnANonScalarNeedsAGradient() {
        Tensor y = f32(2, 3).requiresGrad(true).exp();
        assertThrowsNaming(IllegalStateException.class, y::backward, "one-element", "[2, 3]");
        assertThrowsNaming(IllegalArgumentException.class, () -> y.backward(f32(3, 2), false), "[3, 2]", "[2, 3]");
        assertThrowsNaming(IllegalStateException.class, () -> f32(1).exp().backward(), "does not require grad");
    }

    @Test
    void backwardRefusesAGradientOfAnotherDtypeOrDevice() {
        // add(1) passes its gradient through unchanged, so nothing downstream would notice the mismatch.
        Tensor x = f32(2, 3).requiresGrad(true);
        Tensor y = x.add(1);
        assertThrowsNaming(IllegalArgumentException.class, () -> y.backward(f64(2, 3), false), "float64", "float32");
        assertThrowsNaming(IllegalArgumentException.class, () -> y.backward(onReference(2, 3), false),
                "cpu-reference", "cpu");
        assertThrowsNaming(IllegalArgumentException.class, () -> x.backward(f64(2, 3), false), "float64", "float32");
    }

    @Test
    void requiresGradOnlyOnFloatingLeaves() {
        Tensor y = f32(2).requiresGrad(true).mul(2);
        assertThrowsNaming(IllegalStateException.class, () -> y.requiresGrad(true), "leaf", "mul");
        assertThrowsNaming(IllegalArgumentException.class, () -> i64(2).requiresGrad(true), "floating-point", "int64");
        assertThrowsNaming(IllegalStateException.class, () -> f32(2).requiresGrad(true).assign(f32(2)), "NoGrad");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2).setGrad(f32(3)), "[3]", "[2]");
    }

    // ---- views and indices ------------------------------------------------------------------------------------

    @Test
    void viewsRefuseImpossibleShapes() {
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3).reshape(4, 2), "[2, 3]", "[4, 2]");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3).reshape(-1, 4), "[2, 3]", "[-1, 4]");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3).reshape(-1, -1), "only one");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3).permute(0, 0), "repeats");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3).permute(0), "[2, 3]");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3).transpose(0, 2), "2", "[2, 3]");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3).squeeze(0), "size 2", "[2, 3]");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3).unsqueeze(4), "[2, 3]");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3).expand(Shape.of(2, 4)), "[2, 3]", "[2, 4]");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3).expand(Shape.of(3)), "[2, 3]", "[3]");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3).sum(false, 1, -1), "repeated");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(2, 3).mean(false, 2), "[2, 3]");
        assertThrowsNaming(IllegalStateException.class, () -> f32(2, 3).item(), "[2, 3]");
        assertThrowsNaming(IllegalArgumentException.class, () -> Shape.of(2, -1), "negative");
    }

    @Test
    void narrowOutOfRangeIsRefused() {
        for (Executable op : List.<Executable>of(() -> f32(4, 5).narrow(1, 3, 3), () -> f32(4, 5).narrow(0, -1, 2),
                () -> f32(4, 5).narrow(1, 0, 6))) {
            Throwable e = assertThrows(RuntimeException.class, op);
            assertTrue(e instanceof IllegalArgumentException || e instanceof IndexOutOfBoundsException,
                    "untyped failure " + e);
            assertTrue(e.getMessage().contains("[4, 5]"), e.getMessage());
        }
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(4, 5).narrow(2, 0, 1), "[4, 5]");
    }

    @Test
    void gatherRefusesBadIndices() {
        Tensor x = f32(2, 3);
        assertThrowsNaming(IndexOutOfBoundsException.class,
                () -> x.gather(1, Tensor.ofLongs(new long[]{0, 3}, 2, 1)), "3", "size 3");
        assertThrowsNaming(IndexOutOfBoundsException.class,
                () -> x.gather(1, Tensor.ofLongs(new long[]{-1, 0}, 2, 1)), "-1");
        assertThrowsNaming(IllegalArgumentException.class, () -> x.gather(1, Tensor.ofLongs(new long[]{0, 1}, 2)),
                "[2]", "[2, 3]");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> x.gather(1, Tensor.ofLongs(new long[]{0, 0, 0}, 3, 1)), "[3, 1]", "[2, 3]");
    }

    @Test
    void assemblyRefusesMismatches() {
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.concat(List.of(f32(2, 3), f32(2, 4)), 0),
                "[2, 4]", "[2, 3]");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.concat(List.of(f32(2, 3), f32(3)), 0),
                "[3]", "[2, 3]");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.concat(List.of(), 0), "no tensors");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.stack(List.of(f32(2), f32(3)), 0),
                "[1, 3]", "[1, 2]");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.pad(f32(2, 3), new int[]{1}, new int[]{1}, 0), "[2, 3]");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.pad(f32(2, 3), new int[]{0, -1}, new int[]{0, 0}, 0), "negative");
    }

    @Test
    void poolingAndRandomOpsRefuseBadSettings() {
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.pool2d(f32(1, 2, 2, 1), PoolSpec.max(3, 1, 0)), "[1, 2, 2, 1]");
        assertThrowsNaming(IllegalArgumentException.class, () -> Functional.pool2d(f32(2, 2, 1), PoolSpec.max(2, 1, 0)),
                "[2, 2, 1]");
        assertThrowsNaming(IllegalArgumentException.class, () -> PoolSpec.max(3, 1, 2), "padding");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.dropout(f32(3), 1, true, new Generator(1)), "[0, 1)", "1.0");
        assertThrowsNaming(IllegalArgumentException.class,
                () -> Functional.dropPath(f32(3), -0.1, true, new Generator(1)), "-0.1");
        assertThrowsNaming(IllegalArgumentException.class, () -> f32(3).clamp(1, 0), "min 1.0 > max 0.0");
    }
}
