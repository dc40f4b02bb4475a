package dev.vertebra.examples.fmnist;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * An IDX file of unsigned bytes (the MNIST / Fashion-MNIST format): magic {@code 00 00 08 rank}, {@code rank}
 * big-endian 32-bit dimensions, then the values in row-major order. Files ending in {@code .gz} are gunzipped
 * while read.
 *
 * <pre>{@code
 * Idx images = Idx.read(Path.of("train-images-idx3-ubyte.gz"));   // dims [60000, 28, 28]
 * int first = images.unsigned(0);
 * }</pre>
 *
 * @param dims   the dimensions, outermost first
 * @param values the values, row-major, as stored (read them with {@link #unsigned(int)})
 */
public record Idx(int[] dims, byte[] values) {

    private static final int UNSIGNED_BYTE = 0x08;
    private static final int MAX_RANK = 4;

    public Idx {
        dims = dims.clone();
        long count = 1;
        for (int d : dims) {
            count *= d;
        }
        if (count != values.length) {
            throw new IllegalArgumentException("IDX dims " + Arrays.toString(dims) + " need " + count
                    + " values, got " + values.length);
        }
    }

    @Override
    public int[] dims() {
        return dims.clone();
    }

    /** The value at flat index {@code i}, 0–255. */
    public int unsigned(int i) {
        return values[i] & 0xFF;
    }

    /**
     * Reads an unsigned-byte IDX file, gzipped when its name ends in {@code .gz}.
     *
     * @throws IdxFormatException when the header is not an unsigned-byte IDX header of rank 1–4, a dimension is
     *                            not positive, the data holds more than 2³¹ − 1 values, or the file is shorter or
     *                            longer than its header says
     */
    public static Idx read(Path file) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file));
             InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
            return read(in, file.toString());
        }
    }

    /** Reads an unsigned-byte IDX stream; {@code name} labels the errors. */
    public static Idx read(InputStream in, String name) throws IOException {
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            throw new IdxFormatException(name + ": " + magic.length + " bytes, too short for an IDX header");
        }
        if (magic[0] != 0 || magic[1] != 0 || magic[2] != UNSIGNED_BYTE || magic[3] < 1 || magic[3] > MAX_RANK) {
            throw new IdxFormatException(name + ": not an unsigned-byte IDX file of rank 1–" + MAX_RANK
                    + " (magic " + String.format("%02x %02x %02x %02x", magic[0], magic[1], magic[2], magic[3]) + ")");
        }
        int rank = magic[3];
        byte[] header = in.readNBytes(4 * rank);
        if (header.length < 4 * rank) {
            throw new IdxFormatException(name + ": truncated header, " + rank + " dimensions need " + 4 * rank
                    + " bytes, " + header.length + " left");
        }
        int[] dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++) {
            dims[d] = (header[4 * d] & 0xFF) << 24 | (header[4 * d + 1] & 0xFF) << 16
                    | (header[4 * d + 2] & 0xFF) << 8 | header[4 * d + 3] & 0xFF;
            if (dims[d] <= 0) {
                throw new IdxFormatException(name + ": dimension " + d + " is " + Integer.toUnsignedString(dims[d])
                        + ", must be in 1.." + Integer.MAX_VALUE);
            }
            count *= dims[d];
            if (count > Integer.MAX_VALUE - 8) {
                throw new IdxFormatException(name + ": dims " + Arrays.toString(Arrays.copyOf(dims, d + 1))
                        + "… hold more values than one array can");
            }
        }
        // readNBytes grows its buffer with the data actually read, so a header that lies about its size costs
        // no more memory than the file holds.
        byte[] values = in.readNBytes((int) count);
        if (values.length < count) {
            throw new IdxFormatException(name + ": truncated, dims " + Arrays.toString(dims) + " need " + count
                    + " values, the file holds " + values.length);
        }
        if (in.read() != -1) {
            throw new IdxFormatException(name + ": longer than dims " + Arrays.toString(dims) + " say");
        }
        return new Idx(dims, values);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Idx(int[] d, byte[] v) && Arrays.equals(dims, d) && Arrays.equals(values, v);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(dims) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "Idx" + Arrays.toString(dims);
    }
}
