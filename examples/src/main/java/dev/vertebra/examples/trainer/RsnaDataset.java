package dev.vertebra.examples.trainer;

import dev.vertebra.examples.metric.StudyLabels;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The RSNA 2022 layout as the trainer reads it: train.csv (labels), train_images/, segmentations/ (optional, per
 * study), train_bounding_boxes.csv (optional), test.csv and test_images/.
 */
public final class RsnaDataset {

    private RsnaDataset() {
    }

    /** Training studies: those of train.csv with a folder under train_images, in train.csv's order. */
    public static List<StudySlices> loadTrain(Path root, int size, double pixelMm, int threads) throws IOException {
        SequencedMap<String, int[]> labels = StudyLabels.read(root.resolve("train.csv"));
        Map<String, Set<Integer>> boxes = boxes(root.resolve("train_bounding_boxes.csv"));
        List<String> uids = labels.keySet().stream()
                .filter(uid -> Files.isDirectory(root.resolve("train_images").resolve(uid))).toList();
        if (uids.isEmpty()) {
            throw new IOException("no study of " + root.resolve("train.csv") + " has a folder under train_images");
        }
        return loadAll(uids, uid -> StudyLoader.load(root.resolve("train_images").resolve(uid),
                root.resolve("segmentations").resolve(uid + ".nii"), boxes.get(uid), labels.get(uid), size, pixelMm),
                threads);
    }

    /** Test studies listed in test.csv, in its order, unlabelled. */
    public static List<StudySlices> loadTest(Path root, int size, double pixelMm, int threads) throws IOException {
        List<String> lines = Files.readAllLines(root.resolve("test.csv"), StandardCharsets.UTF_8);
        int column = List.of(lines.getFirst().strip().split(",")).indexOf("StudyInstanceUID");
        if (column < 0) {
            throw new IOException(root.resolve("test.csv") + " has no StudyInstanceUID column");
        }
        Set<String> uids = new LinkedHashSet<>();
        for (String line : lines.subList(1, lines.size())) {
            if (!line.isBlank()) {
                uids.add(line.split(",")[column].strip());
            }
        }
        return loadAll(List.copyOf(uids), uid -> StudyLoader.load(root.resolve("test_images").resolve(uid), null, null,
                null, size, pixelMm), threads);
    }

    interface Load {
        StudySlices load(String uid) throws IOException;
    }

    private static List<StudySlices> loadAll(List<String> uids, Load load, int threads) throws IOException {
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads))) {
            List<Future<StudySlices>> futures = new ArrayList<>();
            for (String uid : uids) {
                futures.add(pool.submit(() -> load.load(uid)));
            }
            List<StudySlices> out = new ArrayList<>();
            for (int i = 0; i < futures.size(); i++) {
                try {
                    out.add(futures.get(i).get());
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw new IOException("study " + uids.get(i) + ": " + io.getMessage(), io);
                    }
                    throw new IllegalStateException("study " + uids.get(i) + ": " + e.getCause(), e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while loading studies", e);
                }
            }
            return out;
        }
    }

    /** train_bounding_boxes.csv as study → slice numbers holding a box; empty when the file is absent. */
    static Map<String, Set<Integer>> boxes(Path file) throws IOException {
        Map<String, Set<Integer>> out = new HashMap<>();
        if (!Files.exists(file)) {
            return out;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String> header = List.of(lines.getFirst().strip().split(","));
        int uid = header.indexOf("StudyInstanceUID");
        int slice = header.indexOf("slice_number");
        if (uid < 0 || slice < 0) {
            throw new IOException(file + ": need StudyInstanceUID and slice_number columns");
        }
        try {
            lines.subList(1, lines.size()).stream().filter(l -> !l.isBlank()).forEach(l -> {
                String[] f = l.split(",");
                out.computeIfAbsent(f[uid].strip(), _ -> new HashSet<>())
                        .add((int) Double.parseDouble(f[slice].strip()));
            });
        } catch (NumberFormatException e) {
            throw new UncheckedIOException(new IOException(file + ": bad slice_number: " + e.getMessage()));
        }
        return out;
    }
}
