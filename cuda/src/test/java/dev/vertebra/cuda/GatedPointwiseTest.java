package dev.vertebra.cuda;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backend.GatedConvGrads;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static dev.vertebra.cuda.GpuFixture.Pair;
import static dev.vertebra.cuda.GpuFixture.assertClose;

/**
 * GPU only: the gated 1×1 convolution as batched GEMMs over per-image weights ({@code -Dvertebra.cuda.gatedGemm=true})
 * against the reference backend's separate ops — forward and all three gradients, B0-like shapes and odd ones.
 */
class GatedPointwiseTest {
    private CudaBackend gpu;
    private boolean before;

    @BeforeEach
    void open() {
        gpu = GpuFixture.requireGpu();
        before = gpu.gatedGemm();
        gpu.useGatedGemm(true);
    }

    @AfterEach
    void restore() {
        if (gpu != null) {
            gpu.useGatedGemm(before);
        }
    }

    @ParameterizedTest(name = "{0} images {1}x{2}, {3} -> {4}")
    @CsvSource({"2, 7, 7, 96, 24", "3, 5, 9, 33, 7", "1, 14, 14, 480, 80", "4, 3, 3, 8, 1"})
    void matchesTheSeparateOps(int n, int h, int w, int cin, int cout) {
        Random rnd = new Random(n * 1000 + cin);
        ConvSpec spec = ConvSpec.of(1, 0, 1, 1);
        Pair x = Pair.random(rnd, -1, 1, n, h, w, cin);
        Pair gate = Pair.random(rnd, 0, 1, n, 1, 1, cin);
        Pair wt = Pair.random(rnd, -0.5, 0.5, 1, 1, cin, cout);
        Backend ref = GpuFixture.reference();
        Tensor y = ref.conv2dGated(x.ref(), gate.ref(), wt.ref(), spec);
        assertClose(y, gpu.conv2dGated(x.gpu(), gate.gpu(), wt.gpu(), spec).to(y.device()), "forward");
        Pair dy = Pair.random(rnd, -1, 1, y.shape().dims());
        GatedConvGrads e = ref.conv2dGatedBackward(dy.ref(), x.ref(), gate.ref(), wt.ref(), spec);
        GatedConvGrads a = gpu.conv2dGatedBackward(dy.gpu(), x.gpu(), gate.gpu(), wt.gpu(), spec);
        assertClose(e.input(), a.input().to(y.device()), "input gradient");
        assertClose(e.gate(), a.gate().to(y.device()), 1e-4, 1e-4, "gate gradient");
        assertClose(e.weight(), a.weight().to(y.device()), 1e-4, 1e-4, "weight gradient");
    }
}
