package dev.vertebra.efficientnet;

import dev.vertebra.core.Device;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Generator;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Tensor;
import dev.vertebra.nn.Parameter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Map;
import java.util.SequencedMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reduced-size EfficientNets with B0's and B5's block structure and batch-norm settings against torchvision:
 * weights load strictly from torchvision's state dict, and eval logits, train-mode logits, the loss, the input
 * gradient, parameter gradients and updated running statistics match. small_b0_tf checks the TensorFlow
 * variant (SAME padding, asymmetric at stride 2 on even sizes) against convolutions padded by hand.
 * {@code -Dvertebra.test.device=cuda} runs the same checks on a GPU ({@code bench/scripts/gpu-proof.sh}).
 */
class TorchvisionGoldenTest {

    /** Where the models run: the CPU, or another device for a check on a GPU machine. */
    private static final Device DEVICE = Device.parse(System.getProperty("vertebra.test.device", "cpu"));

    private static final double LOGITS_TOLERANCE = 1e-4;
    private static final double GRADIENT_TOLERANCE = 1e-3;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("small_b0", EfficientNetConfig.custom(0.25, 0.5, 72, 0)),
                Arguments.of("small_b5", EfficientNetConfig.custom(0.4, 0.6, 72, 0).withBatchNorm(1e-3, 0.01)),
                Arguments.of("small_b0_tf", EfficientNetConfig.custom(0.25, 0.5, 72, 0).tfVariant()));
    }

    private static EfficientNet load(String name, EfficientNetConfig config) {
        EfficientNet model = new EfficientNet(config.withClasses(8).withStochasticDepth(0), new Generator(3));
        model.loadStateDict(GoldenFiles.read(name + ".safetensors"), true);
        model.to(DEVICE);
        return model;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void evalLogitsMatch(String name, EfficientNetConfig config) {
        EfficientNet model = load(name, config);
        Map<String, Tensor> io = GoldenFiles.read(name + "_io.safetensors");
        model.eval();
        try (NoGrad _ = NoGrad.enter()) {
            Tensor logits = model.forward(GoldenFiles.nchwToNhwc(io.get("input")).to(DEVICE));
            assertWithin(io.get("eval_logits"), logits, LOGITS_TOLERANCE, name + " eval logits");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void trainModeLogitsAndGradientsMatch(String name, EfficientNetConfig config) {
        EfficientNet model = load(name, config);
        Map<String, Tensor> io = GoldenFiles.read(name + "_io.safetensors");
        model.train();
        Tensor x = GoldenFiles.nchwToNhwc(io.get("input")).to(DEVICE).requiresGrad(true);
        Tensor logits = model.forward(x);
        Tensor loss = Functional.binaryCrossEntropyWithLogits(logits, io.get("targets").to(DEVICE),
                io.get("column_weights").to(DEVICE), null, Reduction.MEAN);
        loss.backward();

        assertWithin(io.get("train_logits"), logits, LOGITS_TOLERANCE, name + " train-mode logits");
        assertWithin(io.get("loss"), loss.reshape(1), LOGITS_TOLERANCE, name + " loss");
        assertWithin(io.get("input_grad"), GoldenFiles.nhwcToNchw(x.grad()), GRADIENT_TOLERANCE, name + " input grad");
        SequencedMap<String, Parameter> params = model.namedParameters();
        io.forEach((key, expected) -> {
            if (key.startsWith("grad.")) {
                Parameter p = params.get(key.substring("grad.".length()));
                assertWithin(expected, p.fileLayout().toFile(p.grad()), GRADIENT_TOLERANCE, name + " " + key);
            }
        });
        Map<String, Tensor> state = model.stateDict();
        for (String buffer : new String[]{"features.0.1.running_mean", "features.0.1.running_var"}) {
            assertWithin(io.get("after." + buffer), state.get(buffer), LOGITS_TOLERANCE, name + " " + buffer);
        }
    }

    private static void assertWithin(Tensor expected, Tensor actual, double tolerance, String what) {
        double error = GoldenFiles.relativeError(expected, actual);
        assertTrue(error <= tolerance, what + ": relative error " + error + " > " + tolerance);
        System.out.printf("%s: relative error %.2e%n", what, error);
    }
}
