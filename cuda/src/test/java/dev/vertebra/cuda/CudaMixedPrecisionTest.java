package dev.vertebra.cuda;

import dev.vertebra.core.Autocast;
import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.UnaryOp;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.Random;

import static dev.vertebra.cuda.GpuFixture.Pair;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GPU only: float16/bfloat16 primitives (cuBLAS GemmEx, cuDNN half/bfloat16 convolutions or the own kernels
 * through float32, the 16-bit elementwise kernels) against the CPU's widened float32 results, and one autocast
 * step on the GPU against the same step on the CPU. Skipped, with the reason, without a GPU.
 */
class CudaMixedPrecisionTest {
    private Backend cpu;
    private final Random rnd = new Random(3);

    @BeforeEach
    void open() {
        GpuFixture.requireGpu();
        cpu = Backends.get(Device.CPU);
    }

    /** Random 16-bit data, the same values on the GPU and the CPU. */
    private Tensor[] random(DType t, int... shape) {
        Pair p = Pair.random(rnd, -2, 2, shape);
        Tensor host = p.ref().to(Device.CPU).to(t);
        return new Tensor[]{host.to(GpuFixture.CUDA), host};
    }

    /** Within two 16-bit ulps of the CPU result, plus float32 accumulation slack at the result's scale. */
    private static void assertNear(Tensor cpuResult, Tensor gpuResult, DType t, String what) {
        assertEquals(t, gpuResult.dtype(), what + ": dtype");
        double ulp = t == DType.BFLOAT16 ? 0x1p-7 : 0x1p-10;
        double[] e = cpuResult.toDoubleArray();
        double[] a = gpuResult.toDoubleArray();
        double scale = 0;
        for (double v : e) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < e.length; i++) {
            double bound = 2 * ulp * Math.abs(e[i]) + 1e-4 * scale;
            assertTrue(Math.abs(a[i] - e[i]) <= bound, what + "[" + i + "]: cpu " + e[i] + ", gpu " + a[i]);
        }
    }

    /** Forward, input and weight gradients of one convolution on the GPU against the CPU ({@link #assertNear}). */
    private void assertConvolutionNear(Backend gpu, DType t, Tensor[] x, Tensor[] w, ConvSpec spec, String what) {
        Tensor y = cpu.conv2d(x[1], w[1], spec);
        assertNear(y, gpu.conv2d(x[0], w[0], spec), t, what + " " + spec);
        Tensor[] dy = random(t, y.shape().dims());
        assertNear(cpu.conv2dBackwardInput(dy[1], w[1], x[1].shape(), spec),
                gpu.conv2dBackwardInput(dy[0], w[0], x[0].shape(), spec), t, what + " backward input " + spec);
        assertNear(cpu.conv2dBackwardWeight(x[1], dy[1], w[1].shape(), spec),
                gpu.conv2dBackwardWeight(x[0], dy[0], w[0].shape(), spec), t, what + " backward weight " + spec);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BFLOAT16", "FLOAT16"})
    void matmulConvolutionsAndElementwiseOps(DType t) {
        Backend gpu = Backends.get(GpuFixture.CUDA);
        Tensor[] a = random(t, 3, 17, 40);
        Tensor[] b = random(t, 3, 40, 9);
        assertNear(cpu.matmul(a[1], b[1]), gpu.matmul(a[0], b[0]), t, "matmul");
        assertNear(cpu.matmul(b[1].transpose(1, 2), a[1].transpose(1, 2)),
                gpu.matmul(b[0].transpose(1, 2), a[0].transpose(1, 2)), t, "matmul of transposes");
        Tensor[] x = random(t, 2, 12, 11, 8);
        for (ConvSpec spec : new ConvSpec[]{ConvSpec.of(1, 1, 1, 1), ConvSpec.of(2, 1, 1, 8),
                ConvSpec.same(12, 11, 3, 3, 2, 1, 1)}) {
            assertConvolutionNear(gpu, t, x, random(t, 3, 3, 8 / spec.groups(), 16), spec, "conv2d");
        }
        // Depthwise 3×3 and 5×5 without a multiplier: the kernels with the weights in registers, on the 16-bit data.
        for (int k : new int[]{3, 5}) {
            assertConvolutionNear(gpu, t, x, random(t, k, k, 1, 8), ConvSpec.of(k == 3 ? 1 : 2, k / 2, 1, 8),
                    "depthwise conv2d");
        }
        // 1x1: cuBLAS GemmEx on the 16-bit tensors themselves.
        assertConvolutionNear(gpu, t, x, random(t, 1, 1, 8, 16), ConvSpec.of(1, 0, 1, 1), "conv2d 1x1");
        assertNear(cpu.unary(UnaryOp.SILU, x[1]), gpu.unary(UnaryOp.SILU, x[0]), t, "silu");
        Tensor[] c = random(t, 8);
        assertNear(cpu.binary(BinaryOp.MUL, x[1], c[1]), gpu.binary(BinaryOp.MUL, x[0], c[0]), t, "broadcast mul");
        assertNear(cpu.binaryScalar(BinaryOp.ADD, x[1], 0.5), gpu.binaryScalar(BinaryOp.ADD, x[0], 0.5), t,
                "scalar add");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BFLOAT16", "FLOAT16"})
    void anAutocastStepOnTheGpuMatchesTheCpu(DType t) {
        double[][] results = new double[2][];
        Device[] devices = {Device.CPU, GpuFixture.CUDA};
        Pair xs = Pair.random(new Random(5), -1, 1, 4, 10, 10, 3);
        Pair ws = Pair.random(new Random(6), -0.5, 0.5, 3, 3, 3, 8);
        Pair fcs = Pair.random(new Random(7), -0.5, 0.5, 2, 8);
        for (int d = 0; d < 2; d++) {
            Tensor x = xs.ref().to(Device.CPU).to(devices[d]);
            Tensor w = ws.ref().to(Device.CPU).to(devices[d]).detach().requiresGrad(true);
            Tensor fc = fcs.ref().to(Device.CPU).to(devices[d]).detach().requiresGrad(true);
            Tensor loss;
            try (Autocast _ = Autocast.enter(t)) {
                Tensor h = Functional.batchNorm(Functional.conv2d(x, w, null, ConvSpec.of(1, 1, 1, 1)), null, null,
                        null, null, true, 0.1, 1e-5).silu();
                Tensor logits = Functional.linear(Functional.globalAvgPool(h).reshape(4, 8), fc, null);
                loss = Functional.binaryCrossEntropyWithLogits(logits, Tensor.zeros(4, 2).to(devices[d]), null, null,
                        Reduction.MEAN);
            }
            loss.backward();
            assertEquals(DType.FLOAT32, w.grad().dtype());
            results[d] = w.grad().to(Device.CPU).toDoubleArray();
        }
        double scale = 0;
        for (double v : results[0]) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < results[0].length; i++) {
            assertTrue(Math.abs(results[0][i] - results[1][i]) <= 0.03 * scale,
                    "weight gradient " + i + ": cpu " + results[0][i] + ", gpu " + results[1][i]);
        }
    }

    /**
     * The mixed batch norm on 16-bit activations read and written directly (the column kernels; one and four values
     * per load; the default kernels and the fast ones) against the default: x widened on the CPU, the float32 batch
     * norm, the results rounded.
     */
    @ParameterizedTest
    @CsvSource({"BFLOAT16, false", "FLOAT16, false", "BFLOAT16, true", "FLOAT16, true"})
    void mixedBatchNormReadsAndWrites16BitActivations(DType t, boolean fast) {
        CudaBackend gpu = (CudaBackend) Backends.get(GpuFixture.CUDA);
        boolean before = gpu.fastBatchNorm();
        gpu.useFastBatchNorm(fast);
        try {
            mixedBatchNormMatchesTheCpu(gpu, t);
        } finally {
            gpu.useFastBatchNorm(before);
        }
    }

    private void mixedBatchNormMatchesTheCpu(Backend gpu, DType t) {
        for (int[] shape : new int[][]{{2, 5, 7, 12}, {3, 5, 7}}) {
            int c = shape[shape.length - 1];
            Tensor[] x = random(t, shape);
            Tensor[] dz = random(t, shape);
            Tensor[] w = {Tensor.full(Shape.of(c), DType.FLOAT32, GpuFixture.CUDA, 1.25),
                    Tensor.full(Shape.of(c), DType.FLOAT32, Device.CPU, 1.25)};
            Tensor[] b = {Tensor.full(Shape.of(c), DType.FLOAT32, GpuFixture.CUDA, -0.5),
                    Tensor.full(Shape.of(c), DType.FLOAT32, Device.CPU, -0.5)};
            for (boolean silu : new boolean[]{false, true}) {
                String what = t + " " + Arrays.toString(shape) + (silu ? " with SiLU" : "");
                Backend.BatchNormResult g = gpu.batchNormMixed(x[0], w[0], b[0], 1e-5, silu);
                Backend.BatchNormResult e = cpu.batchNormMixed(x[1], w[1], b[1], 1e-5, silu);
                assertNear(e.output(), g.output(), t, what + " output");
                GpuFixture.assertClose(e.mean(), g.mean().to(Device.CPU), 1e-6, 1e-5, what + " mean");
                GpuFixture.assertClose(e.invStd(), g.invStd().to(Device.CPU), 1e-6, 1e-5, what + " 1/std");
                Backend.BatchNormGrads gg = gpu.batchNormMixedBackward(dz[0], x[0], w[0], b[0], g.mean(), g.invStd(),
                        silu);
                Backend.BatchNormGrads eg = cpu.batchNormMixedBackward(dz[1], x[1], w[1], b[1], e.mean(), e.invStd(),
                        silu);
                assertNear(eg.input(), gg.input(), t, what + " input gradient");
                GpuFixture.assertClose(eg.weight(), gg.weight().to(Device.CPU), 1e-4, 1e-4, what + " weight gradient");
                GpuFixture.assertClose(eg.bias(), gg.bias().to(Device.CPU), 1e-4, 1e-4, what + " bias gradient");
            }
        }
    }
}
