package dev.vertebra.examples.fmnist;

import java.io.IOException;

/** An IDX file whose header or length is not what the format allows. */
public final class IdxFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public IdxFormatException(String message) {
        super(message);
    }
}
