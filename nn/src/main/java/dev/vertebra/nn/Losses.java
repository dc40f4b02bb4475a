package dev.vertebra.nn;

import dev.vertebra.core.Autocast;
import dev.vertebra.core.AutocastOp;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Tensor;

/**
 * Training losses.
 *
 * <pre>{@code
 * // RSNA 2022 cervical-spine weighting: columns C1..C7 then patient_overall; positives weigh 2 (4 overall),
 * // negatives 1 (2 overall).
 * Tensor pos = Tensor.of(new float[]{2, 2, 2, 2, 2, 2, 2, 4}, 8);
 * Tensor neg = Tensor.of(new float[]{1, 1, 1, 1, 1, 1, 1, 2}, 8);
 * Tensor loss = Losses.weightedBceWithLogits(logits, targets, pos, neg, Reduction.MEAN);
 * Tensor ce = Losses.crossEntropy(logits, labels, 0.1, Reduction.MEAN);
 * }</pre>
 */
public final class Losses {

    private Losses() {
    }

    /**
     * Binary cross-entropy on logits with a positive and a negative weight per output column:
     * {@code −(wp·y·log σ(x) + wn·(1 − y)·log(1 − σ(x)))}, computed stably as
     * {@code wp·y·softplus(−x) + wn·(1 − y)·softplus(x)}. {@code logits} and {@code targets} are {@code [B, C]};
     * {@code posWeight} and {@code negWeight} are {@code [C]} (either may be null for ones) and broadcast over the
     * batch. MEAN averages over all B·C elements (the weights are not renormalised). Inside an
     * {@link Autocast} scope it computes in float32 ({@link AutocastOp#BCE_WITH_LOGITS}).
     */
    public static Tensor weightedBceWithLogits(Tensor logitsInput, Tensor targetsInput, Tensor posWeightInput,
                                               Tensor negWeightInput, Reduction reduction) {
        AutocastOp policy = AutocastOp.BCE_WITH_LOGITS;
        Tensor logits = policy.input(logitsInput);
        Tensor targets = policy.input(targetsInput);
        Tensor posWeight = policy.input(posWeightInput);
        Tensor negWeight = policy.input(negWeightInput);
        if (!logits.shape().equals(targets.shape())) {
            throw new IllegalArgumentException("weightedBceWithLogits: logits " + logits.describe() + " and targets "
                    + targets.describe() + " differ in shape");
        }
        int columns = logits.dim(-1);
        for (Tensor w : new Tensor[]{posWeight, negWeight}) {
            if (w != null && (w.rank() != 1 || w.dim(0) != columns)) {
                throw new IllegalArgumentException("weightedBceWithLogits: column weights must be [" + columns
                        + "], got " + w.describe());
            }
        }
        Tensor positive = targets.mul(logits.neg().softplus());
        Tensor negative = targets.neg().add(1).mul(logits.softplus());
        if (posWeight != null) {
            positive = positive.mul(posWeight);
        }
        if (negWeight != null) {
            negative = negative.mul(negWeight);
        }
        Tensor loss = positive.add(negative);
        return switch (reduction) {
            case MEAN -> loss.mean();
            case SUM -> loss.sum();
            case NONE -> loss;
        };
    }

    /**
     * Cross-entropy of {@code logits [B, C]} against INT64 {@code labels [B]} with label smoothing ε (PyTorch's
     * definition: the target puts 1 − ε on the label and ε spread uniformly over all C classes).
     */
    public static Tensor crossEntropy(Tensor logits, Tensor labels, double labelSmoothing, Reduction reduction) {
        return Functional.crossEntropy(logits, labels, labelSmoothing, reduction);
    }
}
