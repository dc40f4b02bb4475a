package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.Device;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.ReduceOp;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Training batch norm + SiLU that sums its output over H and W as it writes it (a squeeze-excitation's pooling),
 * against the batch norm + SiLU and the reduction run one after the other, bit for bit: the backend op on shapes with
 * one image a task and with too few images for that, and {@link Functional#batchNormSiluWithMean} in a graph, its
 * outputs, means, running statistics and gradients against {@link Functional#batchNormSilu} then
 * {@link Functional#globalAvgPool}, on the CPU backend and on the reference backend (the op's default).
 */
class BatchNormSiluPooledTest {
    private static final Backend CPU = Backends.get(Device.CPU);

    @Test
    void theSumsTakenWhileWritingAreTheReductionsBits() {
        // 9·13 = 117 pixels an image: the reduction's runs and chunks end mid-block; 40 channels: a vector tail.
        assertPooledMatchesTheTwoOps(1, Shape.of(6, 9, 13, 40));
        assertPooledMatchesTheTwoOps(2, Shape.of(4, 28, 28, 24));
        assertPooledMatchesTheTwoOps(3, Shape.of(1, 5, 5, 16)); // one image: the rows split as usual, then reduced
    }

    @Test
    void theFusedMeanGivesTheValuesAndGradientsOfThePoolingAfterwards() {
        assertFusedMeanMatches(Device.CPU);
    }

    /** The reference backend runs the op's default (batch norm + SiLU, then the reduction). */
    @Test
    void theDefaultOpGivesTheSameMeanAndGradients() {
        assertFusedMeanMatches(Device.REFERENCE);
    }

    private static void assertFusedMeanMatches(Device device) {
        Generator gen = new Generator(11);
        Shape shape = Shape.of(4, 7, 6, 24);
        Tensor x = Init.normal(gen, shape, 0.3, 1.5, device);
        Tensor w = Init.uniform(gen, Shape.of(24), 0.5, 1.5, device);
        Tensor b = Init.normal(gen, Shape.of(24), 0, 0.5, device);
        Tensor upstream = Init.normal(gen, shape, 0, 1, device);
        float[][] fused = block(x, w, b, upstream, true);
        float[][] separate = block(x, w, b, upstream, false);
        for (int i = 0; i < fused.length; i++) {
            assertArrayEquals(separate[i], fused[i], 0f, "result " + i);
        }
    }

    /** z, mean, running mean and variance, and the gradients of x, w, b through z · σ(mean_HW(z)). */
    private static float[][] block(Tensor x0, Tensor w0, Tensor b0, Tensor upstream, boolean fused) {
        Tensor x = x0.detach().requiresGrad(true);
        Tensor w = w0.detach().requiresGrad(true);
        Tensor b = b0.detach().requiresGrad(true);
        Tensor runningMean = Tensor.zeros(Shape.of(24), x0.dtype(), x0.device());
        Tensor runningVar = Tensor.full(Shape.of(24), x0.dtype(), x0.device(), 1);
        Tensor z;
        Tensor mean;
        if (fused) {
            Functional.OutputAndMean r = Functional.batchNormSiluWithMean(x, runningMean, runningVar, w, b, true,
                    0.1, 1e-3);
            z = r.output();
            mean = r.mean();
        } else {
            z = Functional.batchNormSilu(x, runningMean, runningVar, w, b, true, 0.1, 1e-3);
            mean = Functional.globalAvgPool(z);
        }
        z.mul(mean.sigmoid()).mul(upstream).sum().backward();
        return new float[][]{z.toFloatArray(), mean.toFloatArray(), runningMean.toFloatArray(),
                runningVar.toFloatArray(), x.grad().toFloatArray(), w.grad().toFloatArray(), b.grad().toFloatArray()};
    }

    private static void assertPooledMatchesTheTwoOps(long seed, Shape shape) {
        Generator gen = new Generator(seed);
        int c = shape.dim(3);
        Tensor x = Init.normal(gen, shape, 0.5, 2, Device.CPU);
        Tensor w = Init.uniform(gen, Shape.of(c), 0.5, 1.5, Device.CPU);
        Tensor b = Init.normal(gen, Shape.of(c), 0, 0.5, Device.CPU);
        Backend.PooledBatchNorm pooled = CPU.batchNormSiluPooled(x, w, b, 1e-3);
        Backend.BatchNormResult plain = CPU.batchNormSilu(x, w, b, 1e-3);
        Tensor sums = CPU.reduce(ReduceOp.SUM, plain.output(), new int[]{1, 2}, true);
        assertArrayEquals(plain.output().toFloatArray(), pooled.result().output().toFloatArray(), 0f);
        assertArrayEquals(plain.mean().toFloatArray(), pooled.result().mean().toFloatArray(), 0f);
        assertArrayEquals(plain.variance().toFloatArray(), pooled.result().variance().toFloatArray(), 0f);
        assertArrayEquals(plain.invStd().toFloatArray(), pooled.result().invStd().toFloatArray(), 0f);
        assertArrayEquals(sums.toFloatArray(), pooled.channelSums().toFloatArray(), 0f);
    }
}
