package dev.vertebra.nn;

import dev.vertebra.core.Tensor;

/** A tensor a module saves in its state dict: a trainable {@link Parameter} or a {@link Buffer}. */
public sealed interface StateEntry permits Parameter, Buffer {

    /** The tensor as held. */
    Tensor data();
}
