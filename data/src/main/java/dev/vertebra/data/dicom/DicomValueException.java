package dev.vertebra.data.dicom;

/**
 * An attribute that is missing or whose value cannot be read as asked (e.g. "abc" as an IS). Unchecked, so that
 * attribute getters stay convenient; names the source and the element's byte offset like {@link DicomException}.
 */
public class DicomValueException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final long offset;

    public DicomValueException(String source, long offset, String message) {
        super(source + ": " + message + (offset >= 0 ? " (element at byte " + offset + ")" : ""));
        this.source = source;
        this.offset = offset;
    }

    /** The file (or stream description) the dataset came from. */
    public String source() {
        return source;
    }

    /** Byte offset of the element's header, or -1 when the element is missing. */
    public long offset() {
        return offset;
    }

    /** The same problem as a checked exception, for readers that report bad files as {@link DicomException}. */
    public DicomException toChecked() {
        return new DicomException(source, Math.max(offset, 0), getMessage(), this);
    }
}
