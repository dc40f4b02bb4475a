package dev.vertebra.data.synth;

import dev.vertebra.core.Generator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Writes a complete synthetic dataset in the layout of the RSNA 2022 Cervical Spine Fracture Detection data:
 * <pre>
 *   train_images/&lt;StudyInstanceUID&gt;/&lt;n&gt;.dcm     axial CT slices, n = InstanceNumber from 1
 *   test_images/&lt;StudyInstanceUID&gt;/&lt;n&gt;.dcm
 *   segmentations/&lt;StudyInstanceUID&gt;.nii      vertebra labels 1..7 (C1..C7) for every training study
 *   train.csv                  StudyInstanceUID,patient_overall,C1,...,C7
 *   train_bounding_boxes.csv   StudyInstanceUID,x,y,width,height,slice_number  (fracture clefts, per slice)
 *   test.csv                   row_id,StudyInstanceUID,prediction_type
 *   sample_submission.csv      row_id,fractured
 *   test_labels.csv            the test studies' labels, in train.csv's form
 * </pre>
 * DICOM files are explicit VR little endian or, for about a third of the studies, JPEG lossless (SV1); stored
 * values are HU + 1024 in 12 bits (RescaleIntercept −1024, RescaleSlope 1), MONOCHROME2. About a quarter of the
 * studies number their files from the bottom up (reversed), the rest from the top down. The segmentation's
 * voxel order is the RSNA one: i along the columns, j against the rows, k against the file numbering (see
 * {@code SyntheticStudyWriter.writeMask}); its affine states this exactly.
 *
 * <p>Same configuration and seed → the same bytes in every file.
 *
 * <pre>{@code
 * List<SyntheticDataset.Study> truth = SyntheticDataset.write(Path.of("synth"), SyntheticDataset.Config.demo(40, 8, 1));
 * }</pre>
 */
public final class SyntheticDataset {
    private static final Logger LOG = LoggerFactory.getLogger(SyntheticDataset.class);
    /** Prediction types in the order test.csv lists them. */
    public static final List<String> PREDICTION_TYPES = List.of("C1", "C2", "C3", "C4", "C5", "C6", "C7",
            "patient_overall");

    private SyntheticDataset() {
    }

    /**
     * What to write.
     *
     * @param trainStudies       studies under train_images (with labels, masks and boxes)
     * @param testStudies        studies under test_images
     * @param seed               everything follows from it
     * @param size               the phantoms' grid
     * @param prevalence         how fractures are drawn
     * @param reversedFraction   share of studies numbered from the bottom up
     * @param compressedFraction share of studies written JPEG lossless
     */
    public record Config(int trainStudies, int testStudies, long seed, CervicalPhantom.PhantomSize size,
                         FracturePrevalence prevalence, double reversedFraction, double compressedFraction) {
        public Config {
            if (trainStudies < 0 || testStudies < 0 || trainStudies + testStudies == 0) {
                throw new IllegalArgumentException("need at least one study: " + trainStudies + " train, "
                        + testStudies + " test");
            }
        }

        /** The demo's defaults: 128×128 phantoms of 96–128 slices, RSNA prevalence. */
        public static Config demo(int trainStudies, int testStudies, long seed) {
            return new Config(trainStudies, testStudies, seed, CervicalPhantom.PhantomSize.DEMO,
                    FracturePrevalence.RSNA_2022, 0.25, 0.33);
        }
    }

    /** One written study and its truth. */
    public record Study(String uid, boolean test, boolean[] fractured, boolean reversed, boolean compressed,
                        int slices) {
        /** patient_overall: any vertebra fractured. */
        public boolean patientOverall() {
            for (boolean f : fractured) {
                if (f) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Writes the dataset under {@code root} (created if needed) and returns the studies' truth. */
    public static List<Study> write(Path root, Config config) throws IOException {
        Generator master = new Generator(config.seed());
        List<Study> studies = new ArrayList<>();
        List<String> boxes = new ArrayList<>();
        int total = config.trainStudies() + config.testStudies();
        for (int i = 0; i < total; i++) {
            // Each study gets its own streams, so its content does not depend on how much earlier ones drew.
            Generator labels = master.split();
            Generator phantom = master.split();
            Generator header = master.split();
            boolean test = i >= config.trainStudies();
            boolean[] fractured = config.prevalence().draw(labels);
            boolean reversed = labels.nextDouble() < config.reversedFraction();
            boolean compressed = labels.nextDouble() < config.compressedFraction();
            String uid = SyntheticStudyWriter.uid(header);
            CervicalPhantom.Volume ct = CervicalPhantom.generate(phantom, config.size(), fractured);
            Path dir = root.resolve(test ? "test_images" : "train_images").resolve(uid);
            SyntheticStudyWriter.writeSeries(dir, ct, uid, "SYN" + String.format(Locale.ROOT, "%05d", i), reversed,
                    compressed, header);
            if (!test) {
                Files.createDirectories(root.resolve("segmentations"));
                SyntheticStudyWriter.writeMask(root.resolve("segmentations").resolve(uid + ".nii"), ct, reversed);
                boxes.addAll(boundingBoxes(uid, ct, reversed));
            }
            studies.add(new Study(uid, test, fractured, reversed, compressed, ct.slices()));
            LOG.info("synthetic study {}/{} {} ({} slices{}{})", i + 1, total, uid, ct.slices(),
                    reversed ? ", reversed" : "", compressed ? ", JPEG lossless" : "");
        }
        writeCsvs(root, studies, boxes);
        return studies;
    }

    /** One box per slice that cuts a fracture cleft: the cleft's extent in that slice (RSNA: slice_number = n). */
    static List<String> boundingBoxes(String uid, CervicalPhantom.Volume ct, boolean reversed) {
        List<String> rows = new ArrayList<>();
        int plane = ct.rows() * ct.cols();
        for (int n = 1; n <= ct.slices(); n++) {
            int s = reversed ? n - 1 : ct.slices() - n;
            int minR = Integer.MAX_VALUE;
            int maxR = -1;
            int minC = Integer.MAX_VALUE;
            int maxC = -1;
            for (int i = 0; i < plane; i++) {
                if (ct.cleft()[s * plane + i]) {
                    int r = i / ct.cols();
                    int c = i % ct.cols();
                    minR = Math.min(minR, r);
                    maxR = Math.max(maxR, r);
                    minC = Math.min(minC, c);
                    maxC = Math.max(maxC, c);
                }
            }
            if (maxR >= 0) {
                rows.add(String.format(Locale.ROOT, "%s,%d.0,%d.0,%d.0,%d.0,%d", uid, minC, minR, maxC - minC + 1,
                        maxR - minR + 1, n));
            }
        }
        return rows;
    }

    private static void writeCsvs(Path root, List<Study> studies, List<String> boxes) throws IOException {
        StringBuilder train = new StringBuilder("StudyInstanceUID,patient_overall,C1,C2,C3,C4,C5,C6,C7\n");
        StringBuilder testLabels = new StringBuilder(train);
        StringBuilder test = new StringBuilder("row_id,StudyInstanceUID,prediction_type\n");
        StringBuilder sample = new StringBuilder("row_id,fractured\n");
        for (Study s : studies) {
            StringBuilder line = new StringBuilder(s.uid()).append(',').append(s.patientOverall() ? 1 : 0);
            for (boolean f : s.fractured()) {
                line.append(',').append(f ? 1 : 0);
            }
            (s.test() ? testLabels : train).append(line).append('\n');
            if (s.test()) {
                for (String type : PREDICTION_TYPES) {
                    String rowId = s.uid() + "_" + type;
                    test.append(rowId).append(',').append(s.uid()).append(',').append(type).append('\n');
                    sample.append(rowId).append(",0.5\n");
                }
            }
        }
        StringBuilder box = new StringBuilder("StudyInstanceUID,x,y,width,height,slice_number\n");
        boxes.forEach(b -> box.append(b).append('\n'));
        Files.writeString(root.resolve("train.csv"), train, StandardCharsets.US_ASCII);
        Files.writeString(root.resolve("test_labels.csv"), testLabels, StandardCharsets.US_ASCII);
        Files.writeString(root.resolve("test.csv"), test, StandardCharsets.US_ASCII);
        Files.writeString(root.resolve("sample_submission.csv"), sample, StandardCharsets.US_ASCII);
        Files.writeString(root.resolve("train_bounding_boxes.csv"), box, StandardCharsets.US_ASCII);
    }
}
