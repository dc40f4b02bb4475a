package dev.vertebra.cuda;

import dev.vertebra.core.Backend;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static dev.vertebra.cuda.GpuFixture.Pair;
import static dev.vertebra.cuda.GpuFixture.assertClose;

/**
 * GPU only: the depthwise run kernels (four outputs per thread; {@code -Dvertebra.cuda.depthwiseRuns=true}) against
 * the reference backend — 3×3 and 5×5, stride 1 and 2, symmetric and TF-"same" padding, widths that leave a partial
 * run, forward and the stride-1 data gradient.
 */
class DepthwiseRunsTest {
    private CudaBackend gpu;
    private boolean before;

    @BeforeEach
    void open() {
        gpu = GpuFixture.requireGpu();
        before = gpu.depthwiseRuns();
        gpu.useDepthwiseRuns(true);
    }

    @AfterEach
    void restore() {
        if (gpu != null) {
            gpu.useDepthwiseRuns(before);
        }
    }

    @ParameterizedTest(name = "{0}x{0} stride {1}, {2}x{3}, {4} channels, same {5}")
    @CsvSource({"3, 1, 9, 11, 40, false", "3, 2, 10, 9, 36, true", "5, 1, 8, 7, 33, false", "5, 2, 11, 10, 64, true",
            "3, 1, 16, 14, 96, true"})
    void matchTheReference(int k, int stride, int h, int w, int c, boolean same) {
        Random rnd = new Random(k * 100 + stride);
        ConvSpec spec = same ? ConvSpec.same(h, w, k, k, stride, 1, c) : ConvSpec.of(stride, k / 2, 1, c);
        Pair x = Pair.random(rnd, -1, 1, 2, h, w, c);
        Pair wt = Pair.random(rnd, -1, 1, k, k, 1, c);
        Backend ref = GpuFixture.reference();
        Tensor y = ref.conv2d(x.ref(), wt.ref(), spec);
        assertClose(y, gpu.conv2d(x.gpu(), wt.gpu(), spec).to(y.device()), "forward");
        if (stride == 1) {
            Pair dy = Pair.random(rnd, -1, 1, y.shape().dims());
            Shape xs = x.ref().shape();
            Tensor dx = ref.conv2dBackwardInput(dy.ref(), wt.ref(), xs, spec);
            assertClose(dx, gpu.conv2dBackwardInput(dy.gpu(), wt.gpu(), xs, spec).to(dx.device()), "data gradient");
        }
    }
}
