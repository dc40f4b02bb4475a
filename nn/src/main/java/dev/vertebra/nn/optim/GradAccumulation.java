package dev.vertebra.nn.optim;

import dev.vertebra.core.Tensor;

/**
 * Gradient accumulation over {@code k} micro-batches: gradients add up across backward passes, so scaling each
 * micro-batch's mean loss by 1/k makes their sum the gradient of the mean loss over the whole effective batch —
 * the same step as one batch k times larger, with the same learning rate. (Batch-norm statistics still see
 * micro-batches.)
 *
 * <pre>{@code
 * GradAccumulation acc = new GradAccumulation(4);
 * for (int i = 0; i < microBatches; i++) {
 *     acc.scale(lossOf(batch(i))).backward();
 *     if (acc.isBoundary(i)) { opt.step(); opt.zeroGrad(); }
 * }
 * }</pre>
 */
public record GradAccumulation(int steps) {

    public GradAccumulation {
        if (steps < 1) {
            throw new IllegalArgumentException("accumulation steps must be ≥ 1, got " + steps);
        }
    }

    /** The loss to backpropagate for one micro-batch: {@code loss / steps}. */
    public Tensor scale(Tensor loss) {
        return steps == 1 ? loss : loss.div(steps);
    }

    /** True after the last micro-batch of a group (0-based index): time to step. */
    public boolean isBoundary(long microBatchIndex) {
        return (microBatchIndex + 1) % steps == 0;
    }
}
