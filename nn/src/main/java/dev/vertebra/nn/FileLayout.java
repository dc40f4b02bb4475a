package dev.vertebra.nn;

import dev.vertebra.core.Tensor;

/**
 * How a tensor held by a module is laid out in state dicts and files, which use PyTorch's names and layouts.
 * Only convolution weights differ: Vertebra's kernels want HWIO ({@code [KH, KW, Cin/groups, Cout]}), PyTorch
 * stores OIHW ({@code [Cout, Cin/groups, KH, KW]}); the conversion happens at {@link Module#stateDict()} and
 * {@link Module#loadStateDict}.
 */
public enum FileLayout {
    /** Stored exactly as held. */
    SAME,
    /** Held HWIO, stored OIHW. */
    CONV_HWIO_AS_OIHW;

    /** The held tensor as a view in file layout. */
    public Tensor toFile(Tensor held) {
        return switch (this) {
            case SAME -> held;
            case CONV_HWIO_AS_OIHW -> held.permute(3, 2, 0, 1);
        };
    }

    /** A file tensor as a view in the held layout. */
    public Tensor fromFile(Tensor stored) {
        return switch (this) {
            case SAME -> stored;
            case CONV_HWIO_AS_OIHW -> stored.permute(2, 3, 1, 0);
        };
    }

    /** The file shape of a held shape. */
    public int[] fileShape(int[] held) {
        return switch (this) {
            case SAME -> held.clone();
            case CONV_HWIO_AS_OIHW -> new int[]{held[3], held[2], held[0], held[1]};
        };
    }
}
