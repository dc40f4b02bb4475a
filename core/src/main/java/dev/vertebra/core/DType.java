package dev.vertebra.core;

/**
 * Element types a tensor can hold.
 *
 * <p>Compute happens in {@link #FLOAT32} (and {@link #FLOAT64} on the reference backend, so finite-difference
 * gradient checks mean something). Integer types carry labels and indices; the 16-bit float types are storage
 * formats for mixed precision and for weight files.
 */
public enum DType {
    FLOAT32(4, true, "float32"),
    FLOAT64(8, true, "float64"),
    FLOAT16(2, true, "float16"),
    BFLOAT16(2, true, "bfloat16"),
    INT64(8, false, "int64"),
    INT32(4, false, "int32"),
    INT16(2, false, "int16"),
    UINT8(1, false, "uint8");

    private final int byteSize;
    private final boolean floating;
    private final String displayName;

    DType(int byteSize, boolean floating, String displayName) {
        this.byteSize = byteSize;
        this.floating = floating;
        this.displayName = displayName;
    }

    /** Bytes one element occupies in memory and in files. */
    public int byteSize() {
        return byteSize;
    }

    /** True for the floating-point types. */
    public boolean isFloating() {
        return floating;
    }

    @Override
    public String toString() {
        return displayName;
    }
}
