package dev.vertebra.core.golden;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Device;
import dev.vertebra.core.Functional;
import dev.vertebra.core.PoolSpec;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.conformance.Tolerance;
import dev.vertebra.core.io.HostArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every committed PyTorch golden case (resources/golden, see its README), run on {@code cpu} and on
 * {@code cpu-reference}: forward output, the gradient of every input and parameter PyTorch saved (for the
 * saved upstream gradient), batch-norm running statistics after the call and the saved intermediates.
 * Convolution weights are PyTorch's OIHW leaves viewed as HWIO with {@code permute(2, 3, 1, 0)}, so their
 * gradients come back in OIHW and compare directly with the files.
 */
class PyTorchGoldenTest {

    /**
     * The goldens are float64 results rounded to float32; Vertebra computes in float32 (each op of a composite
     * rounding once), so a few ulp of the element plus accumulation error relative to the tensor's scale.
     */
    private static final Tolerance TOLERANCE = new Tolerance(1e-5, 1e-5,
            "float32 results of composites vs PyTorch's float64 rounded to float32");

    static Stream<Arguments> casesOnDevices() {
        return GoldenCase.names().stream()
                .flatMap(name -> Stream.of(Arguments.of(name, Device.CPU), Arguments.of(name, Device.REFERENCE)));
    }

    @Test
    void indexListsEveryOpTheSuiteMustCover() {
        List<String> ops = GoldenCase.names().stream().map(n -> GoldenCase.load(n).op()).distinct().toList();
        for (String op : List.of("conv2d", "batch_norm", "silu", "se_mul", "se_block", "bce_with_logits",
                "cross_entropy", "softmax", "log_softmax", "max_pool2d", "avg_pool2d", "global_avg_pool", "matmul",
                "var", "mse_loss")) {
            assertTrue(ops.contains(op), "no golden case for " + op + " in index.json: " + ops);
        }
        assertTrue(GoldenCase.names().size() >= 30, "index.json lists " + GoldenCase.names().size() + " cases");
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("casesOnDevices")
    void matchesPyTorch(String name, Device device) {
        GoldenCase c = GoldenCase.load(name);
        Map<String, Tensor> t = new HashMap<>();
        for (Map.Entry<String, String> file : c.roles().entrySet()) {
            String role = file.getValue();
            if (List.of("input", "param", "target", "weight", "state").contains(role)) {
                t.put(file.getKey(), c.tensor(file.getKey(), device, c.has("grad_" + file.getKey())));
            }
        }
        Tensor out = run(c, t, device);
        assertEquals(device, out.device());
        assertMatches(c, "out", out);
        out.backward(c.tensor("grad_out", device, false), false);
        int grads = 0;
        for (Map.Entry<String, String> file : c.roles().entrySet()) {
            switch (file.getValue()) {
                case "grad" -> {
                    String of = file.getKey().substring("grad_".length());
                    assertNotNull(t.get(of).grad(), name + ": no gradient for " + of);
                    assertMatches(c, file.getKey(), t.get(of).grad());
                    grads++;
                }
                case "state_after" -> assertMatches(c, file.getKey(),
                        t.get(file.getKey().substring(0, file.getKey().length() - "_after".length())));
                case "state" -> {
                    if (!c.json().contains("\"training\": true")) {
                        assertMatches(c, file.getKey(), t.get(file.getKey()));   // evaluation leaves them alone
                    }
                }
                default -> {
                }
            }
        }
        assertTrue(grads > 0, name + " checked no gradient");
    }

    private static void assertMatches(GoldenCase c, String file, Tensor got) {
        HostArray want = c.array(file);
        assertArrayEquals(want.shape(), got.shape().dims(), c.name() + ": shape of " + file);
        double[] w = new double[want.size()];
        float[] data = (float[]) want.data();
        for (int i = 0; i < w.length; i++) {
            w[i] = data[i];
        }
        TOLERANCE.assertClose(c.name() + "/" + file, w, got.toDoubleArray());
    }

    private static Tensor run(GoldenCase c, Map<String, Tensor> t, Device device) {
        return switch (c.op()) {
            case "conv2d" -> {
                int[] stride = c.ints("stride");
                int[] dilation = c.ints("dilation");
                ConvSpec spec = new ConvSpec(stride[0], stride[1], (int) c.number("pad_top"),
                        (int) c.number("pad_bottom"), (int) c.number("pad_left"), (int) c.number("pad_right"),
                        dilation[0], dilation[1], (int) c.number("groups"));
                yield Functional.conv2d(t.get("x"), hwio(t.get("weight")), t.get("bias"), spec);
            }
            case "batch_norm" -> {
                if (c.flag("training")) {
                    checkBatchStatistics(c, t, device);
                }
                yield Functional.batchNorm(t.get("x"), t.get("running_mean"), t.get("running_var"), t.get("weight"),
                        t.get("bias"), c.flag("training"), c.number("momentum"), c.number("eps"));
            }
            case "silu" -> t.get("x").silu();
            case "se_mul" -> t.get("x").mul(t.get("g"));
            case "se_block" -> {
                Tensor gate = seGate(t);
                assertMatches(c, "gate", gate.detach());
                yield t.get("x").mul(gate);
            }
            case "bce_with_logits" -> {
                requireMeanReduction(c);
                yield Functional.binaryCrossEntropyWithLogits(t.get("logits"), t.get("targets"), t.get("weight"),
                        t.get("pos_weight"), Reduction.MEAN);
            }
            case "cross_entropy" -> {
                requireMeanReduction(c);
                yield Functional.crossEntropy(t.get("logits"), t.get("labels"), c.number("label_smoothing"),
                        Reduction.MEAN);
            }
            case "mse_loss" -> {
                requireMeanReduction(c);
                yield Functional.mseLoss(t.get("input"), t.get("target"), Reduction.MEAN);
            }
            case "softmax" -> Functional.softmax(t.get("x"), (int) c.number("dim"));
            case "log_softmax" -> Functional.logSoftmax(t.get("x"), (int) c.number("dim"));
            case "max_pool2d", "avg_pool2d" -> {
                int[] k = c.ints("kernel");
                int[] s = c.ints("stride");
                int[] p = c.ints("padding");
                assertEquals(false, c.flag("ceil_mode"), "only floor mode exists");
                boolean max = c.op().equals("max_pool2d");
                yield Functional.pool2d(t.get("x"), new PoolSpec(max, k[0], k[1], s[0], s[1], p[0], p[0], p[1], p[1],
                        max || c.flag("count_include_pad")));
            }
            case "global_avg_pool" -> Functional.globalAvgPool(t.get("x"));
            case "matmul" -> t.get("a").matmul(t.get("b"));
            case "var" -> t.get("x").var((int) c.number("correction"), c.flag("keepdim"), c.ints("dims"));
            default -> throw new IllegalStateException("golden case " + c.name() + " has an op this test does not run: "
                    + c.op());
        };
    }

    /** SE gate: mean over H, W → 1×1 conv → SiLU → 1×1 conv → sigmoid, [N, 1, 1, C]. */
    private static Tensor seGate(Map<String, Tensor> t) {
        ConvSpec pointwise = ConvSpec.of(1, 0, 1, 1);
        Tensor s = Functional.globalAvgPool(t.get("x"));
        s = Functional.conv2d(s, hwio(t.get("reduce_weight")), t.get("reduce_bias"), pointwise).silu();
        return Functional.conv2d(s, hwio(t.get("expand_weight")), t.get("expand_bias"), pointwise).sigmoid();
    }

    /** PyTorch's OIHW weight viewed as Vertebra's HWIO [KH, KW, Cin/groups, Cout]. */
    private static Tensor hwio(Tensor oihw) {
        return oihw.permute(2, 3, 1, 0);
    }

    /** The backend primitive's batch statistics against the saved batch mean and biased variance. */
    private static void checkBatchStatistics(GoldenCase c, Map<String, Tensor> t, Device device) {
        Backend backend = Backends.get(device);
        Backend.BatchNormResult r = backend.batchNorm(t.get("x").detach(), t.get("weight").detach(),
                t.get("bias").detach(), c.number("eps"));
        assertMatches(c, "batch_mean", r.mean());
        assertMatches(c, "batch_var", r.variance());
    }

    private static void requireMeanReduction(GoldenCase c) {
        assertTrue(c.json().contains("\"reduction\": \"mean\""), c.name() + ": expected reduction mean");
    }
}
