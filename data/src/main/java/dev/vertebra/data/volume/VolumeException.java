package dev.vertebra.data.volume;

import java.io.IOException;

/** A series that cannot become a volume (missing or inconsistent geometry, mixed series): names the source. */
public final class VolumeException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String source;

    public VolumeException(String source, String message) {
        super(source + ": " + message);
        this.source = source;
    }

    public VolumeException(String source, String message, Throwable cause) {
        super(source + ": " + message, cause);
        this.source = source;
    }

    /** The folder or file that failed. */
    public String source() {
        return source;
    }
}
