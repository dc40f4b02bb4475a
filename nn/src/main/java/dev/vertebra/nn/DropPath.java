package dev.vertebra.nn;

import dev.vertebra.core.Functional;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Tensor;

/**
 * Stochastic depth: in training, drops each sample of the batch (dimension 0) with probability {@code p} and
 * scales the kept ones by 1/(1−p) (torchvision's {@code StochasticDepth(p, "row")}, timm's {@code DropPath});
 * the identity in evaluation. Applied to a residual branch before the addition.
 *
 * <pre>{@code
 * DropPath drop = new DropPath(0.2 * blockIndex / blocks, gen);
 * Tensor y = x.add(drop.forward(branch));
 * }</pre>
 */
public final class DropPath extends Module {
    private final double p;
    private final Generator gen;

    public DropPath(double p, Generator gen) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("DropPath probability must be in [0, 1), got " + p);
        }
        this.p = p;
        this.gen = gen;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.dropPath(x, p, isTraining(), gen);
    }

    public double p() {
        return p;
    }

    @Override
    protected Generator ownGenerator() {
        return gen;
    }

    @Override
    public String toString() {
        return "DropPath(p=" + p + ")";
    }
}
