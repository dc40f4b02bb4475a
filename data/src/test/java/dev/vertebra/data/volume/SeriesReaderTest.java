package dev.vertebra.data.volume;

import dev.vertebra.core.Generator;
import dev.vertebra.data.dicom.DicomWriter;
import dev.vertebra.data.dicom.Tags;
import dev.vertebra.data.nifti.Nifti;
import dev.vertebra.data.synth.CervicalPhantom;
import dev.vertebra.data.synth.SyntheticStudyWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Series → volume against phantoms whose voxels are known by construction. */
class SeriesReaderTest {
    static final CervicalPhantom.PhantomSize SMALL = new CervicalPhantom.PhantomSize(48, 40, 40, 40);

    static CervicalPhantom.Volume phantom(long seed) {
        return CervicalPhantom.generate(new Generator(seed), SMALL, new boolean[] {false, true, false, false, false, false, false});
    }

    @ParameterizedTest
    @CsvSource({"false,false", "true,false", "false,true", "true,true"})
    void sortsByPositionWhateverTheNumberingAndFileOrder(boolean reversed, boolean compressed, @TempDir Path dir)
            throws IOException {
        CervicalPhantom.Volume ct = phantom(4);
        SyntheticStudyWriter.writeSeries(dir, ct, "1.2.3", "P", reversed, compressed, new Generator(9));
        List<Path> files = new ArrayList<>(list(dir));
        Collections.shuffle(files, new Random(1));
        CtVolume v = SeriesReader.read(files, dir.toString());
        assertEquals(ct.slices(), v.slices());
        assertEquals(ct.rows(), v.rows());
        assertEquals(ct.cols(), v.cols());
        for (int i = 0; i < ct.hu().length; i++) {
            assertEquals(ct.hu()[i], v.hu()[i], 0f, "voxel " + i);
        }
        assertEquals(!reversed, v.report().fileOrderDescending());
        for (int s = 0; s < v.slices(); s++) {
            assertEquals(SyntheticStudyWriter.fileNumber(s, ct.slices(), reversed), v.instanceNumbers()[s]);
        }
        assertTrue(v.report().clean(), v.report().toString());
        assertEquals(ct.sliceSpacing(), v.spacing()[2], 1e-6);
        assertEquals(ct.pixelSpacing(), v.spacing()[0], 1e-6);
    }

    @ParameterizedTest
    @CsvSource({"false", "true"})
    void synthMasksMapBackExactlyOntoTheirVertebrae(boolean reversed, @TempDir Path dir) throws IOException {
        CervicalPhantom.Volume ct = phantom(6);
        SyntheticStudyWriter.writeSeries(dir.resolve("series"), ct, "1.2.3", "P", reversed, false, new Generator(2));
        SyntheticStudyWriter.writeMask(dir.resolve("seg.nii"), ct, reversed);
        CtVolume v = SeriesReader.read(dir.resolve("series"));
        byte[] labels = MaskMapper.toVolume(Nifti.read(dir.resolve("seg.nii")), v);
        assertArrayEquals(ct.labels(), labels);
        VertebraRanges ranges = VertebraRanges.fromLabels(labels, v.slices(), v.plane());
        for (int label = 1; label <= 7; label++) {
            assertTrue(ranges.first()[label] >= 0, VertebraRanges.name(label));
        }
        assertTrue(ranges.first()[1] > ranges.first()[7], "C1 lies above C7 (slices ascend upwards)");
    }

    @Test
    void gapsDuplicatesAndMixedSeriesAreReported(@TempDir Path dir) throws IOException {
        CervicalPhantom.Volume ct = phantom(8);
        Path series = dir.resolve("s");
        SyntheticStudyWriter.writeSeries(series, ct, "1.2.3", "P", false, false, new Generator(2));
        Files.delete(series.resolve("10.dcm"));
        Files.delete(series.resolve("11.dcm"));
        Files.copy(series.resolve("20.dcm"), series.resolve("20b.dcm"));
        CtVolume v = SeriesReader.read(series);
        assertEquals(1, v.report().duplicatesDropped());
        assertEquals(List.of(ct.slices() - 11), v.report().gaps());
        assertEquals(2, v.report().missingSlices());
        // The two missing slices are filled, so every slice sits where the affine puts it: index s holds the
        // file whose InstanceNumber goes with that position, before and after the gap; the filled ones have none.
        assertEquals(ct.slices(), v.slices());
        int[] instances = v.instanceNumbers();
        for (int s = 0; s < v.slices(); s++) {
            int expected = instances[0] - s * Integer.signum(instances[0] - instances[v.slices() - 1]);
            assertEquals(expected == 10 || expected == 11 ? 0 : expected, instances[s], "slice " + s);
        }
        assertEquals(ct.sliceSpacing(), v.spacing()[2], 1e-6, "spacing from the true step, not the gap");

        Path other = dir.resolve("o");
        SyntheticStudyWriter.writeSeries(other, ct, "1.2.4", "P", false, false, new Generator(3));
        Files.copy(other.resolve("5.dcm"), series.resolve("5x.dcm"));
        VolumeException mixed = assertThrows(VolumeException.class, () -> SeriesReader.read(series));
        assertTrue(mixed.getMessage().contains("mixed series"), mixed.getMessage());
    }

    @Test
    void tiltIsMeasuredAndMissingGeometryIsAnError(@TempDir Path dir) throws IOException {
        Path tilted = dir.resolve("t");
        Files.createDirectories(tilted);
        double tiltDegrees = 15;
        for (int n = 0; n < 5; n++) {
            var ds = slice(n).decimals(0x00200032, 0, n * 2 * Math.tan(Math.toRadians(tiltDegrees)), n * 2.0);
            DicomWriter.write(tilted.resolve(n + ".dcm"), ds, "1.2.840.10008.5.1.4.1.1.2", "1.2.9." + n,
                    DicomWriter.EXPLICIT_VR_LITTLE_ENDIAN);
        }
        CtVolume v = SeriesReader.read(tilted);
        assertEquals(tiltDegrees, v.report().gantryTiltDegrees(), 1e-6);
        assertTrue(v.report().tilted());
        assertArrayEquals(new double[] {0, 2 * 2 * Math.tan(Math.toRadians(tiltDegrees)), 4},
                v.toPatient(0, 0, 2), 1e-9, "the affine follows the tilted positions");

        Path missing = dir.resolve("m");
        Files.createDirectories(missing);
        for (int n = 0; n < 3; n++) {
            DicomWriter.write(missing.resolve(n + ".dcm"), slice(n), "1.2.840.10008.5.1.4.1.1.2", "1.2.8." + n,
                    DicomWriter.EXPLICIT_VR_LITTLE_ENDIAN);
        }
        VolumeException e = assertThrows(VolumeException.class, () -> SeriesReader.read(missing));
        assertTrue(e.getMessage().contains("ImagePositionPatient"), e.getMessage());
        assertTrue(e.source().endsWith(".dcm"), e.source());
    }

    @Test
    void monochrome1IsInverted(@TempDir Path dir) throws IOException {
        for (int n = 0; n < 2; n++) {
            var ds = slice(n).decimals(0x00200032, 0, 0, n).string(Tags.PHOTOMETRIC_INTERPRETATION, "CS", "MONOCHROME1");
            DicomWriter.write(dir.resolve(n + ".dcm"), ds, "1.2.840.10008.5.1.4.1.1.2", "1.2.7." + n,
                    DicomWriter.EXPLICIT_VR_LITTLE_ENDIAN);
        }
        CtVolume v = SeriesReader.read(dir);
        // Stored 100 in 12 unsigned bits, intercept -1024: HU -924, mirrored in [-1024, 3071] → 2971.
        assertEquals(2971, v.hu()[0], 0f);
    }

    private static DicomWriter.Dataset slice(int n) {
        short[] pixels = new short[4 * 4];
        java.util.Arrays.fill(pixels, (short) 100);
        return new DicomWriter.Dataset()
                .string(0x0020000E, "UI", "1.2.5")
                .string(0x00200013, "IS", Integer.toString(n + 1))
                .decimals(0x00200037, 1, 0, 0, 0, 1, 0)
                .decimals(0x00280030, 0.5, 0.5)
                .uint16(Tags.SAMPLES_PER_PIXEL, 1)
                .string(Tags.PHOTOMETRIC_INTERPRETATION, "CS", "MONOCHROME2")
                .uint16(Tags.ROWS, 4).uint16(Tags.COLUMNS, 4)
                .uint16(Tags.BITS_ALLOCATED, 16).uint16(Tags.BITS_STORED, 12).uint16(Tags.HIGH_BIT, 11)
                .uint16(Tags.PIXEL_REPRESENTATION, 0)
                .decimals(Tags.RESCALE_INTERCEPT, -1024).decimals(Tags.RESCALE_SLOPE, 1)
                .pixels16(pixels);
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
