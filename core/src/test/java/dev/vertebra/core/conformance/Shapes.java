package dev.vertebra.core.conformance;

import dev.vertebra.core.Generator;

/** Random dimensions for case shapes, drawn from a generator seeded per case family and variant. */
final class Shapes {
    private final Generator gen;

    Shapes(String family, int variant) {
        gen = new Generator(family.hashCode() * 31L + variant);
    }

    /** A dimension in [low, high]. */
    int dim(int low, int high) {
        return low + gen.nextInt(high - low + 1);
    }

    /** A small dimension, 2..4 (small enough for finite differences over every element). */
    int small() {
        return dim(2, 4);
    }
}
