package dev.vertebra.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Malformed and unsupported .safetensors input gives a {@link TensorFormatException} that says what is wrong. */
class SafetensorsBadInputTest {

    /** A file made of a header length, the given header bytes (unpadded) and a data buffer of {@code dataBytes}. */
    private static byte[] file(byte[] header, int dataBytes) {
        ByteBuffer out = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(header.length).put(header);
        return out.array();
    }

    private static byte[] file(String header, int dataBytes) {
        return file(header.getBytes(StandardCharsets.UTF_8), dataBytes);
    }

    private static TensorFormatException refuse(byte[] bytes) {
        return assertThrows(TensorFormatException.class, () -> Safetensors.read(bytes));
    }

    private static String problem(String header, int dataBytes) {
        return refuse(file(header, dataBytes)).problem();
    }

    @ParameterizedTest
    @ValueSource(strings = {"all_dtypes.safetensors", "ordered.safetensors", "no_metadata.safetensors"})
    void truncationAtEveryByteIsATensorFormatException(String name) {
        byte[] whole = Golden.bytes(name);
        for (int length = 0; length < whole.length; length++) {
            byte[] cut = Arrays.copyOf(whole, length);
            int at = length;
            assertThrows(TensorFormatException.class, () -> Safetensors.read(cut), () -> "cut at " + at);
        }
    }

    @Test
    void truncatedFileNamesTheFile(@TempDir Path folder) throws IOException {
        Path path = folder.resolve("cut.safetensors");
        byte[] whole = Golden.bytes("ordered.safetensors");
        Files.write(path, Arrays.copyOf(whole, whole.length - 1));
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Safetensors.read(path));
        assertEquals(path.toString(), e.source());
        assertTrue(e.problem().contains("head.scale"), "names the tensor that does not fit: " + e.problem());
    }

    @Test
    void lyingHugeHeaderLengthFailsFast() {
        byte[] bytes = Golden.bytes("ordered.safetensors");
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 62);
        TensorFormatException e = refuse(bytes);
        assertEquals(0, e.offset());
        assertTrue(e.problem().contains("header length 4611686018427387904 is larger than the file"), e.problem());
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        assertTrue(refuse(bytes).problem().contains("18446744073709551615"), "unsigned, as the file means it");
    }

    @Test
    void tooShortForTheLengthField() {
        assertTrue(refuse(new byte[5]).problem().contains("8-byte header length"));
    }

    @Test
    void overlappingOffsetsAreRefused() {
        String problem = problem("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertTrue(problem.contains("'b' [4, 12) overlaps tensor 'a' [0, 8)"), problem);
        String oneByte = problem("{\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},"
                + "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", 4);
        assertTrue(oneByte.contains("overlaps"), oneByte);
    }

    @Test
    void offsetsOutsideTheBufferAreRefused() {
        assertTrue(problem("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 12)
                .contains("not a range inside the 12-byte data buffer"));
        assertTrue(problem("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 12)
                .contains("not a range"));
        assertTrue(problem("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[-4,0]}}", 12)
                .contains("not a range"));
        assertTrue(problem("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0]}}", 12)
                .contains("[begin, end]"));
    }

    @Test
    void offsetsNotMatchingDtypeTimesShapeAreRefused() {
        String problem = problem("{\"a\":{\"dtype\":\"F64\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 48);
        assertTrue(problem.contains("needs 48 bytes but data_offsets [0, 24] span 24"), problem);
    }

    @Test
    void badShapesAreRefused() {
        assertTrue(problem("{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0)
                .contains("negative dimension"));
        assertTrue(problem("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296],\"data_offsets\":[0,0]}}", 0)
                .contains("does not fit a Java int"));
        assertTrue(problem("{\"a\":{\"dtype\":\"U8\",\"shape\":[65536,65536,65536],\"data_offsets\":[0,0]}}", 0)
                .contains("more elements than one Java array"));
        assertTrue(problem("{\"a\":{\"dtype\":\"U8\",\"shape\":[99999999999999999999],\"data_offsets\":[0,0]}}", 0)
                .contains("does not fit 64 bits"));
        assertTrue(problem("{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,0]}}", 0)
                .contains("only integers"));
        assertTrue(problem("{\"a\":{\"dtype\":\"U8\",\"shape\":3,\"data_offsets\":[0,0]}}", 0)
                .contains("must be an array of integers"));
    }

    @Test
    void unsupportedDtypesNameTheTensor() {
        String bool = refuse(Golden.bytes("bool.safetensors")).problem();
        assertTrue(bool.contains("tensor 'flags' has dtype BOOL") && bool.contains("unsupported dtype"), bool);
        String int8 = refuse(Golden.bytes("int8.safetensors")).problem();
        assertTrue(int8.contains("tensor 'q' has dtype I8"), int8);
        assertTrue(problem("{\"w\":{\"dtype\":\"F128\",\"shape\":[],\"data_offsets\":[0,16]}}", 16)
                .contains("tensor 'w' has unknown dtype 'F128'"));
    }

    @Test
    void badJsonIsRefusedWithAnOffsetInsideTheHeader() {
        String[] headers = {
            "", "   ", "[]", "\"text\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":{},}", "{'a':{}}", "{\"a\":true}",
            "{\"a\":null}", "{\"a\":[1,]}", "{\"a\":[01]}", "{\"a\":-}", "{\"a\":[1e3]}", "{} x", "{\"a\\q\":1}",
            "{\"a\\u12\":1}", "{\"a\":\"tab\there\"}", "{\"a\":1,\"a\":2}",
            "[".repeat(100) + "]".repeat(100),
        };
        for (String header : headers) {
            TensorFormatException e = assertThrows(TensorFormatException.class,
                    () -> Safetensors.read(file(header, 0)), header);
            assertTrue(e.offset() >= 8 && e.offset() <= 8 + header.length() || header.isBlank(), header + ": "
                    + e.getMessage());
        }
        byte[] invalidUtf8 = {'{', '"', (byte) 0xC3, '"', ':', '{', '}', '}'};
        assertTrue(refuse(file(invalidUtf8, 0)).problem().contains("not valid UTF-8"));
    }

    @Test
    void badMetadataAndEntriesAreRefused() {
        assertTrue(problem("{\"__metadata__\":{\"epoch\":3}}", 0).contains("must be a string"));
        assertTrue(problem("{\"__metadata__\":[]}", 0).contains("must be an object of strings"));
        assertTrue(problem("{\"a\":[]}", 0).contains("must be described by an object"));
        assertTrue(problem("{\"a\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1],\"x\":\"y\"}}", 1)
                .contains("exactly the keys"));
        assertTrue(problem("{\"a\":{\"dtype\":8,\"shape\":[],\"data_offsets\":[0,1]}}", 1)
                .contains("dtype of tensor 'a' must be a string"));
    }

    @Test
    void everySingleByteCorruptionGivesATypedErrorOrTensors() {
        byte[] whole = Golden.bytes("ordered.safetensors");
        for (int i = 0; i < whole.length; i++) {
            for (int value : new int[] {0, 0xFF, '[', '"', '9', '-', 0x80}) {
                byte[] mutated = whole.clone();
                mutated[i] = (byte) value;
                try {
                    Safetensors.read(mutated);
                } catch (TensorFormatException expected) {
                    assertTrue(expected.offset() >= 0);
                } catch (IOException | RuntimeException e) {
                    throw new AssertionError("byte " + i + " set to " + value + " gave " + e, e);
                }
            }
        }
    }
}
