package dev.vertebra.core;

/**
 * An activation a fused kernel applies to its output before storing it ({@link Backend#conv2dAffine}): the same
 * function as the {@link UnaryOp} of that name.
 */
public enum Activation {
    NONE(null),
    RELU(UnaryOp.RELU),
    SILU(UnaryOp.SILU),
    SIGMOID(UnaryOp.SIGMOID);

    private final UnaryOp op;

    Activation(UnaryOp op) {
        this.op = op;
    }

    /** The elementwise op this activation is, or null for {@link #NONE}. */
    public UnaryOp unaryOp() {
        return op;
    }
}
