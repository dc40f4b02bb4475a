package dev.vertebra.nn;

import dev.vertebra.core.Generator;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.core.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A PyTorch Sequential (conv+bias, BN, SiLU, depthwise conv, BN, ReLU, pool, flatten, linear) saved by PyTorch;
 * Vertebra loads its state dict and reproduces its outputs in evaluation and training mode, and writes back the
 * very same state dict.
 */
class SmallNetGoldenTest {

    private final SequencedMap<String, Tensor> golden = Golden.read("small_net.safetensors");

    static Sequential smallNet(Generator gen) {
        return new Sequential(
                new Conv2d(3, 8, 3, 1, Padding.of(1), 1, 1, true, gen),
                new BatchNorm2d(8, 1e-3, 0.01),
                new SiLU(),
                new Conv2d(8, 8, 3, 2, Padding.of(1), 1, 8, false, gen),
                new BatchNorm2d(8),
                new ReLU(),
                new AdaptiveAvgPool2d(),
                new Flatten(),
                new Linear(8, 5, true, gen));
    }

    private SequencedMap<String, Tensor> torchState(String prefix) {
        SequencedMap<String, Tensor> state = new LinkedHashMap<>();
        golden.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                state.put(k.substring(prefix.length()), v);
            }
        });
        return state;
    }

    @Test
    void keysAndShapesAreTorchvisionsOwn() {
        SequencedMap<String, Tensor> torch = torchState("state.");
        SequencedMap<String, Tensor> ours = smallNet(new Generator(0)).stateDict();
        assertEquals(new ArrayList<>(torch.keySet()), new ArrayList<>(ours.keySet()));
        torch.forEach((k, v) -> {
            assertEquals(v.shape(), ours.get(k).shape(), k);
            assertEquals(v.dtype(), ours.get(k).dtype(), k);
        });
    }

    @Test
    void evaluationOutputMatchesPyTorch() {
        Sequential net = smallNet(new Generator(0));
        assertTrue(net.loadStateDict(torchState("state."), true).isClean());
        net.eval();
        Golden.assertClose(golden.get("eval_out"), net.forward(golden.get("x_nhwc")), 1e-5, 1e-6, "eval output");
    }

    @Test
    void trainingOutputAndRunningStatisticsMatchPyTorch() {
        Sequential net = smallNet(new Generator(0));
        net.loadStateDict(torchState("state."), true);
        net.train();
        Golden.assertClose(golden.get("train_out"), net.forward(golden.get("x_nhwc")), 1e-5, 1e-6, "train output");
        SequencedMap<String, Tensor> after = torchState("after_train.");
        SequencedMap<String, Tensor> ours = net.stateDict();
        assertEquals(4, after.size() - 2);
        after.forEach((k, v) -> Golden.assertClose(v, ours.get(k), 1e-5, 1e-6, k));
        assertEquals(8, ours.get("1.num_batches_tracked").item());
    }

    @Test
    void savedFileHoldsTheSameStateDictPyTorchWrote(@TempDir Path dir) throws IOException {
        Sequential net = smallNet(new Generator(0));
        net.loadStateDict(torchState("state."), true);
        Path file = dir.resolve("net.safetensors");
        Checkpoint.saveWeights(file, net);
        Safetensors.Contents back = Safetensors.read(file);
        assertEquals("pt", back.metadata().get("format"));
        SequencedMap<String, Tensor> torch = torchState("state.");
        assertEquals(new ArrayList<>(torch.keySet()), new ArrayList<>(back.tensors().keySet()));
        for (Map.Entry<String, HostArray> e : back.tensors().entrySet()) {
            HostArray expected = torch.get(e.getKey()).toHost();
            assertEquals(expected, e.getValue(), e.getKey());
        }
        Sequential reloaded = smallNet(new Generator(9));
        assertTrue(Checkpoint.loadWeights(file, reloaded, true).isClean());
        reloaded.eval();
        assertArrayEquals(golden.get("eval_out").toFloatArray(),
                reloaded.forward(golden.get("x_nhwc")).toFloatArray(), 1e-5f);
    }

    @Test
    void convInitialiserUsesTorchFanOutIgnoringGroups() {
        Conv2d depthwise = new Conv2d(64, 64, 3, 1, Padding.of(1), 1, 64, false, new Generator(3));
        double[] w = depthwise.weight().data().toDoubleArray();
        double sq = 0;
        for (double v : w) {
            sq += v * v;
        }
        double std = Math.sqrt(sq / w.length);
        // fan_out = Cout·K·K = 576 → std 0.0589 (dividing by groups would give 0.471)
        assertEquals(Math.sqrt(2.0 / 576), std, 0.006);
        Linear fc = new Linear(16, 100, true, new Generator(4));
        for (double v : fc.weight().data().toDoubleArray()) {
            assertTrue(Math.abs(v) <= 0.1, "linear weight within ±1/√100");
        }
        assertArrayEquals(new double[100], fc.bias().data().toDoubleArray(), 0.0);
        List<Double> bnWeight = new ArrayList<>();
        for (double v : new BatchNorm2d(4).weight().data().toDoubleArray()) {
            bnWeight.add(v);
        }
        assertEquals(List.of(1.0, 1.0, 1.0, 1.0), bnWeight);
    }
}
