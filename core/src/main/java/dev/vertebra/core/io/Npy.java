package dev.vertebra.core.io;

import dev.vertebra.core.DType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

/**
 * NumPy's .npy format: one array per file.
 *
 * <p>Reads format versions 1.0, 2.0 and 3.0 with dtypes {@code <f4 <f8 <f2 <i8 <i4 <i2 |u1} and their big-endian
 * {@code >} forms (converted to the machine's values); {@code f2} becomes {@link DType#FLOAT16} bits. C order
 * only: Fortran-order, object, structured and other dtypes are refused with a {@link TensorFormatException}.
 * Bytes after the data are ignored, as NumPy does. Writes version 1.0 (2.0 when the header does not fit),
 * little-endian, byte for byte what {@code np.save} writes for the same array.
 *
 * <pre>{@code
 * HostArray image = Npy.read(Path.of("slice.npy"));      // e.g. float32 [512, 512]
 * Npy.write(Path.of("copy.npy"), image);                   // atomic: readers never see half a file
 * }</pre>
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** NumPy aligns the data to this many bytes. */
    private static final int ALIGN = 64;
    /** Spare header room NumPy leaves so the first dimension can grow in place. */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;
    /** Real headers are a few hundred bytes; anything past this is a corrupt length, not a header. */
    private static final int MAX_HEADER_BYTES = 1 << 20;
    private static final String STREAM = "<stream>";
    private static final String BYTES = "<bytes>";

    private Npy() {
    }

    /** Reads the array in an .npy file. */
    public static HostArray read(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(new ByteSource.OfChannel(channel, file.toString(), channel.size()));
        }
    }

    /** Reads an array from the bytes of an .npy file. */
    public static HostArray read(byte[] bytes) throws IOException {
        return read(new ByteSource.OfBytes(bytes, BYTES));
    }

    /**
     * Reads one array from a stream, consuming exactly its bytes (so several arrays written one after the other
     * to the same stream, as repeated {@code np.save(f, ...)} calls do, can be read in turn). Does not close it.
     */
    public static HostArray read(InputStream in) throws IOException {
        Objects.requireNonNull(in, "in");
        Header header = readHeader((position, length) -> {
            byte[] bytes = in.readNBytes(length);
            if (bytes.length < length) {
                throw new TensorFormatException(STREAM, position + bytes.length,
                        "unexpected end of stream inside the .npy header");
            }
            return bytes;
        }, STREAM);
        Object data = ElementCodec.readArray(in, STREAM, header.dataOffset(), header.dtype(), header.order(),
                header.count());
        return new HostArray(header.dtype(), header.shape(), data);
    }

    private static HostArray read(ByteSource source) throws IOException {
        Header header = readHeader(source::readBytes, source.name());
        Object data = ElementCodec.readArray(source, header.dataOffset(), header.dtype(), header.order(),
                header.count());
        return new HostArray(header.dtype(), header.shape(), data);
    }

    /** Writes an array to a file atomically: a temporary file in the same folder, then a rename. */
    public static void write(Path file, HostArray array) throws IOException {
        byte[] header = header(array);
        AtomicFiles.write(file, out -> {
            out.write(header);
            ElementCodec.writeLittleEndian(array, out);
        });
    }

    /** Writes an array to a stream (not closed). */
    public static void write(OutputStream out, HostArray array) throws IOException {
        out.write(header(array));
        ElementCodec.writeLittleEndian(array, out);
    }

    /** The .npy bytes of an array. */
    public static byte[] toBytes(HostArray array) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            write(out, array);
        } catch (IOException e) {
            throw new UncheckedIOException("a byte array stream does not fail", e);
        }
        return out.toByteArray();
    }

    /** What the header says about the data that follows it. */
    private record Header(DType dtype, ByteOrder order, int[] shape, int count, long dataOffset) {
    }

    /** Reads {@code length} bytes at {@code position} or throws a {@link TensorFormatException}. */
    @FunctionalInterface
    private interface Reader {
        byte[] read(long position, int length) throws IOException;
    }

    private static Header readHeader(Reader reader, String source) throws IOException {
        byte[] preamble = reader.read(0, 8);
        for (int i = 0; i < MAGIC.length; i++) {
            if (preamble[i] != MAGIC[i]) {
                throw new TensorFormatException(source, i, "not an .npy file (bad magic: it must start with "
                        + "\\x93NUMPY)");
            }
        }
        int major = preamble[6] & 0xFF;
        int minor = preamble[7] & 0xFF;
        if (minor != 0 || major < 1 || major > 3) {
            throw new TensorFormatException(source, 6, "unsupported .npy format version " + major + "." + minor
                    + " (1.0, 2.0 and 3.0 are understood)");
        }
        int lengthBytes = major == 1 ? 2 : 4;
        byte[] lengthField = reader.read(8, lengthBytes);
        long headerLength = 0;
        for (int i = lengthBytes - 1; i >= 0; i--) {
            headerLength = headerLength << 8 | (lengthField[i] & 0xFF);
        }
        long headerStart = 8L + lengthBytes;
        if (headerLength > MAX_HEADER_BYTES) {
            throw new TensorFormatException(source, 8, "header length " + headerLength + " is implausibly large"
                    + " (over " + MAX_HEADER_BYTES + " bytes)");
        }
        byte[] headerBytes = reader.read(headerStart, (int) headerLength);
        // Versions 1.0 and 2.0 store the header in Latin-1, 3.0 in UTF-8 (for non-ASCII field names).
        String text = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        if (!(PyLiteral.parse(text, source, headerStart) instanceof PyLiteral.Dict(var entries))) {
            throw new TensorFormatException(source, headerStart, "the .npy header is not a dict");
        }
        if (!entries.keySet().equals(Set.of("descr", "fortran_order", "shape"))) {
            throw new TensorFormatException(source, headerStart, "the .npy header must have exactly the keys "
                    + "'descr', 'fortran_order' and 'shape', found " + entries.keySet());
        }
        if (!(entries.get("fortran_order") instanceof PyLiteral.Bool(boolean fortran))) {
            throw new TensorFormatException(source, headerStart, "'fortran_order' must be True or False, found "
                    + PyLiteral.describe(entries.get("fortran_order")));
        }
        if (fortran) {
            throw new TensorFormatException(source, headerStart, "Fortran-order (column-major) arrays are not "
                    + "supported; save a C-ordered copy (np.ascontiguousarray)");
        }
        Descr descr = descr(entries.get("descr"), source, headerStart);
        long[] dims = dims(entries.get("shape"), source, headerStart);
        int count = ElementCodec.elementCount(dims, source, headerStart);
        return new Header(descr.dtype(), descr.order(), ElementCodec.toIntShape(dims), count,
                headerStart + headerLength);
    }

    private record Descr(DType dtype, ByteOrder order) {
    }

    private static Descr descr(PyLiteral value, String source, long offset) throws TensorFormatException {
        if (!(value instanceof PyLiteral.Str(String code))) {
            throw new TensorFormatException(source, offset, "structured dtypes (records with named fields) are "
                    + "not supported, found descr " + PyLiteral.describe(value));
        }
        if (code.equals("|O") || code.equals("O")) {
            throw new TensorFormatException(source, offset, "object arrays (descr '|O', stored with Python's "
                    + "pickle) are not supported");
        }
        if (code.length() == 3) {
            ByteOrder order = switch (code.charAt(0)) {
                case '<' -> ByteOrder.LITTLE_ENDIAN;
                case '>' -> ByteOrder.BIG_ENDIAN;
                case '|' -> code.equals("|u1") ? ByteOrder.LITTLE_ENDIAN : null;
                default -> null;
            };
            DType dtype = switch (code.substring(1)) {
                case "f4" -> DType.FLOAT32;
                case "f8" -> DType.FLOAT64;
                case "f2" -> DType.FLOAT16;
                case "i8" -> DType.INT64;
                case "i4" -> DType.INT32;
                case "i2" -> DType.INT16;
                case "u1" -> DType.UINT8;
                default -> null;
            };
            if (order != null && dtype != null) {
                return new Descr(dtype, order);
            }
        }
        throw new TensorFormatException(source, offset, "unsupported dtype '" + code + "' (supported: "
                + "<f4 <f8 <f2 <i8 <i4 <i2 |u1 and their big-endian > forms)");
    }

    private static long[] dims(PyLiteral value, String source, long offset) throws TensorFormatException {
        if (!(value instanceof PyLiteral.Seq(var items, boolean tuple)) || !tuple) {
            throw new TensorFormatException(source, offset, "'shape' must be a tuple of integers, found "
                    + PyLiteral.describe(value));
        }
        long[] dims = new long[items.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!(items.get(i) instanceof PyLiteral.Int(long d))) {
                throw new TensorFormatException(source, offset, "'shape' must be a tuple of integers, found "
                        + PyLiteral.describe(value));
            }
            dims[i] = d;
        }
        return dims;
    }

    /** The header NumPy writes for this array, padded so the data starts on a 64-byte boundary. */
    private static byte[] header(HostArray array) {
        String descr = switch (array.dtype()) {
            case FLOAT32 -> "<f4";
            case FLOAT64 -> "<f8";
            case FLOAT16 -> "<f2";
            case INT64 -> "<i8";
            case INT32 -> "<i4";
            case INT16 -> "<i2";
            case UINT8 -> "|u1";
            case BFLOAT16 -> throw new IllegalArgumentException("NumPy has no bfloat16 dtype: convert the array "
                    + "to float32 before writing it as .npy");
        };
        int[] shape = array.shape();
        StringBuilder dict = new StringBuilder("{'descr': '").append(descr)
                .append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            dict.append(i > 0 ? ", " : "").append(shape[i]);
        }
        dict.append(shape.length == 1 ? ",), }" : "), }");
        if (shape.length > 0) {
            dict.repeat(' ', GROWTH_AXIS_MAX_DIGITS - Integer.toString(shape[0]).length());
        }
        byte[] text = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
        int major = 1;
        int prefix = 10;
        int padding = padding(prefix, text.length);
        if (text.length + padding + 1 > 0xFFFF) {
            major = 2;
            prefix = 12;
            padding = padding(prefix, text.length);
        }
        int headerLength = text.length + padding + 1;
        byte[] out = new byte[prefix + headerLength];
        System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
        out[6] = (byte) major;
        out[7] = 0;
        for (int i = 0; i < prefix - 8; i++) {
            out[8 + i] = (byte) (headerLength >>> (8 * i));
        }
        System.arraycopy(text, 0, out, prefix, text.length);
        Arrays.fill(out, prefix + text.length, out.length - 1, (byte) ' ');
        out[out.length - 1] = '\n';
        return out;
    }

    /** Spaces before the final newline so that the data starts aligned (always at least one, like NumPy). */
    private static int padding(int prefix, int textLength) {
        return ALIGN - (prefix + textLength + 1) % ALIGN;
    }
}
