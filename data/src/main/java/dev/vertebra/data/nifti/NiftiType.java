package dev.vertebra.data.nifti;

import java.util.Arrays;
import java.util.Optional;

/** The NIfTI-1 voxel datatypes Vertebra reads and writes, with their header codes and sizes. */
public enum NiftiType {
    UINT8(2, 1), INT16(4, 2), INT32(8, 4), FLOAT32(16, 4), FLOAT64(64, 8), INT8(256, 1), UINT16(512, 2),
    UINT32(768, 4), INT64(1024, 8);

    private final int code;
    private final int bytes;

    NiftiType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    /** The datatype code in the header (field {@code datatype}). */
    public int code() {
        return code;
    }

    /** Bytes per voxel. */
    public int bytes() {
        return bytes;
    }

    /** Bits per voxel (field {@code bitpix}). */
    public int bitpix() {
        return bytes * 8;
    }

    /** The type with a header code, if supported. */
    public static Optional<NiftiType> ofCode(int code) {
        return Arrays.stream(values()).filter(t -> t.code == code).findFirst();
    }
}
