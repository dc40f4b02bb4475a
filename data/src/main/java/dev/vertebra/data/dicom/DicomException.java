package dev.vertebra.data.dicom;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** A DICOM file that cannot be read as such; names the file and the byte offset where reading stopped. */
public class DicomException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final long offset;

    public DicomException(String source, long offset, String message) {
        super(source + ": " + message + " (at byte " + offset + ")");
        this.source = source;
        this.offset = offset;
    }

    public DicomException(String source, long offset, String message, Throwable cause) {
        super(source + ": " + message + " (at byte " + offset + ")", cause);
        this.source = source;
        this.offset = offset;
    }

    public DicomException(Path file, long offset, String message) {
        this(file.toString(), offset, message);
    }

    /**
     * Why an I/O call on a file failed, for a message that already names the file: "no such file", "permission
     * denied", else the exception's own message (its class name where it has none).
     */
    static String reason(IOException e) {
        return switch (e) {
            case NoSuchFileException _ -> "no such file";
            case AccessDeniedException _ -> "permission denied";
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
    }

    /** The file (or stream description) that failed. */
    public String source() {
        return source;
    }

    /** Byte offset from the start of the file where reading failed. */
    public long offset() {
        return offset;
    }
}
