package dev.vertebra.data.synth;

import dev.vertebra.core.Generator;
import dev.vertebra.data.dicom.DicomObject;
import dev.vertebra.data.dicom.DicomPixels;
import dev.vertebra.data.dicom.DicomReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class SyntheticDatasetTest {
    static final CervicalPhantom.PhantomSize SMALL = new CervicalPhantom.PhantomSize(64, 64, 48, 56);

    static SyntheticDataset.Config small(int train, int test, long seed) {
        return new SyntheticDataset.Config(train, test, seed, SMALL, FracturePrevalence.RSNA_2022, 0.5, 0.5);
    }

    @Test
    void prevalenceMatchesTheRsnaMarginals() {
        Generator g = new Generator(2022);
        int draws = 4000;
        int patients = 0;
        int[] counts = new int[7];
        for (int i = 0; i < draws; i++) {
            boolean[] f = FracturePrevalence.RSNA_2022.draw(g);
            boolean any = false;
            for (int v = 0; v < 7; v++) {
                counts[v] += f[v] ? 1 : 0;
                any |= f[v];
            }
            patients += any ? 1 : 0;
        }
        assertEquals(0.48, patients / (double) draws, 0.03);
        double[] expected = {0.07, 0.14, 0.04, 0.05, 0.08, 0.14, 0.20};
        for (int v = 0; v < 7; v++) {
            assertEquals(expected[v], counts[v] / (double) draws, 0.02, "C" + (v + 1));
        }
    }

    @Test
    void sameSeedWritesTheSameBytes(@TempDir Path dir) throws IOException {
        SyntheticDataset.write(dir.resolve("a"), small(2, 1, 5));
        SyntheticDataset.write(dir.resolve("b"), small(2, 1, 5));
        SyntheticDataset.write(dir.resolve("c"), small(2, 1, 6));
        List<Path> a = files(dir.resolve("a"));
        assertEquals(a.stream().map(p -> dir.resolve("a").relativize(p)).toList(),
                files(dir.resolve("b")).stream().map(p -> dir.resolve("b").relativize(p)).toList());
        for (Path p : a) {
            Path other = dir.resolve("b").resolve(dir.resolve("a").relativize(p));
            assertArrayEquals(Files.readAllBytes(p), Files.readAllBytes(other), p.toString());
        }
        assertNotEquals(Files.readString(dir.resolve("a/train.csv")), Files.readString(dir.resolve("c/train.csv")));
    }

    @Test
    void writesTheRsnaLayoutWithReadableSeries(@TempDir Path dir) throws IOException {
        List<SyntheticDataset.Study> studies = SyntheticDataset.write(dir, small(3, 2, 11));
        assertEquals(5, studies.size());
        for (String name : List.of("train.csv", "test.csv", "sample_submission.csv", "test_labels.csv",
                "train_bounding_boxes.csv")) {
            assertTrue(Files.isRegularFile(dir.resolve(name)), name);
        }
        assertEquals(4, Files.readAllLines(dir.resolve("train.csv")).size());
        assertEquals(1 + 2 * 8, Files.readAllLines(dir.resolve("test.csv")).size());
        for (SyntheticDataset.Study s : studies) {
            Path series = dir.resolve(s.test() ? "test_images" : "train_images").resolve(s.uid());
            try (Stream<Path> list = Files.list(series)) {
                assertEquals(s.slices(), list.count());
            }
            assertEquals(!s.test(), Files.exists(dir.resolve("segmentations").resolve(s.uid() + ".nii")));
            DicomObject first = DicomReader.read(series.resolve("1.dcm"));
            assertEquals(s.uid(), first.getString("StudyInstanceUID"));
            assertEquals(s.compressed() ? "1.2.840.10008.1.2.4.70" : "1.2.840.10008.1.2.1", first.transferSyntaxUid());
            assertEquals(1, first.getInt("InstanceNumber"));
            assertArrayEquals(new double[] {1, 0, 0, 0, 1, 0}, first.getDoubles("ImageOrientationPatient"));
            assertEquals(-1024, first.getDouble("RescaleIntercept"));
            assertTrue(s.uid().matches("2\\.25\\.[1-9][0-9]{0,38}"), s.uid());
            float[] hu = DicomPixels.read(first).modalityLut();
            assertEquals(64 * 64, hu.length);
            assertEquals(-1000, hu[0], 120, "air in the corner");
            double zFirst = first.getDoubles("ImagePositionPatient")[2];
            double zSecond = DicomReader.read(series.resolve("2.dcm")).getDoubles("ImagePositionPatient")[2];
            assertEquals(s.reversed(), zSecond > zFirst, "file numbering runs up the patient when reversed");
        }
    }

    @Test
    void phantomHasBoneAndFracturesOnlyWhereDrawn() {
        boolean[] fractured = {false, true, false, false, false, false, true};
        CervicalPhantom.Volume ct = CervicalPhantom.generate(new Generator(3), CervicalPhantom.PhantomSize.DEMO,
                fractured);
        int[] voxels = new int[8];
        int[] cleft = new int[8];
        double boneSum = 0;
        for (int i = 0; i < ct.labels().length; i++) {
            voxels[ct.labels()[i]]++;
            if (ct.cleft()[i]) {
                cleft[ct.labels()[i]]++;
            }
            if (ct.labels()[i] > 0) {
                boneSum += ct.hu()[i];
            }
        }
        for (int v = 1; v <= 7; v++) {
            assertTrue(voxels[v] > 500, "C" + v + " has " + voxels[v] + " voxels");
            assertEquals(fractured[v - 1], cleft[v] > 0, "cleft in C" + v + ": " + cleft[v]);
        }
        double meanBone = boneSum / Arrays.stream(voxels, 1, 8).sum();
        assertTrue(meanBone > 300 && meanBone < 1300, "mean bone HU " + meanBone);
        assertEquals(0, cleft[0]);
    }

    private static List<Path> files(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        }
    }
}
