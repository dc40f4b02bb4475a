package dev.vertebra.nn;

import dev.vertebra.core.DType;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModuleTest {

    /** features: [[conv, bn, silu]], head: linear — names like torchvision's EfficientNet. */
    static final class Net extends Module {
        final Sequential features;
        final Linear head;

        Net(Generator gen) {
            features = registerModule("features", new Sequential(
                    new Sequential(new Conv2d(3, 4, 3, 2, Padding.of(1), 1, 1, false, gen), new BatchNorm2d(4),
                            new SiLU())));
            head = registerModule("head", new Linear(4, 2, true, gen));
        }

        @Override
        public Tensor forward(Tensor x) {
            Tensor f = features.forward(x).mean(false, 1, 2);
            return head.forward(f);
        }
    }

    @Test
    void namesFollowPyTorchOrderAndNesting() {
        Net net = new Net(new Generator(1));
        assertEquals(List.of("features.0.0.weight", "features.0.1.weight", "features.0.1.bias", "head.weight",
                "head.bias"), new ArrayList<>(net.namedParameters().keySet()));
        assertEquals(List.of("features.0.1.running_mean", "features.0.1.running_var",
                "features.0.1.num_batches_tracked"), new ArrayList<>(net.namedBuffers().keySet()));
        assertEquals(List.of("features.0.0.weight", "features.0.1.weight", "features.0.1.bias",
                "features.0.1.running_mean", "features.0.1.running_var", "features.0.1.num_batches_tracked",
                "head.weight", "head.bias"), new ArrayList<>(net.stateDict().keySet()));
        assertEquals(3 * 3 * 3 * 4 + 4 + 4 + 8 + 2, net.numParameters());
    }

    @Test
    void stateDictUsesOihwForConvWeightsAndInt64Counter() {
        Net net = new Net(new Generator(1));
        SequencedMap<String, Tensor> state = net.stateDict();
        assertArrayEquals(new int[]{4, 3, 3, 3}, state.get("features.0.0.weight").shape().dims());
        Conv2d conv = (Conv2d) ((Sequential) net.features.get(0)).get(0);
        assertArrayEquals(new int[]{3, 3, 3, 4}, conv.weight().data().shape().dims());
        // element [o=1, i=2, h=0, w=1] of the file tensor is element [h=0, w=1, i=2, o=1] of the held one
        float[] file = state.get("features.0.0.weight").toFloatArray();
        float[] held = conv.weight().data().toFloatArray();
        assertEquals(held[((0 * 3 + 1) * 3 + 2) * 4 + 1], file[((1 * 3 + 2) * 3 + 0) * 3 + 1]);
        Tensor counter = state.get("features.0.1.num_batches_tracked");
        assertEquals(DType.INT64, counter.dtype());
        assertEquals(0, counter.rank());
    }

    /** Sequential fuses batch norm + SiLU: same outputs, gradients and running statistics as running them apart. */
    @Test
    void fusedBatchNormSiluMatchesTheLayersApart() {
        Tensor x = dev.vertebra.core.Init.normal(new Generator(4), dev.vertebra.core.Shape.of(2, 5, 5, 19), 0, 2,
                dev.vertebra.core.Device.CPU);
        BatchNorm2d fusedBn = new BatchNorm2d(19);
        BatchNorm2d apartBn = new BatchNorm2d(19);
        Sequential fused = new Sequential(fusedBn, new SiLU());
        for (BatchNorm2d bn : List.of(fusedBn, apartBn)) {
            try (dev.vertebra.core.NoGrad _ = dev.vertebra.core.NoGrad.enter()) {
                bn.weight().data().assign(Tensor.of(new float[19], 19).add(1.5));
                bn.bias().data().assign(Tensor.of(new float[19], 19).add(-0.25));
            }
        }
        Tensor upstream = dev.vertebra.core.Init.normal(new Generator(5), x.shape(), 0, 1, x.device());
        Tensor z = fused.forward(x);
        z.backward(upstream, false);
        Tensor apart = apartBn.forward(x).silu();
        assertArrayEquals(apart.toFloatArray(), z.toFloatArray(), 1e-5f);
        apart.backward(upstream, false);
        assertArrayEquals(apartBn.weight().grad().toFloatArray(), fusedBn.weight().grad().toFloatArray(), 1e-4f);
        assertArrayEquals(apartBn.bias().grad().toFloatArray(), fusedBn.bias().grad().toFloatArray(), 1e-4f);
        assertArrayEquals(apartBn.runningMean().data().toFloatArray(), fusedBn.runningMean().data().toFloatArray(), 0f);
    }

    @Test
    void trainingCountsBatchesAndEvalDoesNot() {
        Net net = new Net(new Generator(1));
        Tensor x = Tensor.of(new float[2 * 6 * 6 * 3], 2, 6, 6, 3).add(1);
        net.forward(x);
        net.forward(x);
        BatchNorm2d bn = (BatchNorm2d) ((Sequential) net.features.get(0)).get(1);
        assertEquals(2, bn.numBatchesTracked().data().item());
        net.eval();
        assertFalse(bn.isTraining());
        net.forward(x);
        assertEquals(2, bn.numBatchesTracked().data().item());
        net.train();
        assertTrue(bn.isTraining());
    }

    @Test
    void roundTripReproducesOutputs() {
        Net a = new Net(new Generator(1));
        Net b = new Net(new Generator(2));
        a.eval();
        b.eval();
        Tensor x = Tensor.of(new float[]{0.5f, -1, 2, 0.25f, 3, -0.5f}, 1, 1, 2, 3).expand(
                dev.vertebra.core.Shape.of(1, 4, 2, 3)).contiguous();
        LoadReport report = b.loadStateDict(a.stateDict(), true);
        assertTrue(report.isClean());
        assertArrayEquals(a.forward(x).toFloatArray(), b.forward(x).toFloatArray(), 0f);
    }

    @Test
    void strictLoadListsKeysAndLeavesModuleUntouched() {
        Net net = new Net(new Generator(1));
        SequencedMap<String, Tensor> before = net.stateDict();
        SequencedMap<String, Tensor> state = new Net(new Generator(3)).stateDict();
        state.remove("head.bias");
        state.put("classifier.1.weight", Tensor.zeros(2, 4));
        StateDictException e = assertThrows(StateDictException.class, () -> net.loadStateDict(state, true));
        assertEquals(List.of("head.bias"), e.report().missing());
        assertEquals(List.of("classifier.1.weight"), e.report().unexpected());
        assertTrue(e.getMessage().contains("head.bias") && e.getMessage().contains("classifier.1.weight"));
        assertUnchanged(before, net);

        LoadReport lenient = net.loadStateDict(state, false);
        assertEquals(List.of("head.bias"), lenient.missing());
        assertArrayEquals(state.get("head.weight").toFloatArray(), net.head.weight().data().toFloatArray(), 0f);
    }

    @Test
    void shapeMismatchIsRefusedEvenWhenLenient() {
        Net net = new Net(new Generator(1));
        SequencedMap<String, Tensor> before = net.stateDict();
        SequencedMap<String, Tensor> state = new Net(new Generator(3)).stateDict();
        state.put("head.weight", Tensor.zeros(3, 4));
        StateDictException e = assertThrows(StateDictException.class, () -> net.loadStateDict(state, false));
        assertEquals(1, e.report().mismatched().size());
        assertTrue(e.report().mismatched().getFirst().startsWith("head.weight"));
        assertUnchanged(before, net);
    }

    @Test
    void freezeDropsGradientsAndTrainableList() {
        Net net = new Net(new Generator(1));
        net.features.freeze();
        assertEquals(2, net.trainableParameters().size());
        Tensor x = Tensor.ones(2, 4, 4, 3);
        net.forward(x).sum().backward();
        net.features.namedParameters().values().forEach(p -> assertNull(p.grad()));
        assertTrue(net.head.weight().grad() != null);
        net.unfreeze();
        assertEquals(5, net.trainableParameters().size());
    }

    @Test
    void applyVisitsChildrenBeforeParents() {
        Net net = new Net(new Generator(1));
        List<String> seen = new ArrayList<>();
        net.apply(m -> seen.add(m.getClass().getSimpleName()));
        assertEquals(List.of("Conv2d", "BatchNorm2d", "SiLU", "Sequential", "Sequential", "Linear", "Net"), seen);
    }

    @Test
    void duplicateOrDottedNamesAreRefused() {
        Module m = new Module() {
            {
                registerModule("a", new Identity());
                assertThrows(IllegalArgumentException.class, () -> registerModule("a", new Identity()));
                assertThrows(IllegalArgumentException.class, () -> registerModule("b.c", new Identity()));
            }

            @Override
            public Tensor forward(Tensor x) {
                return x;
            }
        };
        assertEquals(1, m.namedChildren().size());
    }

    static void assertUnchanged(Map<String, Tensor> before, Module m) {
        SequencedMap<String, Tensor> now = m.stateDict();
        before.forEach((k, v) -> assertArrayEquals(v.toDoubleArray(), now.get(k).toDoubleArray(), 0.0, k));
    }
}
