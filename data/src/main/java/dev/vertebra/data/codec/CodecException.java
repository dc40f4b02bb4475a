package dev.vertebra.data.codec;

import java.io.IOException;

/** A compressed pixel stream that cannot be decoded; names the codec and the byte offset inside the frame. */
public class CodecException extends IOException {
    private static final long serialVersionUID = 1L;

    private final long offset;

    public CodecException(String codec, long offset, String message) {
        super(codec + ": " + message + " (at byte " + offset + " of the frame)");
        this.offset = offset;
    }

    public CodecException(String codec, long offset, String message, Throwable cause) {
        super(codec + ": " + message + " (at byte " + offset + " of the frame)", cause);
        this.offset = offset;
    }

    /** Byte offset inside the frame where decoding failed. */
    public long offset() {
        return offset;
    }
}
