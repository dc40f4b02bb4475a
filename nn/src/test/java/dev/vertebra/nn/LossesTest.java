package dev.vertebra.nn;

import dev.vertebra.core.Reduction;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;

/** Losses against PyTorch's binary_cross_entropy_with_logits (per-element weights) and cross_entropy. */
class LossesTest {

    private final Map<String, Tensor> g = Golden.read("losses.safetensors");

    @Test
    void weightedBceMatchesPyTorch() {
        Tensor logits = g.get("logits");
        Tensor targets = g.get("targets");
        Tensor pos = g.get("pos_weight");
        Tensor neg = g.get("neg_weight");
        Golden.assertClose(g.get("bce_none"),
                Losses.weightedBceWithLogits(logits, targets, pos, neg, Reduction.NONE), 1e-6, 1e-7, "none");
        Golden.assertClose(g.get("bce_mean"),
                Losses.weightedBceWithLogits(logits, targets, pos, neg, Reduction.MEAN), 1e-6, 1e-7, "mean");
        Golden.assertClose(g.get("bce_sum"),
                Losses.weightedBceWithLogits(logits, targets, pos, neg, Reduction.SUM), 1e-6, 1e-7, "sum");
    }

    @Test
    void crossEntropyWithLabelSmoothingMatchesPyTorch() {
        Golden.assertClose(g.get("ce_ls0.1_mean"),
                Losses.crossEntropy(g.get("ce_logits"), g.get("ce_labels"), 0.1, Reduction.MEAN), 1e-6, 1e-7, "ce");
    }

    @Test
    void wrongColumnWeightsAreRefused() {
        Tensor logits = g.get("logits");
        assertThrows(IllegalArgumentException.class, () -> Losses.weightedBceWithLogits(logits, g.get("targets"),
                Tensor.ones(7), null, Reduction.MEAN));
        assertThrows(IllegalArgumentException.class, () -> Losses.weightedBceWithLogits(logits, Tensor.ones(6, 7),
                null, null, Reduction.MEAN));
    }
}
