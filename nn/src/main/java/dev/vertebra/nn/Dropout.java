package dev.vertebra.nn;

import dev.vertebra.core.Functional;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Tensor;

/**
 * Zeroes each element with probability {@code p} in training and scales the rest by 1/(1−p); the identity in
 * evaluation. Masks come from the module's own seeded generator, so runs are reproducible without global state.
 *
 * <pre>{@code
 * Dropout drop = new Dropout(0.2, new Generator(7));
 * Tensor y = drop.forward(x);
 * }</pre>
 */
public final class Dropout extends Module {
    private final double p;
    private final Generator gen;

    public Dropout(double p, Generator gen) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("Dropout probability must be in [0, 1), got " + p);
        }
        this.p = p;
        this.gen = gen;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.dropout(x, p, isTraining(), gen);
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
        return "Dropout(p=" + p + ")";
    }
}
