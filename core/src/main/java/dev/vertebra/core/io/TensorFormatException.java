package dev.vertebra.core.io;

import java.io.IOException;

/**
 * A tensor file (.npy, .safetensors) is malformed or holds something Vertebra cannot represent.
 *
 * <p>The message names the file (or {@code <stream>} / {@code <bytes>}), the byte offset where the problem was
 * found and what is wrong, e.g. {@code "weights.safetensors at byte 8: header length 4611686018427387904 is
 * larger than the file (96 bytes)"}.
 *
 * <pre>{@code
 * try {
 *     HostArray a = Npy.read(path);
 * } catch (TensorFormatException e) {
 *     log.warn("skipping {}: {}", e.source(), e.problem());
 * }
 * }</pre>
 */
public final class TensorFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** Source name, byte offset and problem. */
    private final String source;
    private final long offset;
    private final String problem;

    public TensorFormatException(String source, long offset, String problem) {
        super(source + " at byte " + offset + ": " + problem);
        this.source = source;
        this.offset = offset;
        this.problem = problem;
    }

    /** The file name, or {@code <stream>} / {@code <bytes>} for in-memory sources. */
    public String source() {
        return source;
    }

    /** Byte offset in the source where the problem was found. */
    public long offset() {
        return offset;
    }

    /** What is wrong, without the source and offset. */
    public String problem() {
        return problem;
    }
}
