package dev.vertebra.data.nifti;

import java.io.IOException;

/** A NIfTI file that cannot be read: names the file and the byte offset of the problem. */
public final class NiftiException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String source;
    private final long offset;

    public NiftiException(String source, long offset, String message) {
        super(source + " at byte " + offset + ": " + message);
        this.source = source;
        this.offset = offset;
    }

    /** The file (or stream name) that failed. */
    public String source() {
        return source;
    }

    /** Byte offset of the problem in the (uncompressed) stream. */
    public long offset() {
        return offset;
    }
}
