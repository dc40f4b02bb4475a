package dev.vertebra.data.rsna;

import dev.vertebra.data.nifti.Nifti;
import dev.vertebra.data.volume.CtVolume;
import dev.vertebra.data.volume.MaskMapper;
import dev.vertebra.data.volume.SeriesReader;
import dev.vertebra.data.volume.VolumeException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A dataset in the RSNA 2022 layout (the competition's files, or {@code vertebra synth}'s): its studies with
 * labels, segmentations and fracture boxes, and loading a study as a volume with per-slice targets.
 *
 * <pre>{@code
 * RsnaDataset train = RsnaDataset.openTrain(Path.of("rsna"));
 * for (RsnaDataset.Study study : train.studies()) {
 *     PreparedStudy p = train.load(study);          // HU volume + which vertebrae each slice shows
 * }
 * }</pre>
 */
public final class RsnaDataset {
    /** Studies of the competition's training set known to be broken, left out by default. */
    public static final Set<String> KNOWN_BAD = Set.of("1.2.826.0.1.3680043.20574", "1.2.826.0.1.3680043.29952");

    private final Path root;
    private final List<Study> studies;

    /**
     * One study.
     *
     * @param uid          StudyInstanceUID
     * @param images       folder of its DICOM files
     * @param segmentation its NIfTI mask, when there is one
     * @param labels       its fracture labels (empty for test studies without labels)
     * @param boxes        fracture boxes (slice_number = InstanceNumber)
     */
    public record Study(String uid, Path images, Optional<Path> segmentation, Optional<RsnaCsv.Labels> labels,
                        List<RsnaCsv.Box> boxes) {
        public Study {
            boxes = List.copyOf(boxes);
        }
    }

    private RsnaDataset(Path root, List<Study> studies) {
        this.root = root;
        this.studies = List.copyOf(studies);
    }

    /** The training split (train.csv, train_images, segmentations, train_bounding_boxes.csv), known-bad dropped. */
    public static RsnaDataset openTrain(Path root) throws IOException {
        return openTrain(root, KNOWN_BAD);
    }

    /** The training split without the studies in {@code drop}. */
    public static RsnaDataset openTrain(Path root, Set<String> drop) throws IOException {
        Map<String, RsnaCsv.Labels> labels = RsnaCsv.readLabels(root.resolve("train.csv"));
        Path boxFile = root.resolve("train_bounding_boxes.csv");
        List<RsnaCsv.Box> boxes = Files.exists(boxFile) ? RsnaCsv.readBoxes(boxFile) : List.of();
        List<Study> studies = new ArrayList<>();
        for (RsnaCsv.Labels l : labels.values()) {
            if (drop.contains(l.uid())) {
                continue;
            }
            studies.add(study(root, "train_images", l.uid(), Optional.of(l),
                    boxes.stream().filter(b -> b.uid().equals(l.uid())).toList()));
        }
        return new RsnaDataset(root, studies);
    }

    /** The test split: the studies test.csv names, with labels from test_labels.csv when it exists. */
    public static RsnaDataset openTest(Path root) throws IOException {
        Set<String> uids = new LinkedHashSet<>();
        for (RsnaCsv.TestRow row : RsnaCsv.readTest(root.resolve("test.csv"))) {
            uids.add(row.uid());
        }
        Path labelFile = root.resolve("test_labels.csv");
        Map<String, RsnaCsv.Labels> labels = Files.exists(labelFile) ? RsnaCsv.readLabels(labelFile) : Map.of();
        List<Study> studies = new ArrayList<>();
        for (String uid : uids) {
            studies.add(study(root, "test_images", uid, Optional.ofNullable(labels.get(uid)), List.of()));
        }
        return new RsnaDataset(root, studies);
    }

    private static Study study(Path root, String split, String uid, Optional<RsnaCsv.Labels> labels,
                               List<RsnaCsv.Box> boxes) throws VolumeException {
        Path images = root.resolve(split).resolve(uid);
        if (!Files.isDirectory(images)) {
            throw new VolumeException(images.toString(), "study " + uid + " has no image folder");
        }
        Path seg = root.resolve("segmentations").resolve(uid + ".nii");
        Path segGz = root.resolve("segmentations").resolve(uid + ".nii.gz");
        Optional<Path> mask = Files.exists(seg) ? Optional.of(seg) : Files.exists(segGz) ? Optional.of(segGz)
                : Optional.empty();
        return new Study(uid, images, mask, labels, boxes);
    }

    /** The dataset's folder. */
    public Path root() {
        return root;
    }

    /** The studies, in file order. */
    public List<Study> studies() {
        return studies;
    }

    /** Reads a study's series, maps its mask (if any) and boxes onto the slices; one voxel shows a vertebra. */
    public static PreparedStudy load(Study study) throws IOException {
        return load(study, 1);
    }

    /**
     * As {@link #load(Study)}, but a slice shows a vertebra only where at least {@code minVoxels} of its voxels
     * carry the vertebra's label.
     */
    public static PreparedStudy load(Study study, int minVoxels) throws IOException {
        if (minVoxels < 1) {
            throw new IllegalArgumentException("minVoxels " + minVoxels + " < 1");
        }
        CtVolume ct = SeriesReader.read(study.images());
        byte[] mask = study.segmentation().isPresent()
                ? MaskMapper.toVolume(Nifti.read(study.segmentation().get()), ct) : null;
        return PreparedStudy.of(study, ct, mask, minVoxels);
    }
}
