package dev.vertebra.examples.fmnist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxTest {

    /** Header {@code 00 00 08 rank}, big-endian dims, then {@code values}. */
    private static byte[] idx(int[] dims, byte[] values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[]{0, 0, 8, (byte) dims.length});
        for (int d : dims) {
            out.writeBytes(new byte[]{(byte) (d >>> 24), (byte) (d >>> 16), (byte) (d >>> 8), (byte) d});
        }
        out.writeBytes(values);
        return out.toByteArray();
    }

    private static Idx parse(byte[] bytes) throws IOException {
        return Idx.read(new ByteArrayInputStream(bytes), "test.idx");
    }

    @Test
    void readsDimsAndUnsignedValues() throws IOException {
        Idx idx = parse(idx(new int[]{2, 1, 3}, new byte[]{0, 1, 2, (byte) 200, (byte) 255, 7}));
        assertArrayEquals(new int[]{2, 1, 3}, idx.dims());
        assertEquals(200, idx.unsigned(3));
        assertEquals(255, idx.unsigned(4));
    }

    @Test
    void gunzipsFilesEndingInGz(@TempDir Path dir) throws IOException {
        byte[] raw = idx(new int[]{4}, new byte[]{9, 8, 7, 6});
        Path gz = dir.resolve("labels-idx1-ubyte.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(raw);
        }
        Path plain = dir.resolve("labels-idx1-ubyte");
        Files.write(plain, raw);
        assertEquals(Idx.read(plain), Idx.read(gz));
        assertEquals(6, Idx.read(gz).unsigned(3));
    }

    @Test
    void refusesWrongMagicTypeAndRank() {
        byte[] floats = idx(new int[]{1}, new byte[]{0, 0, 0, 0});
        floats[2] = 0x0D;
        assertTrue(assertThrows(IdxFormatException.class, () -> parse(floats)).getMessage().contains("unsigned-byte"));
        byte[] rank0 = {0, 0, 8, 0};
        assertThrows(IdxFormatException.class, () -> parse(rank0));
        assertThrows(IdxFormatException.class, () -> parse(new byte[]{0, 0}));
    }

    @Test
    void refusesNonPositiveDimensions() {
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> parse(idx(new int[]{3, 0}, new byte[0])));
        assertTrue(e.getMessage().contains("dimension 1"), e.getMessage());
        assertThrows(IdxFormatException.class, () -> parse(idx(new int[]{-1}, new byte[0])));
    }

    @Test
    void refusesTruncatedAndOverlongFiles() {
        IdxFormatException shortData = assertThrows(IdxFormatException.class,
                () -> parse(idx(new int[]{2, 2}, new byte[]{1, 2, 3})));
        assertTrue(shortData.getMessage().contains("truncated"), shortData.getMessage());
        byte[] header = idx(new int[]{5, 5, 5}, new byte[0]);
        assertThrows(IdxFormatException.class, () -> parse(Arrays.copyOf(header, 9)));
        assertThrows(IdxFormatException.class, () -> parse(idx(new int[]{2}, new byte[]{1, 2, 3})));
    }

    @Test
    void aHeaderClaimingGigabytesCostsOnlyWhatTheFileHolds() {
        // 60000·28·28·3 ≈ 141 M values claimed, 10 present: refused as truncated, nothing huge allocated.
        IdxFormatException e = assertThrows(IdxFormatException.class,
                () -> parse(idx(new int[]{60000, 28, 28, 3}, new byte[10])));
        assertTrue(e.getMessage().contains("holds 10"), e.getMessage());
        assertThrows(IdxFormatException.class, () -> parse(idx(new int[]{65536, 65536}, new byte[10])));
    }
}
