package dev.vertebra.data.nifti;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Reads and writes single-file NIfTI-1 images ({@code .nii}, and {@code .nii.gz} compressed with gzip).
 * Either byte order is read (recognised by sizeof_hdr = 348); files are written little-endian with a
 * 352-byte offset (header, empty extension flag), sform and qform both set.
 *
 * <pre>{@code
 * NiftiImage mask = Nifti.read(Path.of("seg.nii.gz"));
 * Nifti.write(Path.of("copy.nii"), mask);
 * }</pre>
 */
public final class Nifti {
    static final int HEADER_SIZE = 348;
    private static final int DATA_OFFSET = 352;

    /** Largest decompressed .nii.gz accepted (1 GiB): a whole-body CT mask is a few hundred MB at most. */
    public static final int MAX_DECOMPRESSED_BYTES = 1 << 30;

    private Nifti() {
    }

    /** Reads a {@code .nii} or {@code .nii.gz} file (gzip recognised by its magic bytes, not by name). */
    public static NiftiImage read(Path file) throws IOException {
        return read(Files.readAllBytes(file), file.toString());
    }

    /** Reads a whole NIfTI file from memory; {@code name} labels errors. */
    public static NiftiImage read(byte[] bytes, String name) throws IOException {
        if (bytes.length >= 2 && (bytes[0] & 0xFF) == 0x1F && (bytes[1] & 0xFF) == 0x8B) {
            // The decompressed buffer grows with what the stream really yields, never with a declared size, and
            // stops at MAX_DECOMPRESSED_BYTES so a gzip bomb cannot exhaust the heap.
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
                bytes = in.readNBytes(MAX_DECOMPRESSED_BYTES);
                if (in.read() >= 0) {
                    throw new NiftiException(name, 0, "decompresses to more than " + MAX_DECOMPRESSED_BYTES
                            + " bytes, the limit for one image");
                }
            } catch (NiftiException e) {
                throw e;
            } catch (IOException e) {
                throw new NiftiException(name, 0, "gzip stream is damaged: " + e.getMessage());
            }
        }
        return parse(bytes, name);
    }

    private static NiftiImage parse(byte[] bytes, String name) throws NiftiException {
        if (bytes.length < HEADER_SIZE) {
            throw new NiftiException(name, bytes.length, "file of " + bytes.length
                    + " bytes is shorter than the 348-byte header");
        }
        ByteBuffer h = ByteBuffer.wrap(bytes, 0, HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        if (h.getInt(0) != HEADER_SIZE) {
            h.order(ByteOrder.BIG_ENDIAN);
            if (h.getInt(0) != HEADER_SIZE) {
                throw new NiftiException(name, 0, "sizeof_hdr is not 348 in either byte order: not NIfTI-1");
            }
        }
        String magic = new String(bytes, 344, 4, StandardCharsets.US_ASCII);
        if (!magic.equals("n+1\0")) {
            throw new NiftiException(name, 344, "magic " + printable(magic)
                    + " is not n+1 (a single-file NIfTI-1; .hdr/.img pairs are not supported)");
        }
        int rank = h.getShort(40);
        if (rank < 1 || rank > 7) {
            throw new NiftiException(name, 40, "dim[0] = " + rank + " is not 1 to 7");
        }
        int[] dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++) {
            dims[d] = h.getShort(42 + 2 * d);
            if (dims[d] < 1) {
                throw new NiftiException(name, 42 + 2 * d, "dim[" + (d + 1) + "] = " + dims[d] + " is not positive");
            }
            count *= dims[d];
            if (count > bytes.length) {
                // Every voxel takes at least one byte: the header claims more than the file holds (and the
                // product of up to seven dimensions cannot overflow while it is checked at each step).
                throw new NiftiException(name, 42 + 2 * d, "dimensions claim " + count + "+ voxels, more than the "
                        + bytes.length + " bytes of the file");
            }
        }
        int code = h.getShort(70);
        NiftiType type = NiftiType.ofCode(code).orElseThrow(() ->
                new NiftiException(name, 70, "datatype " + code + " is not supported"));
        if (h.getShort(72) != type.bitpix()) {
            throw new NiftiException(name, 72, "bitpix " + h.getShort(72) + " does not match datatype " + type);
        }
        float voxOffset = h.getFloat(108);
        if (!(voxOffset >= HEADER_SIZE) || voxOffset != Math.rint(voxOffset) || voxOffset > bytes.length) {
            throw new NiftiException(name, 108, "vox_offset " + voxOffset + " is not a whole offset from 348 to "
                    + bytes.length);
        }
        int start = (int) voxOffset;
        long needed = count * type.bytes();
        if (needed > bytes.length - start) {
            throw new NiftiException(name, start, "dims " + java.util.Arrays.toString(dims) + " of " + type
                    + " need " + needed + " bytes, the file holds " + (bytes.length - start) + " after vox_offset");
        }
        float[] pixdim = new float[8];
        for (int i = 0; i < 8; i++) {
            pixdim[i] = h.getFloat(76 + 4 * i);
        }
        float[][] srow = new float[3][4];
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 4; c++) {
                srow[r][c] = h.getFloat(280 + 16 * r + 4 * c);
            }
        }
        ByteBuffer data = ByteBuffer.wrap(bytes, start, (int) needed).slice().order(h.order());
        return new NiftiImage(type, dims, pixdim, h.getFloat(112), h.getFloat(116), h.getShort(252),
                h.getShort(254), new float[] {h.getFloat(256), h.getFloat(260), h.getFloat(264)},
                new float[] {h.getFloat(268), h.getFloat(272), h.getFloat(276)}, srow, bytes[123] & 0xFF,
                cString(bytes, 148, 80), data);
    }

    /** Writes {@code image}; gzip-compressed when the file name ends in {@code .gz}. */
    public static void write(Path file, NiftiImage image) throws IOException {
        byte[] bytes = toBytes(image);
        if (file.getFileName().toString().endsWith(".gz")) {
            var buffer = new ByteArrayOutputStream();
            try (OutputStream gz = new GZIPOutputStream(buffer)) {
                gz.write(bytes);
            }
            bytes = buffer.toByteArray();
        }
        Files.write(file, bytes);
    }

    /** The uncompressed file bytes: header, empty extension flag, voxels (little-endian). */
    public static byte[] toBytes(NiftiImage image) {
        ByteBuffer data = image.data();
        ByteBuffer out = ByteBuffer.allocate(DATA_OFFSET + data.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(0, HEADER_SIZE);
        int[] dims = image.dims();
        out.putShort(40, (short) dims.length);
        for (int d = 0; d < 7; d++) {
            out.putShort(42 + 2 * d, (short) (d < dims.length ? dims[d] : 1));
        }
        out.putShort(70, (short) image.type().code());
        out.putShort(72, (short) image.type().bitpix());
        float[] pixdim = image.pixdim();
        for (int i = 0; i < 8; i++) {
            out.putFloat(76 + 4 * i, pixdim[i]);
        }
        out.putFloat(108, DATA_OFFSET);
        out.putFloat(112, image.sclSlope());
        out.putFloat(116, image.sclInter());
        out.put(123, (byte) image.xyztUnits());
        byte[] descrip = image.description().getBytes(StandardCharsets.US_ASCII);
        out.put(148, descrip, 0, Math.min(79, descrip.length));
        out.putShort(252, (short) image.qformCode());
        out.putShort(254, (short) image.sformCode());
        float[] q = image.quatern();
        float[] o = image.qoffset();
        for (int i = 0; i < 3; i++) {
            out.putFloat(256 + 4 * i, q[i]);
            out.putFloat(268 + 4 * i, o[i]);
        }
        float[][] srow = image.srow();
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 4; c++) {
                out.putFloat(280 + 16 * r + 4 * c, srow[r][c]);
            }
        }
        out.put(344, "n+1\0".getBytes(StandardCharsets.US_ASCII));
        if (data.order() == ByteOrder.LITTLE_ENDIAN || image.type().bytes() == 1) {
            out.put(DATA_OFFSET, data, 0, data.remaining());
        } else {
            int size = image.type().bytes();
            byte[] raw = new byte[data.remaining()];
            data.get(raw);
            for (int i = 0; i < raw.length; i += size) {
                for (int b = 0; b < size; b++) {
                    out.put(DATA_OFFSET + i + b, raw[i + size - 1 - b]);
                }
            }
        }
        return out.array();
    }

    private static String cString(byte[] bytes, int offset, int length) {
        int end = offset;
        while (end < offset + length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, offset, end - offset, StandardCharsets.US_ASCII);
    }

    private static String printable(String s) {
        return s.chars().mapToObj(ch -> ch >= 32 && ch < 127 ? Character.toString(ch) : String.format("\\x%02x", ch))
                .reduce("", String::concat);
    }
}
