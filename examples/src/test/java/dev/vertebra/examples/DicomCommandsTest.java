package dev.vertebra.examples;

import dev.vertebra.core.DType;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.core.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DICOM subcommands on a small CT-like file written here byte by byte: 12-bit signed pixels (one with junk
 * above bit 11) and a rescale to HU, so the expected values follow from the DICOM rules by hand. The reader's
 * agreement with pydicom on real files is proven in the data module.
 */
class DicomCommandsTest {

    // Stored 16-bit words; with BitsStored 12 and PixelRepresentation 1 they mean 100, -50, 2047, -2048, 0, 10.
    private static final short[] WORDS = {100, (short) 0xFFCE, 2047, (short) 0xF800, 0, (short) 0xF00A};
    // HU = 2 · value − 1024
    private static final float[] HU = {-824, -1124, 3070, -5120, -1024, -1004};

    @TempDir
    Path dir;

    private static String run(String... args) {
        StringWriter out = new StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(out, true));
        StringWriter err = new StringWriter();
        cmd.setErr(new PrintWriter(err, true));
        int exit = cmd.execute(args);
        return exit + "\n" + out + err;
    }

    @Test
    void dicom2npyWritesRescaledValuesInRowsByColumns() throws Exception {
        Path dcm = Files.write(dir.resolve("ct.dcm"), ctFile());
        Path npy = dir.resolve("ct.npy");

        String result = run("dicom2npy", dcm.toString(), npy.toString());

        assertTrue(result.startsWith("0\n"), result);
        HostArray a = Npy.read(npy);
        assertEquals(DType.FLOAT32, a.dtype());
        assertArrayEquals(new int[]{2, 3}, a.shape());
        assertArrayEquals(HU, (float[]) a.data());
    }

    @Test
    void dicomInfoListsTheElements() throws Exception {
        Path dcm = Files.write(dir.resolve("ct.dcm"), ctFile());

        String result = run("dicom-info", dcm.toString());

        assertTrue(result.startsWith("0\n"), result);
        assertTrue(result.contains("(0028,0010) US 2"), result);
        assertTrue(result.contains("Rows"), result);
        assertTrue(result.contains("RescaleSlope"), result);
        assertTrue(result.contains("MONOCHROME2"), result);
    }

    @Test
    void aTruncatedFileFailsWithTheFileName() throws Exception {
        byte[] full = ctFile();
        Path dcm = Files.write(dir.resolve("cut.dcm"), java.util.Arrays.copyOf(full, full.length - 5));

        String result = run("dicom2npy", dcm.toString(), dir.resolve("x.npy").toString());

        assertTrue(result.startsWith("1\nvertebra dicom2npy: " + dcm), result);
        assertFalse(result.contains("\tat "), "one line, no stack trace: " + result);
        assertTrue(Files.notExists(dir.resolve("x.npy")), "no output is left behind");
    }

    @Test
    void aFileThatIsNotDicomOrIsMissingIsNamedInOneLine() throws Exception {
        Path text = Files.writeString(dir.resolve("notes.txt"), "not a DICOM file");
        String result = run("dicom-info", text.toString());
        assertTrue(result.startsWith("1\nvertebra dicom-info: " + text + ": not a DICOM file"), result);
        assertEquals(2, result.strip().split("\n").length, "exit code and one line: " + result);

        Path missing = dir.resolve("missing.dcm");
        result = run("dicom2npy", missing.toString(), dir.resolve("y.npy").toString());
        assertTrue(result.startsWith("1\nvertebra dicom2npy: " + missing + ": cannot read: no such file"), result);
    }

    /** A Part 10 file, explicit VR little endian, 2×3 pixels. */
    static byte[] ctFile() {
        ByteArrayOutputStream meta = new ByteArrayOutputStream();
        element(meta, 0x0002, 0x0010, "UI", text("1.2.840.10008.1.2.1", (byte) 0));
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(new byte[128]);
        file.writeBytes("DICM".getBytes(StandardCharsets.US_ASCII));
        element(file, 0x0002, 0x0000, "UL", le(4).putInt(meta.size()).array());
        file.writeBytes(meta.toByteArray());
        element(file, 0x0008, 0x0060, "CS", text("CT", (byte) ' '));
        element(file, 0x0028, 0x0002, "US", le(2).putShort((short) 1).array());
        element(file, 0x0028, 0x0004, "CS", text("MONOCHROME2", (byte) ' '));
        element(file, 0x0028, 0x0010, "US", le(2).putShort((short) 2).array());
        element(file, 0x0028, 0x0011, "US", le(2).putShort((short) 3).array());
        element(file, 0x0028, 0x0100, "US", le(2).putShort((short) 16).array());
        element(file, 0x0028, 0x0101, "US", le(2).putShort((short) 12).array());
        element(file, 0x0028, 0x0102, "US", le(2).putShort((short) 11).array());
        element(file, 0x0028, 0x0103, "US", le(2).putShort((short) 1).array());
        element(file, 0x0028, 0x1052, "DS", text("-1024", (byte) ' '));
        element(file, 0x0028, 0x1053, "DS", text("2", (byte) ' '));
        ByteBuffer pixels = le(2 * WORDS.length);
        for (short w : WORDS) {
            pixels.putShort(w);
        }
        element(file, 0x7FE0, 0x0010, "OW", pixels.array());
        return file.toByteArray();
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] text(String s, byte pad) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        if (b.length % 2 == 0) {
            return b;
        }
        byte[] padded = java.util.Arrays.copyOf(b, b.length + 1);
        padded[b.length] = pad;
        return padded;
    }

    private static void element(ByteArrayOutputStream out, int group, int element, String vr, byte[] value) {
        boolean longForm = vr.equals("OW") || vr.equals("OB") || vr.equals("SQ") || vr.equals("UN");
        ByteBuffer head = le(longForm ? 12 : 8);
        head.putShort((short) group).putShort((short) element).put(vr.getBytes(StandardCharsets.US_ASCII));
        if (longForm) {
            head.putShort((short) 0).putInt(value.length);
        } else {
            head.putShort((short) value.length);
        }
        out.writeBytes(head.array());
        out.writeBytes(value);
    }
}
