package dev.vertebra.core.io;

import dev.vertebra.core.DType;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SequencedMap;
import java.util.Set;

/**
 * An open .safetensors file: the header is read and checked when the file is opened; tensor data is read only
 * when asked for, one tensor at a time, straight from the file into its heap array (a 250 MB weight file
 * never needs a second 250 MB buffer).
 *
 * <pre>{@code
 * try (SafetensorsReader weights = SafetensorsReader.open(Path.of("model.safetensors"))) {
 *     weights.entries().values().forEach(e -> System.out.println(e.name() + " " + e.dtype()));
 *     HostArray stem = weights.read("features.0.0.weight");
 * }
 * }</pre>
 */
public final class SafetensorsReader implements AutoCloseable {

    /** The reference implementation's limit: a larger header is a corrupt length, not a header. */
    static final long MAX_HEADER_BYTES = 100_000_000;
    static final String METADATA_KEY = "__metadata__";
    private static final Set<String> ENTRY_KEYS = Set.of("dtype", "shape", "data_offsets");

    private final ByteSource source;
    private final FileChannel channel;
    private final SequencedMap<String, Safetensors.Entry> entries;
    private final SequencedMap<String, String> metadata;
    /** File offset of the data buffer, where every entry's offsets start from. */
    private final long dataStart;

    private SafetensorsReader(ByteSource source, FileChannel channel) throws IOException {
        this.source = source;
        this.channel = channel;
        long size = source.size();
        if (size < 8) {
            throw new TensorFormatException(source.name(), 0, "the data is " + size + " bytes long; a safetensors "
                    + "file starts with an 8-byte header length (truncated?)");
        }
        byte[] lengthField = source.readBytes(0, 8);
        long headerLength = 0;
        for (int i = 7; i >= 0; i--) {
            headerLength = headerLength << 8 | (lengthField[i] & 0xFF);
        }
        if (headerLength < 0 || headerLength > size - 8) {
            throw new TensorFormatException(source.name(), 0, "header length " + Long.toUnsignedString(headerLength)
                    + " is larger than the file (" + size + " bytes; truncated?)");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new TensorFormatException(source.name(), 0, "header length " + headerLength
                    + " is implausibly large (over " + MAX_HEADER_BYTES + " bytes)");
        }
        dataStart = 8 + headerLength;
        Json header = Json.parse(source.readBytes(8, (int) headerLength), source.name(), 8);
        if (!(header instanceof Json.Obj(var members, long ignored))) {
            throw new TensorFormatException(source.name(), 8, "the header must be a JSON object, found "
                    + Json.kind(header));
        }
        SequencedMap<String, Safetensors.Entry> parsed = new LinkedHashMap<>();
        SequencedMap<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, Json> member : members.entrySet()) {
            if (member.getKey().equals(METADATA_KEY)) {
                readMetadata(member.getValue(), meta);
            } else {
                parsed.put(member.getKey(), entry(member.getKey(), member.getValue(), size - dataStart));
            }
        }
        checkNoOverlap(parsed.values(), members);
        entries = Collections.unmodifiableSequencedMap(parsed);
        metadata = Collections.unmodifiableSequencedMap(meta);
    }

    /** Opens a file and reads its header; the data stays on disk until {@link #read} is called. */
    public static SafetensorsReader open(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return new SafetensorsReader(new ByteSource.OfChannel(channel, file.toString(), channel.size()), channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Reads the header of an in-memory safetensors file. */
    public static SafetensorsReader of(byte[] bytes) throws IOException {
        return new SafetensorsReader(new ByteSource.OfBytes(bytes, "<bytes>"), null);
    }

    /** Tensor names, dtypes, shapes and offsets, in the order the header lists them. */
    public SequencedMap<String, Safetensors.Entry> entries() {
        return entries;
    }

    /** The {@code __metadata__} string map (empty when the file has none), in file order. */
    public SequencedMap<String, String> metadata() {
        return metadata;
    }

    /**
     * Reads one tensor.
     *
     * @throws NoSuchElementException when the file holds no tensor of that name
     */
    public HostArray read(String name) throws IOException {
        Safetensors.Entry entry = entries.get(name);
        if (entry == null) {
            throw new NoSuchElementException("no tensor named '" + name + "' in " + source.name() + " (it holds "
                    + entries.size() + " tensors" + (entries.isEmpty() ? "" : ", e.g. '" + entries.firstEntry().getKey()
                    + "'") + ")");
        }
        int count = Math.toIntExact((entry.end() - entry.begin()) / entry.dtype().byteSize());
        Object data = ElementCodec.readArray(source, dataStart + entry.begin(), entry.dtype(),
                ByteOrder.LITTLE_ENDIAN, count);
        return new HostArray(entry.dtype(), entry.shape(), data);
    }

    /** Reads every tensor, in header order. */
    public SequencedMap<String, HostArray> readAll() throws IOException {
        SequencedMap<String, HostArray> tensors = new LinkedHashMap<>();
        for (String name : entries.keySet()) {
            tensors.put(name, read(name));
        }
        return tensors;
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
    }

    private void readMetadata(Json value, SequencedMap<String, String> into) throws TensorFormatException {
        if (!(value instanceof Json.Obj(var members, long ignored))) {
            throw new TensorFormatException(source.name(), value.offset(), "__metadata__ must be an object of "
                    + "strings, found " + Json.kind(value));
        }
        for (Map.Entry<String, Json> member : members.entrySet()) {
            if (!(member.getValue() instanceof Json.Str(String text, long unused))) {
                throw new TensorFormatException(source.name(), member.getValue().offset(), "__metadata__ value of '"
                        + member.getKey() + "' must be a string, found " + Json.kind(member.getValue()));
            }
            into.put(member.getKey(), text);
        }
    }

    private Safetensors.Entry entry(String name, Json value, long bufferSize) throws TensorFormatException {
        String where = source.name();
        if (!(value instanceof Json.Obj(var members, long offset))) {
            throw new TensorFormatException(where, value.offset(), "tensor '" + name + "' must be described by an "
                    + "object, found " + Json.kind(value));
        }
        if (!members.keySet().equals(ENTRY_KEYS)) {
            throw new TensorFormatException(where, offset, "tensor '" + name + "' must have exactly the keys dtype, "
                    + "shape and data_offsets, found " + members.keySet());
        }
        if (!(members.get("dtype") instanceof Json.Str(String code, long dtypeOffset))) {
            throw new TensorFormatException(where, members.get("dtype").offset(), "dtype of tensor '" + name
                    + "' must be a string");
        }
        DType dtype = Safetensors.dtypeOf(code, name, where, dtypeOffset);
        long[] dims = integers(members.get("shape"), name, "shape");
        int count = ElementCodec.elementCount(dims, where, members.get("shape").offset());
        Json offsetsValue = members.get("data_offsets");
        long[] offsets = integers(offsetsValue, name, "data_offsets");
        if (offsets.length != 2) {
            throw new TensorFormatException(where, offsetsValue.offset(), "data_offsets of tensor '" + name
                    + "' must be [begin, end], found " + offsets.length + " numbers");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin || end > bufferSize) {
            throw new TensorFormatException(where, offsetsValue.offset(), "data_offsets [" + begin + ", " + end
                    + "] of tensor '" + name + "' are not a range inside the " + bufferSize + "-byte data buffer");
        }
        long expected = (long) count * dtype.byteSize();
        if (end - begin != expected) {
            throw new TensorFormatException(where, offsetsValue.offset(), "tensor '" + name + "' (" + dtype + " "
                    + Arrays.toString(dims) + ") needs " + expected + " bytes but data_offsets ["
                    + begin + ", " + end + "] span " + (end - begin));
        }
        return new Safetensors.Entry(name, dtype, ElementCodec.toIntShape(dims), begin, end);
    }

    private long[] integers(Json value, String name, String key) throws TensorFormatException {
        if (value instanceof Json.Arr(var items, long ignored)) {
            long[] numbers = new long[items.size()];
            for (int i = 0; i < numbers.length; i++) {
                if (!(items.get(i) instanceof Json.Int(long number, long unused))) {
                    throw new TensorFormatException(source.name(), items.get(i).offset(), key + " of tensor '" + name
                            + "' must hold integers, found " + Json.kind(items.get(i)));
                }
                numbers[i] = number;
            }
            return numbers;
        }
        throw new TensorFormatException(source.name(), value.offset(), key + " of tensor '" + name
                + "' must be an array of integers, found " + Json.kind(value));
    }

    /** Two tensors sharing bytes would alias each other's data: a corrupt or hostile file. */
    private void checkNoOverlap(Iterable<Safetensors.Entry> all, Map<String, Json> members)
            throws TensorFormatException {
        List<Safetensors.Entry> byBegin = new ArrayList<>();
        all.forEach(byBegin::add);
        byBegin.sort(Comparator.comparingLong(Safetensors.Entry::begin).thenComparingLong(Safetensors.Entry::end));
        for (int i = 1; i < byBegin.size(); i++) {
            Safetensors.Entry previous = byBegin.get(i - 1);
            Safetensors.Entry current = byBegin.get(i);
            if (current.begin() < previous.end()) {
                throw new TensorFormatException(source.name(), members.get(current.name()).offset(), "tensor '"
                        + current.name() + "' [" + current.begin() + ", " + current.end() + ") overlaps tensor '"
                        + previous.name() + "' [" + previous.begin() + ", " + previous.end() + ")");
            }
        }
    }
}
