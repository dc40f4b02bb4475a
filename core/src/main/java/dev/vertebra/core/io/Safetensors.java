package dev.vertebra.core.io;

import dev.vertebra.core.DType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SequencedMap;
import java.util.Set;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON header
 * {@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {..}}},
 * then the data buffer, little-endian, C order.
 *
 * <p>Dtypes F32, F64, F16, BF16, I64, I32, I16 and U8 map to {@link DType}; other dtypes (BOOL, I8, U16, F8…) are
 * refused with a {@link TensorFormatException} naming the tensor. Tensors keep the header's order. To read only
 * some tensors of a large file, or just list them, use {@link SafetensorsReader}.
 *
 * <pre>{@code
 * SequencedMap<String, HostArray> state = new LinkedHashMap<>();
 * state.put("fc.weight", weight);
 * state.put("fc.bias", bias);
 * Safetensors.write(Path.of("model.safetensors"), state, Map.of("format", "pt"));
 *
 * Safetensors.Contents back = Safetensors.read(Path.of("model.safetensors"));
 * HostArray w = back.tensors().get("fc.weight");
 * }</pre>
 */
public final class Safetensors {

    /** Dtype names the format defines that have no {@link DType} here. */
    private static final Set<String> UNSUPPORTED = Set.of("BOOL", "I8", "U16", "U32", "U64", "F8_E4M3",
            "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64");

    private Safetensors() {
    }

    /**
     * Where one tensor lies in a file.
     *
     * @param name  the tensor's name
     * @param dtype element type
     * @param shape dimensions, outermost first
     * @param begin first byte, relative to the start of the data buffer
     * @param end   one past the last byte, relative to the start of the data buffer
     */
    public record Entry(String name, DType dtype, int[] shape, long begin, long end) {

        public Entry {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(dtype, "dtype");
            shape = shape.clone();
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry other && name.equals(other.name) && dtype == other.dtype
                    && Arrays.equals(shape, other.shape) && begin == other.begin && end == other.end;
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
        }

        @Override
        public String toString() {
            return "Entry[" + name + ", " + dtype + ", " + Arrays.toString(shape) + ", " + begin + ".." + end + "]";
        }
    }

    /**
     * A whole file's content.
     *
     * @param tensors  the tensors, in header order
     * @param metadata the {@code __metadata__} strings (empty when absent)
     */
    public record Contents(SequencedMap<String, HostArray> tensors, SequencedMap<String, String> metadata) {

        public Contents {
            tensors = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(metadata));
        }
    }

    /** Reads every tensor of a file, each straight from the file into its array. */
    public static Contents read(Path file) throws IOException {
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            return new Contents(reader.readAll(), reader.metadata());
        }
    }

    /** Reads every tensor of an in-memory file. */
    public static Contents read(byte[] bytes) throws IOException {
        try (SafetensorsReader reader = SafetensorsReader.of(bytes)) {
            return new Contents(reader.readAll(), reader.metadata());
        }
    }

    /**
     * Reads every tensor from a stream (read to its end, not closed). The stream's bytes are held in memory
     * meanwhile: prefer {@link #read(Path)} for large files.
     */
    public static Contents read(InputStream in) throws IOException {
        return read(in.readAllBytes());
    }

    /**
     * Writes tensors atomically (a temporary file in the same folder, then a rename), in the map's order.
     *
     * @param metadata free-form strings stored as {@code __metadata__}; omitted from the file when empty
     */
    public static void write(Path file, SequencedMap<String, HostArray> tensors, Map<String, String> metadata)
            throws IOException {
        byte[] header = header(tensors, metadata);
        AtomicFiles.write(file, out -> writeBody(out, header, tensors));
    }

    /** Writes tensors to a stream (not closed), in the map's order. */
    public static void write(OutputStream out, SequencedMap<String, HostArray> tensors, Map<String, String> metadata)
            throws IOException {
        writeBody(out, header(tensors, metadata), tensors);
    }

    /** The safetensors bytes of the tensors, in the map's order. */
    public static byte[] toBytes(SequencedMap<String, HostArray> tensors, Map<String, String> metadata) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            write(out, tensors, metadata);
        } catch (IOException e) {
            throw new UncheckedIOException("a byte array stream does not fail", e);
        }
        return out.toByteArray();
    }

    /** The format's name for a dtype. */
    public static String formatName(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> "F32";
            case FLOAT64 -> "F64";
            case FLOAT16 -> "F16";
            case BFLOAT16 -> "BF16";
            case INT64 -> "I64";
            case INT32 -> "I32";
            case INT16 -> "I16";
            case UINT8 -> "U8";
        };
    }

    static DType dtypeOf(String code, String tensor, String source, long offset) throws TensorFormatException {
        for (DType dtype : DType.values()) {
            if (formatName(dtype).equals(code)) {
                return dtype;
            }
        }
        String supported = "(supported: F32, F64, F16, BF16, I64, I32, I16, U8)";
        throw new TensorFormatException(source, offset, UNSUPPORTED.contains(code)
                ? "tensor '" + tensor + "' has dtype " + code + ", which is an unsupported dtype " + supported
                : "tensor '" + tensor + "' has unknown dtype '" + code + "' " + supported);
    }

    private static void writeBody(OutputStream out, byte[] header, SequencedMap<String, HostArray> tensors)
            throws IOException {
        out.write(header);
        for (HostArray array : tensors.values()) {
            ElementCodec.writeLittleEndian(array, out);
        }
    }

    /** Length field plus JSON header, padded with spaces so the data buffer starts 8-byte aligned. */
    private static byte[] header(SequencedMap<String, HostArray> tensors, Map<String, String> metadata) {
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            json.append('"').append(SafetensorsReader.METADATA_KEY).append("\":{");
            boolean first = true;
            for (Map.Entry<String, String> entry : metadata.entrySet()) {
                json.append(first ? "" : ",");
                Json.writeString(json, Objects.requireNonNull(entry.getKey(), "metadata key"));
                json.append(':');
                Json.writeString(json, Objects.requireNonNull(entry.getValue(), "metadata value"));
                first = false;
            }
            json.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, HostArray> entry : tensors.entrySet()) {
            String name = Objects.requireNonNull(entry.getKey(), "tensor name");
            if (name.equals(SafetensorsReader.METADATA_KEY)) {
                throw new IllegalArgumentException("a tensor cannot be named " + SafetensorsReader.METADATA_KEY);
            }
            HostArray array = entry.getValue();
            long length = (long) array.size() * array.dtype().byteSize();
            json.append(json.length() > 1 ? "," : "");
            Json.writeString(json, name);
            json.append(":{\"dtype\":\"").append(formatName(array.dtype())).append("\",\"shape\":[");
            int[] shape = array.shape();
            for (int i = 0; i < shape.length; i++) {
                json.append(i > 0 ? "," : "").append(shape[i]);
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + length).append("]}");
            offset += length;
        }
        json.append('}');
        byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (text.length + 7) / 8 * 8;
        byte[] out = new byte[8 + padded];
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) ((long) padded >>> (8 * i));
        }
        System.arraycopy(text, 0, out, 8, text.length);
        Arrays.fill(out, 8 + text.length, out.length, (byte) ' ');
        return out;
    }
}
