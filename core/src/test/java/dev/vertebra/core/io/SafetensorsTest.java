package dev.vertebra.core.io;

import dev.vertebra.core.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SequencedMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** .safetensors files written by make_io_golden.py read back as the values torch held, and round trips. */
class SafetensorsTest {

    private static final String ALL = "all_dtypes.safetensors";

    private static SequencedMap<String, HostArray> expectedTensors(String file) {
        SequencedMap<String, HostArray> expected = new LinkedHashMap<>();
        for (String key : Golden.keysStartingWith(file + ":")) {
            expected.put(key.substring(file.length() + 1), Golden.expected(key));
        }
        return expected;
    }

    @Test
    void readsEveryDtypeInHeaderOrderFollowingTheOffsets() throws IOException {
        SequencedMap<String, HostArray> expected = expectedTensors(ALL);
        assertEquals(10, expected.size());
        for (Safetensors.Contents contents : List.of(Safetensors.read(Golden.file(ALL)),
                Safetensors.read(Golden.bytes(ALL)), Safetensors.read(new ByteArrayInputStream(Golden.bytes(ALL))))) {
            assertEquals(List.copyOf(expected.keySet()), List.copyOf(contents.tensors().keySet()), "header order");
            assertEquals(expected, contents.tensors());
            assertEquals(List.of("format", "note"), List.copyOf(contents.metadata().keySet()));
            assertEquals("golden \"quoted\" \u00e9", contents.metadata().get("note"));
        }
    }

    @Test
    void sixteenBitFloatsMeanWhatTorchMeant() throws IOException {
        Safetensors.Contents contents = Safetensors.read(Golden.file(ALL));
        short[] half = (short[]) contents.tensors().get("half").data();
        assertEquals(-65504f, Float.float16ToFloat(half[1]));
        short[] brain = (short[]) contents.tensors().get("brain").data();
        // bfloat16 is the top half of a float32: 8 bits of mantissa, so -2e30 is kept to within 0.4%.
        assertEquals(-2.0e30f, Float.intBitsToFloat(brain[1] << 16), 0.004f * 2.0e30f);
        assertEquals(1.0f, Float.intBitsToFloat(brain[0] << 16));
    }

    @Test
    void listsEntriesWithoutReadingDataAndReadsOneByName() throws IOException {
        try (SafetensorsReader reader = SafetensorsReader.open(Golden.file(ALL))) {
            Safetensors.Entry conv = reader.entries().get("conv.weight");
            assertEquals(DType.FLOAT32, conv.dtype());
            assertArrayEquals(new int[] {2, 3, 2, 2}, conv.shape());
            assertEquals(48, conv.begin(), "offset written by the generator");
            assertEquals(144, conv.end());
            assertEquals(DType.BFLOAT16, reader.entries().get("brain").dtype());
            assertEquals(0, reader.entries().get("scalar").shape().length);
            assertEquals(Golden.expected(ALL + ":labels"), reader.read("labels"));
            assertThrows(NoSuchElementException.class, () -> reader.read("missing"));
        }
    }

    @Test
    void fileWithoutMetadataHasAnEmptyMap() throws IOException {
        Safetensors.Contents contents = Safetensors.read(Golden.file("no_metadata.safetensors"));
        assertTrue(contents.metadata().isEmpty());
        assertEquals(expectedTensors("no_metadata.safetensors"), contents.tensors());
    }

    @Test
    void writesExactlyWhatThePythonGeneratorWrote() {
        assertArrayEquals(Golden.bytes("ordered.safetensors"),
                Safetensors.toBytes(expectedTensors("ordered.safetensors"), orderedMetadata()));
        assertArrayEquals(Golden.bytes("no_metadata.safetensors"),
                Safetensors.toBytes(expectedTensors("no_metadata.safetensors"), Map.of()));
    }

    private static SequencedMap<String, String> orderedMetadata() {
        SequencedMap<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("epoch", "3");
        return metadata;
    }

    @Test
    void roundTripsEveryDtypeThroughAFileAtomically(@TempDir Path folder) throws IOException {
        SequencedMap<String, HostArray> tensors = expectedTensors(ALL);
        SequencedMap<String, String> metadata = new LinkedHashMap<>();
        metadata.put("z-first", "line\nbreak\t\u0001 \"q\" \\ \u00e9\u4e2d");
        metadata.put("a-second", "");
        Path file = folder.resolve("model.safetensors");
        Files.write(file, new byte[] {9, 9});
        Safetensors.write(file, tensors, metadata);
        byte[] bytes = Files.readAllBytes(file);
        long headerLength = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8, "data buffer 8-byte aligned");
        Safetensors.Contents back = Safetensors.read(file);
        assertEquals(tensors, back.tensors());
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(back.tensors().keySet()));
        assertEquals(metadata, back.metadata());
        assertEquals(List.copyOf(metadata.keySet()), List.copyOf(back.metadata().keySet()));
        try (var listing = Files.list(folder)) {
            assertEquals(1, listing.count(), "no temporary file left behind");
        }
    }

    @Test
    void largeTensorIsReadInChunks(@TempDir Path folder) throws IOException {
        int n = ElementCodec.CHUNK_BYTES / 4 * 2 + 3;
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = i - 1000.5f;
        }
        SequencedMap<String, HostArray> tensors = new LinkedHashMap<>();
        tensors.put("small", new HostArray(DType.UINT8, new int[] {3}, new byte[] {1, 2, 3}));
        tensors.put("big", new HostArray(DType.FLOAT32, new int[] {n}, values));
        Path file = folder.resolve("big.safetensors");
        Safetensors.write(file, tensors, Map.of());
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertEquals(tensors.get("big"), reader.read("big"));
            assertEquals(3, reader.entries().get("big").begin(), "packed right after the 3-byte tensor");
        }
    }

    @Test
    void metadataNameIsNotATensorName() {
        SequencedMap<String, HostArray> tensors = new LinkedHashMap<>();
        tensors.put("__metadata__", new HostArray(DType.UINT8, new int[] {0}, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.toBytes(tensors, Map.of()));
    }
}
