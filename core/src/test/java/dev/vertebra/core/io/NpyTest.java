package dev.vertebra.core.io;

import dev.vertebra.core.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** .npy files written by NumPy (see make_io_golden.py) read back as the values NumPy stored. */
class NpyTest {

    /** Every .npy file expected.txt lists: each dtype, 0-d, empty, big-endian, versions 2.0 and 3.0. */
    static Stream<String> goldenNpyFiles() {
        return Golden.keysStartingWith("").stream().filter(key -> key.endsWith(".npy"));
    }

    @ParameterizedTest
    @MethodSource("goldenNpyFiles")
    void readsWhatNumpyWrote(String name) throws IOException {
        HostArray expected = Golden.expected(name);
        assertEquals(expected, Npy.read(Golden.file(name)), "from a path");
        assertEquals(expected, Npy.read(Golden.bytes(name)), "from bytes");
        assertEquals(expected, Npy.read(new ByteArrayInputStream(Golden.bytes(name))), "from a stream");
    }

    @Test
    void goldenFilesCoverWhatTheFormatAllows() {
        assertEquals(15, goldenNpyFiles().count());
    }

    @Test
    void float16IsKeptAsItsBitsAndMeansWhatNumpyMeant() throws IOException {
        HostArray half = Npy.read(Golden.file("f2_5.npy"));
        assertEquals(DType.FLOAT16, half.dtype());
        short[] bits = (short[]) half.data();
        assertEquals(-2.5f, Float.float16ToFloat(bits[1]));
        assertEquals(65504f, Float.float16ToFloat(bits[2]));
    }

    @Test
    void zeroDimensionalArrayHasEmptyShape() throws IOException {
        HostArray scalar = Npy.read(Golden.file("scalar_f8.npy"));
        assertEquals(0, scalar.shape().length);
        assertArrayEquals(new double[] {-42.25}, (double[]) scalar.data());
    }

    /** Little-endian version-1.0 files: what Vertebra writes must be byte for byte what NumPy wrote. */
    @ParameterizedTest
    @ValueSource(strings = {"f4_2x3.npy", "f8_4.npy", "f2_5.npy", "i8_3x2.npy", "i4_2x2x2.npy", "i2_7.npy",
        "u1_4x4.npy", "scalar_f8.npy", "empty_f4_0x3.npy"})
    void writesExactlyTheBytesNumpyWrites(String name) throws IOException {
        assertArrayEquals(Golden.bytes(name), Npy.toBytes(Golden.expected(name)));
    }

    @Test
    void bigEndianFilesAreWrittenBackLittleEndian() throws IOException {
        HostArray array = Npy.read(Golden.file("be_f4_2x3.npy"));
        byte[] written = Npy.toBytes(array);
        assertTrue(new String(written, 0, 40, StandardCharsets.ISO_8859_1).contains("'<f4'"));
        assertEquals(array, Npy.read(written));
    }

    @Test
    void writesAtomicallyToAPathAndReadsBack(@TempDir Path folder) throws IOException {
        Path file = folder.resolve("labels.npy");
        Files.write(file, new byte[] {1, 2, 3}); // an old file is replaced whole
        HostArray labels = new HostArray(DType.INT64, new int[] {2, 2}, new long[] {-1, Long.MAX_VALUE, 0, 5});
        Npy.write(file, labels);
        assertEquals(labels, Npy.read(file));
        try (var listing = Files.list(folder)) {
            assertEquals(1, listing.count(), "no temporary file left behind");
        }
    }

    @Test
    void streamHoldingSeveralArraysIsReadOneAtATime() throws IOException {
        HostArray first = new HostArray(DType.UINT8, new int[] {3}, new byte[] {1, (byte) 200, 3});
        HostArray second = new HostArray(DType.FLOAT32, new int[] {}, new float[] {Float.NaN});
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npy.write(out, first);
        Npy.write(out, second);
        ByteArrayInputStream in = new ByteArrayInputStream(out.toByteArray());
        assertEquals(first, Npy.read(in));
        assertEquals(second, Npy.read(in));
        assertEquals(-1, in.read());
    }

    @Test
    void largeArrayCrossesSeveralChunks(@TempDir Path folder) throws IOException {
        int n = (ElementCodec.CHUNK_BYTES / 8) * 3 + 5;
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = i * 0.5 - 7;
        }
        HostArray array = new HostArray(DType.FLOAT64, new int[] {n}, values);
        Path file = folder.resolve("big.npy");
        Npy.write(file, array);
        assertEquals(array, Npy.read(file));
        assertEquals(array, Npy.read(new ByteArrayInputStream(Files.readAllBytes(file))));
    }

    @Test
    void hugeShapeGetsAVersion2Header() throws IOException {
        int[] shape = new int[25_000]; // "1, " each: over the 65535 bytes a 1.0 header can hold
        Arrays.fill(shape, 1);
        HostArray array = new HostArray(DType.INT16, shape, new short[] {-9});
        byte[] bytes = Npy.toBytes(array);
        assertEquals(2, bytes[6], "major version");
        assertEquals(0, (bytes.length - 2) % 64, "data starts 64-byte aligned");
        assertEquals(array, Npy.read(bytes));
    }

    @Test
    void bfloat16CannotBeWrittenAsNpy() {
        HostArray array = new HostArray(DType.BFLOAT16, new int[] {1}, new short[] {0x3f80});
        assertThrows(IllegalArgumentException.class, () -> Npy.toBytes(array));
    }
}
