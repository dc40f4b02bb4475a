package dev.vertebra.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Malformed and unsupported .npy input gives a {@link TensorFormatException} that says what is wrong. */
class NpyBadInputTest {

    private static TensorFormatException refuse(byte[] bytes) {
        return assertThrows(TensorFormatException.class, () -> Npy.read(bytes));
    }

    /** A version-1.0 file with the given header text, padded the way NumPy pads, followed by {@code data}. */
    private static byte[] npy(String header, byte[] data) {
        byte[] text = header.getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[10 + text.length + data.length];
        byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) text.length, (byte) (text.length >> 8)};
        System.arraycopy(magic, 0, out, 0, 10);
        System.arraycopy(text, 0, out, 10, text.length);
        System.arraycopy(data, 0, out, 10 + text.length, data.length);
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"f4_2x3.npy", "scalar_f8.npy", "v2_f4_3.npy", "be_i8_3.npy"})
    void truncationAtEveryByteIsATensorFormatException(String name) {
        byte[] whole = Golden.bytes(name);
        for (int length = 0; length < whole.length; length++) {
            byte[] cut = Arrays.copyOf(whole, length);
            int at = length;
            TensorFormatException fromBytes = assertThrows(TensorFormatException.class, () -> Npy.read(cut),
                    () -> "cut at " + at);
            assertEquals("<bytes>", fromBytes.source());
            assertThrows(TensorFormatException.class, () -> Npy.read(new ByteArrayInputStream(cut)),
                    () -> "stream cut at " + at);
        }
    }

    @Test
    void truncatedFileNamesTheFile(@TempDir Path folder) throws IOException {
        Path file = folder.resolve("cut.npy");
        byte[] whole = Golden.bytes("f4_2x3.npy");
        Files.write(file, Arrays.copyOf(whole, whole.length - 1));
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Npy.read(file));
        assertEquals(file.toString(), e.source());
        assertEquals(128, e.offset(), "the data starts after the 128-byte header");
        assertTrue(e.getMessage().startsWith(file + " at byte 128: "), e.getMessage());
    }

    @Test
    void fortranOrderIsRefused() {
        TensorFormatException e = assertThrows(TensorFormatException.class,
                () -> Npy.read(Golden.file("fortran_f4_2x3.npy")));
        assertTrue(e.getMessage().contains("fortran_f4_2x3.npy"), e.getMessage());
        assertTrue(e.problem().contains("Fortran-order"), e.problem());
    }

    @Test
    void objectArraysAreRefused() {
        assertTrue(refuse(Golden.bytes("object.npy")).problem().contains("object arrays"));
    }

    @Test
    void structuredDtypesAreRefused() {
        assertTrue(refuse(Golden.bytes("structured.npy")).problem().contains("structured dtypes"));
    }

    @Test
    void boolIsAnUnsupportedDtype() {
        assertTrue(refuse(Golden.bytes("bool.npy")).problem().contains("unsupported dtype '|b1'"));
    }

    @Test
    void badMagicIsRefused() {
        byte[] bytes = Golden.bytes("f4_2x3.npy");
        bytes[3] = 'X';
        TensorFormatException e = refuse(bytes);
        assertEquals(3, e.offset());
        assertTrue(e.problem().contains("bad magic"));
    }

    @Test
    void unknownVersionIsRefused() {
        byte[] bytes = Golden.bytes("f4_2x3.npy");
        bytes[6] = 4;
        assertTrue(refuse(bytes).problem().contains("version 4.0"));
    }

    @Test
    void hugeVersion2HeaderLengthFailsBeforeAllocating() {
        byte[] bytes = Golden.bytes("v2_f4_3.npy");
        bytes[8] = bytes[9] = bytes[10] = bytes[11] = (byte) 0xFF; // 4 GiB header
        assertTrue(refuse(bytes).problem().contains("implausibly large"));
        assertThrows(TensorFormatException.class, () -> Npy.read(new ByteArrayInputStream(bytes)));
    }

    @Test
    void headerLengthPastTheEndIsTruncation() {
        byte[] bytes = Golden.bytes("f4_2x3.npy");
        bytes[8] = (byte) 0xFF;
        bytes[9] = (byte) 0x7F;
        assertTrue(refuse(bytes).problem().contains("truncated"));
    }

    @Test
    void shapeClaimingMoreThanTheFileHoldsFailsWithoutAllocating() {
        // 2^31-9 float64 elements would be a 16 GiB allocation if the reader trusted the header.
        byte[] bytes = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2147483639,), }\n", new byte[8]);
        TensorFormatException e = refuse(bytes);
        assertTrue(e.problem().contains("needs 17179869112 bytes"), e.problem());
        assertThrows(TensorFormatException.class, () -> Npy.read(new ByteArrayInputStream(bytes)));
    }

    @Test
    void negativeAndOverflowingShapesAreRefused() {
        assertTrue(refuse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }\n", new byte[0]))
                .problem().contains("negative dimension"));
        assertTrue(refuse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536), }\n",
                new byte[0])).problem().contains("more elements than one Java array"));
        assertTrue(refuse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 0), }\n",
                new byte[0])).problem().contains("does not fit a Java int"));
        assertTrue(refuse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n",
                new byte[0])).problem().contains("too large integer"));
    }

    @Test
    void malformedHeadersAreRefused() {
        String[] headers = {
            "{'descr': '<f4', 'fortran_order': False}\n",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}\n",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}\n",
            "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}\n",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1)}\n",
            "{'descr': '<f4', 'fortran_order': False, 'shape': ('a',)}\n",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk\n",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n",
            "{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}\n",
            "['descr', '<f4']\n",
            "{'descr': '=f4', 'fortran_order': False, 'shape': (1,)}\n",
            "{'descr': '<u2', 'fortran_order': False, 'shape': (1,)}\n",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,),\n",
            "(((((((((((((((((((((((((((((((((((((((((((((((((((((((1,)))))))))))))))))))))))))))))))))))))))))))))))\n",
        };
        for (String header : headers) {
            TensorFormatException e = assertThrows(TensorFormatException.class,
                    () -> Npy.read(npy(header, new byte[4])), header);
            assertTrue(e.offset() >= 10, "the offset points into the header: " + e.getMessage());
        }
    }

    @Test
    void everySingleByteCorruptionGivesATypedErrorOrAnArray() {
        byte[] whole = Golden.bytes("i4_2x2x2.npy");
        for (int i = 0; i < whole.length; i++) {
            for (int value : new int[] {0, 0xFF, '(', '\'', '9'}) {
                byte[] mutated = whole.clone();
                mutated[i] = (byte) value;
                try {
                    Npy.read(mutated);
                } catch (TensorFormatException expected) {
                    assertTrue(expected.offset() >= 0);
                } catch (IOException | RuntimeException e) {
                    throw new AssertionError("byte " + i + " set to " + value + " gave " + e, e);
                }
            }
        }
    }
}
