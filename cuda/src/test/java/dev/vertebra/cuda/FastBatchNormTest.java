package dev.vertebra.cuda;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backend.BatchNormGrads;
import dev.vertebra.core.Backend.BatchNormResult;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static dev.vertebra.cuda.GpuFixture.Pair;
import static dev.vertebra.cuda.GpuFixture.assertClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GPU only: batch norm's fast kernels ({@code -Dvertebra.cuda.fastBatchNorm=true}: float arithmetic, CUDA's
 * fast-math e^x and division) against the reference backend, with and without the SiLU, forward and backward: one
 * and four values per load, a mean far from zero next to the spread (where the float map x · scale + shift loses
 * most); and against the default kernels at EfficientNet-B0's scale, where each thread of the gradient sums adds
 * more rows than one float run holds (64), so that the float runs meet the double sums inside the thread.
 * {@link CudaMixedPrecisionTest} runs them on 16-bit activations.
 */
class FastBatchNormTest {
    private CudaBackend gpu;
    private boolean before;

    @BeforeEach
    void open() {
        gpu = GpuFixture.requireGpu();
        before = gpu.fastBatchNorm();
        gpu.useFastBatchNorm(true);
    }

    @AfterEach
    void restore() {
        if (gpu != null) {
            gpu.useFastBatchNorm(before);
        }
    }

    @ParameterizedTest(name = "{0} rows x {1} channels, mean near {2}, SiLU {3}")
    @CsvSource({"6000, 40, 0, true", "6000, 40, 0, false", "777, 33, 0, true", "60000, 4, 0, true",
            "3000, 96, 20, true", "3000, 96, 20, false"})
    void matchTheReference(int rows, int c, double offset, boolean silu) {
        Random rnd = new Random(rows * 31L + c);
        Pair x = Pair.random(rnd, offset - 2, offset + 3, rows, c);
        Pair w = Pair.random(rnd, 0.5, 1.5, c);
        Pair b = Pair.random(rnd, -1, 1, c);
        Pair dz = Pair.random(rnd, -1, 1, rows, c);
        Backend ref = GpuFixture.reference();
        BatchNormResult r = silu ? ref.batchNormSilu(x.ref(), w.ref(), b.ref(), 1e-5)
                : ref.batchNorm(x.ref(), w.ref(), b.ref(), 1e-5);
        BatchNormResult g = silu ? gpu.batchNormSilu(x.gpu(), w.gpu(), b.gpu(), 1e-5)
                : gpu.batchNorm(x.gpu(), w.gpu(), b.gpu(), 1e-5);
        assertClose(r.output(), g.output(), "output");
        assertClose(r.mean(), g.mean(), "mean");
        assertClose(r.invStd(), g.invStd(), "1/std");
        BatchNormGrads rg = silu ? ref.batchNormSiluBackward(dz.ref(), x.ref(), w.ref(), b.ref(), r.mean(), r.invStd())
                : ref.batchNormBackward(dz.ref(), x.ref(), w.ref(), r.mean(), r.invStd());
        BatchNormGrads gg = silu ? gpu.batchNormSiluBackward(dz.gpu(), x.gpu(), w.gpu(), b.gpu(), g.mean(), g.invStd())
                : gpu.batchNormBackward(dz.gpu(), x.gpu(), w.gpu(), g.mean(), g.invStd());
        assertClose(rg.input(), gg.input(), 1e-4, 1e-4, "input gradient");
        assertClose(rg.weight(), gg.weight(), 1e-4, 1e-4, "weight gradient");
        assertClose(rg.bias(), gg.bias(), 1e-4, 1e-4, "bias gradient");
    }

    @Test
    void matchTheDefaultKernelsAtModelScale() {
        // 800 000 rows of 96 channels: B0's 112² × 96 layer at batch 64 has 802 816; 78 rows a thread.
        Generator gen = new Generator(17);
        Tensor x = Init.normal(gen, Shape.of(8, 100, 1000, 96), 0.5, 1.0, GpuFixture.CUDA);
        Tensor dz = Init.normal(gen, x.shape(), 0.0, 1.0, GpuFixture.CUDA);
        Tensor w = Init.uniform(gen, Shape.of(96), 0.5, 1.5, GpuFixture.CUDA);
        Tensor b = Init.uniform(gen, Shape.of(96), -1, 1, GpuFixture.CUDA);
        BatchNormResult[] r = new BatchNormResult[2];
        BatchNormGrads[] g = new BatchNormGrads[2];
        for (int fast = 0; fast < 2; fast++) {
            gpu.useFastBatchNorm(fast == 1);
            r[fast] = gpu.batchNormSilu(x, w, b, 1e-3);
            g[fast] = gpu.batchNormSiluBackward(dz, x, w, b, r[fast].mean(), r[fast].invStd());
        }
        assertNear(r[0].output(), r[1].output(), 1e-5, "output");
        assertNear(g[0].input(), g[1].input(), 1e-5, "input gradient");
        assertNear(g[0].weight(), g[1].weight(), 1e-5, "weight gradient");
        assertNear(g[0].bias(), g[1].bias(), 1e-5, "bias gradient");
    }

    /** max |fast − default| within {@code relative} of max |default| (computed on the GPU: 77 M values). */
    private static void assertNear(Tensor expected, Tensor actual, double relative, String what) {
        double scale = expected.abs().max().item();
        double diff = expected.sub(actual).abs().max().item();
        assertTrue(diff <= relative * scale, what + ": max |diff| " + diff + " against max |value| " + scale);
    }
}
