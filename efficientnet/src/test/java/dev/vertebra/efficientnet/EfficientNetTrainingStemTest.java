package dev.vertebra.efficientnet;

import dev.vertebra.core.Backends;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.ProfilingBackend;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.nn.Parameter;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * In training {@link EfficientNet#forward} runs the stem's batch norm + SiLU and the first block's depthwise layer as
 * one op ({@link MBConv#forwardAfterStem}); {@link EfficientNet#features} runs every layer on its own. The fused
 * backward adds its batch norm sums in another order, so the two graphs agree within rounding: logits, the input
 * gradient, every parameter's gradient and the stem's running statistics.
 */
class EfficientNetTrainingStemTest {
    private static final double TOLERANCE = 1e-4;

    @Test
    void theFusedStemTrainsAsTheLayerByLayerGraph() {
        // B0's blocks at a reduced width (a 16-channel stem, whole vectors); the demo's network on one channel.
        assertSameTraining(EfficientNetConfig.custom(0.5, 0.5, 64, 0).withClasses(8).withStochasticDepth(0),
                Shape.of(2, 48, 48, 3));
        assertSameTraining(EfficientNetConfig.custom(0.5, 0.25, 64, 0).withClasses(8).withInChannels(1)
                .withStochasticDepth(0), Shape.of(3, 40, 48, 1));
    }

    private static void assertSameTraining(EfficientNetConfig config, Shape input) {
        ProfilingBackend profiler = Backends.profiled(Device.CPU);
        EfficientNet fused = new EfficientNet(config, new Generator(11));
        EfficientNet apart = new EfficientNet(config, new Generator(11));
        fused.to(profiler.device());
        fused.train();
        apart.train();
        Generator gen = new Generator(input.numel());
        Tensor image = Init.normal(gen, input, 0, 1, Device.CPU);
        Tensor weights = Init.normal(gen, Shape.of(input.dim(0), 8), 0, 1, Device.CPU);

        profiler.reset();
        Tensor xFused = image.to(profiler.device()).requiresGrad(true);
        Tensor logitsFused = fused.forward(xFused);
        logitsFused.mul(weights.to(profiler.device())).sum().backward();
        List<String> ops = profiler.times().stream().map(ProfilingBackend.OpTime::op).toList();
        assertTrue(ops.stream().anyMatch(op -> op.startsWith("batch norm+silu + conv2d fwd depthwise")),
                "the stem's batch norm + SiLU and the depthwise layer as one op: " + ops);

        Tensor xApart = image.detach().requiresGrad(true);
        List<Tensor> maps = apart.features(xApart);
        Tensor logitsApart = apart.classifier().forward(maps.getLast().mean(false, 1, 2));
        logitsApart.mul(weights).sum().backward();

        String name = config.name();
        assertClose(logitsApart, logitsFused, name + " logits");
        assertClose(xApart.grad(), xFused.grad(), name + " input gradient");
        Map<String, Parameter> apartParams = apart.namedParameters();
        Map<String, Parameter> fusedParams = fused.namedParameters();
        assertEquals(apartParams.keySet(), fusedParams.keySet());
        apartParams.forEach((key, p) -> assertClose(p.grad(), fusedParams.get(key).grad(), name + " " + key));
        Map<String, Tensor> apartState = apart.stateDict();
        Map<String, Tensor> fusedState = fused.stateDict();
        for (String buffer : new String[] {"features.0.1.running_mean", "features.0.1.running_var"}) {
            assertClose(apartState.get(buffer), fusedState.get(buffer), name + " " + buffer);
        }
    }

    /** max |a − b| within {@value #TOLERANCE} of max |expected|. */
    private static void assertClose(Tensor expected, Tensor actual, String what) {
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        assertEquals(e.length, a.length, what);
        double scale = 0;
        double error = 0;
        for (int i = 0; i < e.length; i++) {
            scale = Math.max(scale, Math.abs(e[i]));
            error = Math.max(error, Math.abs(e[i] - a[i]));
        }
        assertTrue(scale > 0, what + " is not all zeros");
        assertTrue(error <= TOLERANCE * scale, what + ": max error " + error + " against max " + scale);
    }
}
