package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.Device;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Batch norm + SiLU's backward with a per-image part of its output gradient added inside the kernel (a
 * squeeze-excitation's pooling sends that part), against the sum computed first, bit for bit: the backend op alone,
 * and a block's graph (batch norm + SiLU → pooled gate → product) against the same graph with the pooling's
 * gradient made dense, which autograd then sums before the backward, on the CPU backend and on the reference
 * backend (the op's default).
 */
class BatchNormSiluAddendTest {
    private static final Backend CPU = Backends.get(Device.CPU);

    @Test
    void thePerImagePartAddedInTheKernelGivesTheBitsOfTheSum() {
        // 7·9 = 63 rows an image: images and the kernel's 256-row chunks end at different rows; 20 channels: a tail.
        assertAddendMatchesTheSum(1, Shape.of(5, 7, 9, 20));
        assertAddendMatchesTheSum(2, Shape.of(3, 16, 16, 48));
        assertAddendMatchesTheSum(3, Shape.of(2, 1, 1, 5));
    }

    @Test
    void aBlocksGradientsDoNotDependOnWhetherThePoolingsPartIsSummedFirst() {
        assertBlockGradientsMatch(Device.CPU);
    }

    /** The reference backend runs the default op (the sum, then the backward) for the part autograd hands over. */
    @Test
    void theDefaultOpGivesTheSameGradientsAsSummingFirst() {
        assertBlockGradientsMatch(Device.REFERENCE);
    }

    private static void assertBlockGradientsMatch(Device device) {
        Generator gen = new Generator(7);
        Shape shape = Shape.of(3, 6, 5, 24);
        Tensor x = Init.normal(gen, shape, 0.3, 1.5, device);
        Tensor w = Init.uniform(gen, Shape.of(24), 0.5, 1.5, device);
        Tensor b = Init.normal(gen, Shape.of(24), 0, 0.5, device);
        Tensor upstream = Init.normal(gen, shape, 0, 1, device);
        float[][] unsummed = blockGradients(x, w, b, upstream, false);
        float[][] summed = blockGradients(x, w, b, upstream, true);
        for (int i = 0; i < unsummed.length; i++) {
            assertArrayEquals(summed[i], unsummed[i], 0f);
        }
    }

    /**
     * Gradients of x, w, b through z = silu(bn(x)), out = z · σ(mean_HW(z)), with the upstream gradient. When
     * {@code densePooling}, the pooling reads z · 1 (the same values), so its gradient reaches z as a dense tensor.
     */
    private static float[][] blockGradients(Tensor x0, Tensor w0, Tensor b0, Tensor upstream, boolean densePooling) {
        Tensor x = x0.detach().requiresGrad(true);
        Tensor w = w0.detach().requiresGrad(true);
        Tensor b = b0.detach().requiresGrad(true);
        Tensor z = Functional.batchNormSilu(x, null, null, w, b, true, 0.1, 1e-3);
        Tensor pooled = Functional.globalAvgPool(densePooling ? z.mul(1.0) : z);
        z.mul(pooled.sigmoid()).mul(upstream).sum().backward();
        return new float[][]{x.grad().toFloatArray(), w.grad().toFloatArray(), b.grad().toFloatArray()};
    }

    private static void assertAddendMatchesTheSum(long seed, Shape shape) {
        Generator gen = new Generator(seed);
        int c = shape.dim(3);
        Tensor x = Init.normal(gen, shape, 0.5, 2, Device.CPU);
        Tensor dz = Init.normal(gen, shape, 0, 1, Device.CPU);
        Tensor perImage = Init.normal(gen, Shape.of(shape.dim(0), 1, 1, c), 0, 0.5, Device.CPU);
        Tensor w = Init.uniform(gen, Shape.of(c), 0.5, 1.5, Device.CPU);
        Tensor b = Init.normal(gen, Shape.of(c), 0, 0.5, Device.CPU);
        Backend.BatchNormResult stats = CPU.batchNormSilu(x, w, b, 1e-3);
        Backend.BatchNormGrads fused = CPU.batchNormSiluBackward(dz, perImage, x, w, b, stats.mean(),
                stats.invStd());
        Backend.BatchNormGrads summed = CPU.batchNormSiluBackward(CPU.binary(BinaryOp.ADD, dz, perImage), x, w, b,
                stats.mean(), stats.invStd());
        assertArrayEquals(summed.input().toFloatArray(), fused.input().toFloatArray(), 0f);
        assertArrayEquals(summed.weight().toFloatArray(), fused.weight().toFloatArray(), 0f);
        assertArrayEquals(summed.bias().toFloatArray(), fused.bias().toFloatArray(), 0f);
    }
}
