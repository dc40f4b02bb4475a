package dev.vertebra.data.nifti;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** NIfTI-1 reading against files written and read back by nibabel (data/src/test/python/gen_nifti_fixtures.py). */
class NiftiTest {

    record Case(String file, int datatype, int[] dims, double[] affine, double[] values, double[] qform,
                double[] sform) {
        @Override
        public String toString() {
            return file;
        }
    }

    static List<Case> cases() throws IOException {
        try (InputStream in = NiftiTest.class.getResourceAsStream("/nifti/manifest.tsv")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.startsWith("#") && !l.isBlank())
                    .map(l -> l.split("\t"))
                    .map(f -> new Case(f[0], Integer.parseInt(f[1]),
                            Arrays.stream(f[2].split(",")).mapToInt(Integer::parseInt).toArray(),
                            numbers(f[3]), numbers(f[4]), numbers(f[5]), numbers(f[6])))
                    .toList();
        }
    }

    private static double[] numbers(String s) {
        return Arrays.stream(s.split(",")).mapToDouble(Double::parseDouble).toArray();
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = NiftiTest.class.getResourceAsStream("/nifti/" + name)) {
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void readsWhatNibabelWrote(Case c) throws IOException {
        NiftiImage image = Nifti.read(resource(c.file()), c.file());
        assertEquals(c.datatype(), image.type().code());
        assertArrayEquals(c.dims(), image.dims());
        float[] values = image.toFloats();
        for (int i = 0; i < c.values().length; i++) {
            assertEquals(c.values()[i], values[i], 1e-6 * Math.max(1, Math.abs(c.values()[i])), c.file() + " voxel " + i);
        }
        assertAffine(c.affine(), image.affine(), c.file() + " affine");
        if (image.qformCode() > 0) {
            assertAffine(c.qform(), image.qformAffine(), c.file() + " qform");
        }
        if (image.sformCode() > 0) {
            assertAffine(c.sform(), image.sformAffine(), c.file() + " sform");
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void writeThenReadKeepsVoxelsAndGeometry(Case c, @TempDir Path dir) throws IOException {
        NiftiImage image = Nifti.read(resource(c.file()), c.file());
        Path copy = dir.resolve(c.file());
        Nifti.write(copy, image);
        NiftiImage back = Nifti.read(copy);
        assertArrayEquals(image.toFloats(), back.toFloats(), 0f);
        assertEquals(image.type(), back.type());
        assertAffine(c.affine(), back.affine(), "affine after round trip");
    }

    @Test
    void qformWrittenFromAnAffineReproducesIt() {
        // A left-handed grid (as the RSNA masks are): the quaternion needs qfac = -1.
        double[][] affine = {{0, 0, -1.25, 40}, {0, -0.8, 0, 60}, {0.8, 0, 0, -120}, {0, 0, 0, 1}};
        NiftiImage image = NiftiImage.of(NiftiType.UINT8, new int[] {2, 2, 2}, new byte[8], affine);
        assertEquals(-1f, image.pixdim()[0]);
        double[][] q = image.qformAffine();
        for (int r = 0; r < 3; r++) {
            assertArrayEquals(affine[r], q[r], 1e-6);
        }
    }

    @Test
    void truncatedAndForeignFilesGiveTypedErrors() throws IOException {
        byte[] good = resource("u8.nii");
        var shortFile = assertThrows(NiftiException.class, () -> Nifti.read(Arrays.copyOf(good, 300), "a.nii"));
        assertTrue(shortFile.getMessage().contains("a.nii"));
        var truncated = assertThrows(NiftiException.class,
                () -> Nifti.read(Arrays.copyOf(good, good.length - 1), "b.nii"));
        assertEquals(352, truncated.offset());
        byte[] bad = good.clone();
        bad[70] = 99;
        assertEquals(70, assertThrows(NiftiException.class, () -> Nifti.read(bad, "c.nii")).offset());
        byte[] huge = good.clone();
        huge[42] = (byte) 0xFF;
        huge[43] = (byte) 0x7F;
        assertThrows(NiftiException.class, () -> Nifti.read(huge, "d.nii"));
        assertThrows(NiftiException.class, () -> Nifti.read(new byte[400], "e.nii"));
        byte[] sevenDims = good.clone();  // rank 7 of 32767 each: a product that would overflow a long
        for (int d = 0; d <= 7; d++) {
            sevenDims[40 + 2 * d] = (byte) (d == 0 ? 7 : 0xFF);
            sevenDims[41 + 2 * d] = (byte) (d == 0 ? 0 : 0x7F);
        }
        var overflow = assertThrows(NiftiException.class, () -> Nifti.read(sevenDims, "g.nii"));
        assertTrue(overflow.getMessage().contains("more than"), overflow.getMessage());
        assertThrows(NiftiException.class, () -> Nifti.read(new byte[] {0x1F, (byte) 0x8B, 1, 2}, "f.nii.gz"));
    }

    private static void assertAffine(double[] expected3x4, double[][] actual, String what) {
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 4; c++) {
                assertEquals(expected3x4[4 * r + c], actual[r][c], 1e-5, what + " [" + r + "][" + c + "]");
            }
        }
    }
}
