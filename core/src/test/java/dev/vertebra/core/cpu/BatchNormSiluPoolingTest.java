package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.BinaryOp;
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
 * Training batch norm + SiLU with a squeeze-excitation pooling its output, the pooling taken on the batch norm's own
 * passes: the forward's sums over H and W written with the output, and the pooling's part of the gradient (the same
 * for every pixel of an image and channel) added inside the backward. Everything against batch norm + SiLU and the
 * pooling run apart, bit for bit: the backend ops on the CPU, and a block's graph (batch norm + SiLU → pooled gate
 * → product) on the CPU and on the reference backend (the ops' defaults).
 */
class BatchNormSiluPoolingTest {
    private static final Backend CPU = Backends.get(Device.CPU);

    /** x, weight, bias, and a second [N, H, W, C] tensor (an output gradient), on {@code device}. */
    private record Inputs(Tensor x, Tensor weight, Tensor bias, Tensor gradient) {
        static Inputs random(long seed, Shape shape, Device device) {
            Generator gen = new Generator(seed);
            int c = shape.dim(3);
            return new Inputs(Init.normal(gen, shape, 0.5, 2, device), Init.uniform(gen, Shape.of(c), 0.5, 1.5, device),
                    Init.normal(gen, Shape.of(c), 0, 0.5, device), Init.normal(gen, shape, 0, 1, device));
        }
    }

    @Test
    void thePerImagePartAddedInTheBackwardGivesTheBitsOfTheSum() {
        // 7·9 = 63 rows an image: images and the kernel's 256-row chunks end at different rows; 20 channels: a tail.
        assertAddendMatchesTheSum(Inputs.random(1, Shape.of(5, 7, 9, 20), Device.CPU));
        assertAddendMatchesTheSum(Inputs.random(2, Shape.of(3, 16, 16, 48), Device.CPU));
        assertAddendMatchesTheSum(Inputs.random(3, Shape.of(2, 1, 1, 5), Device.CPU));
    }

    @Test
    void theSumsTakenWhileWritingAreTheReductionsBits() {
        // 9·13 = 117 pixels an image: the reduction's runs and chunks end mid-block; 40 channels: a vector tail.
        assertPooledMatchesTheTwoOps(Inputs.random(4, Shape.of(6, 9, 13, 40), Device.CPU));
        assertPooledMatchesTheTwoOps(Inputs.random(5, Shape.of(4, 28, 28, 24), Device.CPU));
        assertPooledMatchesTheTwoOps(Inputs.random(6, Shape.of(1, 5, 5, 16), Device.CPU)); // one image: reduced after
    }

    @Test
    void aBlockGivesTheBitsOfThePoolingRunApart() {
        assertBlockMatches(Device.CPU);
    }

    @Test
    void theOpsDefaultsGiveTheBitsOfThePoolingRunApart() {
        assertBlockMatches(Device.REFERENCE);
    }

    private enum Pooling {
        /** {@link Functional#batchNormSiluWithMean}: sums with the forward, the gradient's part in the backward. */
        FUSED,
        /** {@link Functional#globalAvgPool} of the output: the gradient's part handed to the backward unsummed. */
        POOLED_AFTER,
        /** {@link Functional#globalAvgPool} of output · 1 (the same values): the gradient's part arrives dense. */
        APART
    }

    private static void assertBlockMatches(Device device) {
        Inputs in = Inputs.random(7, Shape.of(4, 7, 6, 24), device);
        float[][] apart = block(in, Pooling.APART);
        for (Pooling p : new Pooling[]{Pooling.FUSED, Pooling.POOLED_AFTER}) {
            float[][] got = block(in, p);
            for (int i = 0; i < got.length; i++) {
                assertArrayEquals(apart[i], got[i], 0f, p + ", result " + i);
            }
        }
    }

    /** z, mean, running mean and variance, and the gradients of x, w, b through z · σ(mean_HW(z)). */
    private static float[][] block(Inputs in, Pooling pooling) {
        Tensor x = in.x().detach().requiresGrad(true);
        Tensor w = in.weight().detach().requiresGrad(true);
        Tensor b = in.bias().detach().requiresGrad(true);
        int c = x.dim(3);
        Tensor runningMean = Tensor.zeros(Shape.of(c), x.dtype(), x.device());
        Tensor runningVar = Tensor.full(Shape.of(c), x.dtype(), x.device(), 1);
        Tensor z;
        Tensor mean;
        if (pooling == Pooling.FUSED) {
            Functional.OutputAndMean r = Functional.batchNormSiluWithMean(x, runningMean, runningVar, w, b, true,
                    0.1, 1e-3);
            z = r.output();
            mean = r.mean();
        } else {
            z = Functional.batchNormSilu(x, runningMean, runningVar, w, b, true, 0.1, 1e-3);
            mean = Functional.globalAvgPool(pooling == Pooling.APART ? z.mul(1.0) : z);
        }
        z.mul(mean.sigmoid()).mul(in.gradient()).sum().backward();
        return new float[][]{z.toFloatArray(), mean.toFloatArray(), runningMean.toFloatArray(),
                runningVar.toFloatArray(), x.grad().toFloatArray(), w.grad().toFloatArray(), b.grad().toFloatArray()};
    }

    private static void assertAddendMatchesTheSum(Inputs in) {
        Shape shape = in.x().shape();
        Tensor perImage = Init.normal(new Generator(8), Shape.of(shape.dim(0), 1, 1, shape.dim(3)), 0, 0.5,
                Device.CPU);
        Backend.BatchNormResult stats = CPU.batchNormSilu(in.x(), in.weight(), in.bias(), 1e-3);
        Backend.BatchNormGrads fused = CPU.batchNormSiluBackward(in.gradient(), perImage, in.x(), in.weight(),
                in.bias(), stats.mean(), stats.invStd());
        Backend.BatchNormGrads summed = CPU.batchNormSiluBackward(CPU.binary(BinaryOp.ADD, in.gradient(), perImage),
                in.x(), in.weight(), in.bias(), stats.mean(), stats.invStd());
        assertArrayEquals(summed.input().toFloatArray(), fused.input().toFloatArray(), 0f);
        assertArrayEquals(summed.weight().toFloatArray(), fused.weight().toFloatArray(), 0f);
        assertArrayEquals(summed.bias().toFloatArray(), fused.bias().toFloatArray(), 0f);
    }

    private static void assertPooledMatchesTheTwoOps(Inputs in) {
        Backend.PooledBatchNorm pooled = CPU.batchNormSiluPooled(in.x(), in.weight(), in.bias(), 1e-3);
        Backend.BatchNormResult plain = CPU.batchNormSilu(in.x(), in.weight(), in.bias(), 1e-3);
        Tensor sums = CPU.reduce(ReduceOp.SUM, plain.output(), new int[]{1, 2}, true);
        assertArrayEquals(plain.output().toFloatArray(), pooled.result().output().toFloatArray(), 0f);
        assertArrayEquals(plain.mean().toFloatArray(), pooled.result().mean().toFloatArray(), 0f);
        assertArrayEquals(plain.variance().toFloatArray(), pooled.result().variance().toFloatArray(), 0f);
        assertArrayEquals(plain.invStd().toFloatArray(), pooled.result().invStd().toFloatArray(), 0f);
        assertArrayEquals(sums.toFloatArray(), pooled.channelSums().toFloatArray(), 0f);
    }
}
