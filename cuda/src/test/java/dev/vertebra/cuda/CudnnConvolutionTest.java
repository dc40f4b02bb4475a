package dev.vertebra.cuda;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.Random;

import static dev.vertebra.cuda.GpuFixture.Pair;
import static dev.vertebra.cuda.GpuFixture.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GPU with cuDNN only: the cuDNN convolution path alone (forward, backward data, backward filter) against the
 * reference backend for every kind of convolution the models use, the own-kernel path on the same problems, and
 * cuDNN batch norm. Skipped, with the reason, without a GPU or without cuDNN.
 */
class CudnnConvolutionTest {
    private CudaBackend gpu;
    private Backend ref;
    private final Random rnd = new Random(7);

    @BeforeEach
    void open() {
        gpu = GpuFixture.requireGpu();
        ref = GpuFixture.reference();
        System.out.println("cuDNN: " + gpu.cudnnStatus());
        Assumptions.assumeTrue(gpu.cudnnStatus().startsWith("cuDNN 9"), "no cuDNN, cuDNN tests skipped: "
                + gpu.cudnnStatus());
    }

    private record Case(String what, int n, int h, int w, int cin, int kh, int kw, int cout, ConvSpec spec) {
    }

    private static final Case[] CASES = {
        new Case("dense 3x3 s1 p1", 2, 9, 7, 5, 3, 3, 6, ConvSpec.of(1, 1, 1, 1)),
        new Case("strided 3x3 s2 p1", 2, 9, 8, 4, 3, 3, 8, ConvSpec.of(2, 1, 1, 1)),
        new Case("TF-same 3x3 s2 (asymmetric)", 2, 8, 9, 3, 3, 3, 5, ConvSpec.same(8, 9, 3, 3, 2, 1, 1)),
        new Case("TF-same 5x5 s1", 1, 7, 7, 4, 5, 5, 4, ConvSpec.same(7, 7, 5, 5, 1, 1, 1)),
        new Case("grouped g=4", 2, 6, 6, 8, 3, 3, 12, ConvSpec.of(1, 1, 1, 4)),
        new Case("depthwise 3x3 s1", 2, 10, 10, 16, 3, 3, 16, ConvSpec.of(1, 1, 1, 16)),
        new Case("depthwise 5x5 s2 TF-same", 2, 12, 11, 8, 5, 5, 8, ConvSpec.same(12, 11, 5, 5, 2, 1, 8)),
        new Case("depthwise multiplier 2", 1, 6, 6, 3, 3, 3, 6, ConvSpec.of(1, 1, 1, 3)),
        new Case("pointwise 1x1", 4, 7, 7, 24, 1, 1, 40, ConvSpec.of(1, 0, 1, 1)),
        new Case("1x1 stride 2", 2, 9, 9, 6, 1, 1, 10, ConvSpec.of(2, 0, 1, 1)),
        new Case("dilated 3x3 d2", 2, 11, 10, 4, 3, 3, 5, ConvSpec.of(1, 2, 2, 1)),
        new Case("dilated asymmetric 5x3", 1, 9, 8, 2, 5, 3, 3, new ConvSpec(1, 2, 2, 1, 0, 3, 2, 1, 1)),
        new Case("stem 3x3 s2 TF-same on 32x32x3", 2, 32, 32, 3, 3, 3, 32, ConvSpec.same(32, 32, 3, 3, 2, 1, 1)),
    };

    @Test
    void cudnnPathMatchesTheReference() {
        for (Case c : CASES) {
            Pair x = Pair.random(rnd, -1, 1, c.n(), c.h(), c.w(), c.cin());
            Pair wt = Pair.random(rnd, -1, 1, c.kh(), c.kw(), c.cin() / c.spec().groups(), c.cout());
            Tensor yRef = ref.conv2d(x.ref(), wt.ref(), c.spec());
            assertClose(yRef, present(gpu.cudnnConv2d(x.gpu(), wt.gpu(), c.spec()), c, "forward"), 1e-4, 1e-4,
                    c.what() + " forward");
            Pair dy = Pair.random(rnd, -1, 1, yRef.shape().dims());
            assertClose(ref.conv2dBackwardInput(dy.ref(), wt.ref(), x.ref().shape(), c.spec()),
                    present(gpu.cudnnConv2dBackwardInput(dy.gpu(), wt.gpu(), x.gpu().shape(), c.spec()), c, "dx"),
                    1e-4, 1e-4, c.what() + " dx");
            assertClose(ref.conv2dBackwardWeight(x.ref(), dy.ref(), wt.ref().shape(), c.spec()),
                    present(gpu.cudnnConv2dBackwardWeight(x.gpu(), dy.gpu(), wt.gpu().shape(), c.spec()), c, "dw"),
                    1e-4, 1e-4, c.what() + " dw");
            CudnnConvolutions.Choice[] chosen = gpu.cudnnChoices(x.gpu().shape(), wt.gpu().shape(), c.spec());
            for (Cudnn.Direction d : Cudnn.Direction.values()) {
                CudnnConvolutions.Choice choice = chosen[d.ordinal()];
                assertNotNull(choice, c.what() + ": no " + d + " choice recorded");
                assertTrue(d.precise(choice.algo()), c.what() + ": " + d + " chose algorithm " + choice.algo()
                        + ", outside the default (precise) set");
                System.out.println("cuDNN " + c.what() + " " + d + ": " + choice);
            }
        }
    }

    private static Tensor present(Optional<Tensor> result, Case c, String what) {
        assertTrue(result.isPresent(), c.what() + " " + what + ": cuDNN declined the problem");
        return result.get();
    }

    @Test
    void ownKernelsStillAgreeWhenCudnnIsSwitchedOff() {
        assertTrue(gpu.cudnnActive(), "cuDNN is the default path when found");
        try {
            assertFalse(gpu.useCudnn(false));
            for (Case c : CASES) {
                Pair x = Pair.random(rnd, -1, 1, c.n(), c.h(), c.w(), c.cin());
                Pair wt = Pair.random(rnd, -1, 1, c.kh(), c.kw(), c.cin() / c.spec().groups(), c.cout());
                Tensor yRef = ref.conv2d(x.ref(), wt.ref(), c.spec());
                assertClose(yRef, gpu.conv2d(x.gpu(), wt.gpu(), c.spec()), 1e-4, 1e-4, c.what() + " own forward");
                Pair dy = Pair.random(rnd, -1, 1, yRef.shape().dims());
                assertClose(ref.conv2dBackwardInput(dy.ref(), wt.ref(), x.ref().shape(), c.spec()),
                        gpu.conv2dBackwardInput(dy.gpu(), wt.gpu(), x.gpu().shape(), c.spec()), 1e-4, 1e-4,
                        c.what() + " own dx");
                assertClose(ref.conv2dBackwardWeight(x.ref(), dy.ref(), wt.ref().shape(), c.spec()),
                        gpu.conv2dBackwardWeight(x.gpu(), dy.gpu(), wt.gpu().shape(), c.spec()), 1e-4, 1e-4,
                        c.what() + " own dw");
            }
        } finally {
            assertTrue(gpu.useCudnn(true));
        }
    }

    @Test
    void theConformanceSuiteRunsOnCudnn() {
        assertSame(gpu, Backends.get(GpuFixture.CUDA), "one backend per device");
        assertTrue(gpu.cudnnActive(), "CudaConformanceTest goes through cuDNN only if it is the default path");
        assertTrue(gpu.description().contains("cuDNN"), gpu.description());
    }

    @Test
    void stridedAndOffsetInputs() {
        Pair x = Pair.random(rnd, -1, 1, 2, 5, 7, 6).map(t -> t.permute(0, 2, 1, 3).narrow(3, 1, 4));
        Pair wt = Pair.random(rnd, -1, 1, 3, 3, 4, 2);
        ConvSpec spec = ConvSpec.of(1, 1, 1, 1);
        assertClose(ref.conv2d(x.ref(), wt.ref(), spec),
                gpu.cudnnConv2d(x.gpu(), wt.gpu(), spec).orElseThrow(), 1e-4, 1e-4, "strided view");
        Pair wView = Pair.random(rnd, -1, 1, 3, 3, 4, 5).map(t -> t.narrow(3, 1, 2));
        assertClose(ref.conv2d(x.ref(), wView.ref(), spec),
                gpu.cudnnConv2d(x.gpu(), wView.gpu(), spec).orElseThrow(), 1e-4, 1e-4, "weight view");
    }

    @Test
    void emptyProblemsAreLeftToTheOwnKernels() {
        Pair x = Pair.random(rnd, -1, 1, 0, 5, 5, 3);
        Pair wt = Pair.random(rnd, -1, 1, 3, 3, 3, 4);
        assertFalse(gpu.cudnnConv2d(x.gpu(), wt.gpu(), ConvSpec.of(1, 1, 1, 1)).isPresent());
        assertEquals(Shape.of(0, 5, 5, 4), gpu.conv2d(x.gpu(), wt.gpu(), ConvSpec.of(1, 1, 1, 1)).shape());
    }

    @Test
    void batchNormThroughCudnn() {
        for (double eps : new double[]{1e-5, 1e-3}) {
            Pair x = Pair.random(rnd, -2, 3, 4, 5, 6, 24);
            Pair w = Pair.random(rnd, 0.5, 1.5, 24);
            Pair b = Pair.random(rnd, -0.5, 0.5, 24);
            Backend.BatchNormResult r = ref.batchNorm(x.ref(), w.ref(), b.ref(), eps);
            Backend.BatchNormResult g = gpu.cudnnBatchNorm(x.gpu(), w.gpu(), b.gpu(), eps).orElseThrow();
            assertClose(r.output(), g.output(), 1e-4, 1e-4, "bn output eps " + eps);
            assertClose(r.mean(), g.mean(), 1e-5, 1e-4, "bn mean");
            assertClose(r.variance(), g.variance(), 1e-4, 1e-4, "bn variance");
            assertClose(r.invStd(), g.invStd(), 1e-4, 1e-4, "bn invStd");
            Pair dy = Pair.random(rnd, -1, 1, 4, 5, 6, 24);
            Backend.BatchNormGrads rg = ref.batchNormBackward(dy.ref(), x.ref(), w.ref(), r.mean(), r.invStd());
            Backend.BatchNormGrads gg = gpu.cudnnBatchNormBackward(dy.gpu(), x.gpu(), w.gpu(), g.mean(), g.invStd())
                    .orElseThrow();
            assertClose(rg.input(), gg.input(), 1e-4, 1e-3, "bn dx");
            assertClose(rg.weight(), gg.weight(), 1e-3, 1e-4, "bn dweight");
            assertClose(rg.bias(), gg.bias(), 1e-3, 1e-4, "bn dbias");
        }
        Pair x = Pair.random(rnd, -1, 1, 3, 4);
        Pair w = Pair.random(rnd, 0.5, 1.5, 4);
        assertFalse(gpu.cudnnBatchNorm(x.gpu(), w.gpu(), w.gpu(), 1e-6).isPresent(), "eps below cuDNN's minimum");
    }
}
