package dev.vertebra.nn;

import dev.vertebra.core.Autocast;
import dev.vertebra.core.DType;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One training step of a conv/BN/SiLU/linear network under bfloat16 autocast against PyTorch's
 * {@code torch.autocast("cpu", dtype=torch.bfloat16)} (make_amp_golden.py). Tolerances are stated against the
 * float32 result's scale: PyTorch's own bfloat16 step differs from its float32 step by up to ≈1.6% of the logits'
 * range and ≈0.8% of a gradient's (bfloat16 keeps 8 significant bits); Vertebra's bfloat16 step must lie as close
 * to PyTorch's, and its float32 step much closer.
 */
class AutocastGoldenTest {
    private final SequencedMap<String, Tensor> golden = Golden.read("autocast_bf16.safetensors");

    private static Sequential net() {
        Generator gen = new Generator(0);
        return new Sequential(
                new Conv2d(3, 8, 3, 1, Padding.of(1), 1, 1, true, gen),
                new SiLU(),
                new Conv2d(8, 16, 1, 1, Padding.of(0), 1, 1, false, gen),
                new BatchNorm2d(16, 1e-3, 0.01),
                new SiLU(),
                new AdaptiveAvgPool2d(),
                new Flatten(),
                new Linear(16, 5, true, gen));
    }

    private SequencedMap<String, Tensor> withPrefix(String prefix) {
        SequencedMap<String, Tensor> out = new LinkedHashMap<>();
        golden.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    /** The step's results under golden names: logits, loss, grad.<param> (file layout), grad_x_nhwc, after.<buffer>. */
    private Map<String, Tensor> step(boolean autocast) {
        Sequential net = net();
        assertTrue(net.loadStateDict(withPrefix("state."), true).isClean());
        net.train();
        Tensor x = golden.get("x_nhwc").detach().requiresGrad(true);
        Tensor logits;
        Tensor loss;
        try (Autocast _ = autocast ? Autocast.enter(DType.BFLOAT16) : Autocast.disable()) {
            logits = net.forward(x);
            loss = Losses.crossEntropy(logits, golden.get("labels"), 0, Reduction.MEAN);
        }
        assertEquals(autocast ? DType.BFLOAT16 : DType.FLOAT32, logits.dtype());
        assertEquals(DType.FLOAT32, loss.dtype());
        loss.backward();
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("logits", logits);
        out.put("loss", loss);
        net.namedParameters().forEach((name, p) -> {
            assertEquals(DType.FLOAT32, p.data().dtype(), name);
            assertEquals(DType.FLOAT32, p.grad().dtype(), name);
            out.put("grad." + name, p.fileLayout().toFile(p.grad()));
        });
        out.put("grad_x_nhwc", x.grad());
        net.namedBuffers().forEach((name, b) -> {
            if (name.contains("running")) {
                out.put("after." + name, b.data());
            }
        });
        return out;
    }

    private static double maxAbs(Tensor t) {
        double m = 0;
        for (double v : t.toDoubleArray()) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    private static double maxDiff(Tensor a, Tensor b) {
        assertEquals(a.shape(), b.shape());
        double[] x = a.toDoubleArray();
        double[] y = b.toDoubleArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            m = Math.max(m, Math.abs(x[i] - y[i]));
        }
        return m;
    }

    /** Largest difference from {@code prefix}'s golden tensors, relative to the float32 tensor's largest magnitude. */
    private double worst(Map<String, Tensor> ours, String prefix, StringBuilder report) {
        double worst = 0;
        for (var e : ours.entrySet()) {
            Tensor expected = golden.get(prefix + e.getKey());
            double scale = Math.max(maxAbs(golden.get("fp32." + e.getKey())), 1e-6);
            double relative = maxDiff(expected, e.getValue()) / scale;
            report.append(String.format("%n  %-22s %.2e", e.getKey(), relative));
            worst = Math.max(worst, relative);
        }
        return worst;
    }

    @Test
    void bfloat16StepMatchesTorchAutocast() {
        Map<String, Tensor> ours = step(true);
        StringBuilder report = new StringBuilder("bf16 step, max |diff| / max |fp32| per tensor: Vertebra vs torch bf16, "
                + "Vertebra vs torch fp32, torch bf16 vs torch fp32");
        double worstVsTorch = 0;
        double torchOwnWorst = 0;
        for (var e : ours.entrySet()) {
            String key = e.getKey();
            Tensor fp32 = golden.get("fp32." + key);
            double scale = Math.max(maxAbs(fp32), 1e-6);
            double vsTorch = maxDiff(golden.get("bf16." + key), e.getValue()) / scale;
            double vsExact = maxDiff(fp32, e.getValue()) / scale;
            double torchOwn = maxDiff(golden.get("bf16." + key), fp32) / scale;
            report.append(String.format("%n  %-22s %.2e  %.2e  %.2e", key, vsTorch, vsExact, torchOwn));
            worstVsTorch = Math.max(worstVsTorch, vsTorch);
            torchOwnWorst = Math.max(torchOwnWorst, torchOwn);
            // Vertebra's bfloat16 error is of the same order as PyTorch's own.
            assertTrue(vsExact <= 2.5 * torchOwn + 1e-3, key + ": " + report);
        }
        System.out.println(report);
        assertTrue(torchOwnWorst > 1e-3, "the golden bf16 step really ran in bfloat16: " + report);
        assertTrue(worstVsTorch <= 0.04, report.toString());
    }

    @Test
    void float32StepMatchesTorchFloat32Closely() {
        StringBuilder report = new StringBuilder("Vertebra fp32 vs torch fp32:");
        double worst = worst(step(false), "fp32.", report);
        System.out.println(report);
        assertTrue(worst <= 1e-4, report.toString());
    }
}
