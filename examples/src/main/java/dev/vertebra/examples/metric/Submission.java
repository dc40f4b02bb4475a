package dev.vertebra.examples.metric;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * The Kaggle submission: {@code row_id,fractured}, one row per study and target, row ids
 * {@code <StudyInstanceUID>_C1} … {@code _C7} and {@code <StudyInstanceUID>_patient_overall}.
 *
 * <pre>{@code
 * Submission.write(Path.of("submission.csv"), predictions);           // study → 8 probabilities
 * Map<String, double[]> back = Submission.read(Path.of("submission.csv"));
 * }</pre>
 */
public final class Submission {

    private Submission() {
    }

    /**
     * Reads a submission into study → probabilities (C1..C7, patient_overall). Errors name the line: malformed
     * rows, unknown targets, values that are not numbers in [0, 1] (NaN included), duplicate rows, and studies
     * with some of their eight rows missing.
     */
    public static SequencedMap<String, double[]> read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        String name = file.getFileName().toString();
        if (lines.isEmpty() || !lines.getFirst().strip().equals("row_id,fractured")) {
            throw new MetricException(name + ": the header must be 'row_id,fractured'");
        }
        SequencedMap<String, double[]> out = new LinkedHashMap<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = name + " line " + (i + 1);
            String[] fields = line.split(",", -1);
            if (fields.length != 2) {
                throw new MetricException(where + ": expected row_id,fractured, got '" + line + "'");
            }
            String rowId = fields[0].strip();
            Integer earlier = seen.putIfAbsent(rowId, i + 1);
            if (earlier != null) {
                throw new MetricException(where + ": row " + rowId + " duplicates line " + earlier);
            }
            int cut = rowId.lastIndexOf('_');
            if (rowId.endsWith("_patient_overall")) {
                cut = rowId.length() - "_patient_overall".length();
            }
            int target = cut < 0 ? -1 : CompetitionMetric.TARGETS.indexOf(rowId.substring(cut + 1));
            if (target < 0 || cut == 0) {
                throw new MetricException(where + ": row id " + rowId + " is not <StudyInstanceUID>_C1..C7 or "
                        + "_patient_overall");
            }
            double p;
            try {
                p = Double.parseDouble(fields[1].strip());
            } catch (NumberFormatException e) {
                throw new MetricException(where + ": fractured '" + fields[1] + "' of row " + rowId
                        + " is not a number");
            }
            if (!(p >= 0 && p <= 1)) {
                throw new MetricException(where + ": fractured " + fields[1].strip() + " of row " + rowId
                        + " is not a probability in [0, 1]");
            }
            double[] probabilities = out.computeIfAbsent(rowId.substring(0, cut), _ -> {
                double[] fresh = new double[CompetitionMetric.TARGETS.size()];
                java.util.Arrays.fill(fresh, Double.NaN);
                return fresh;
            });
            probabilities[target] = p;
        }
        out.forEach((uid, p) -> {
            for (int t = 0; t < p.length; t++) {
                if (Double.isNaN(p[t])) {
                    throw new MetricException(name + ": row " + uid + "_" + CompetitionMetric.TARGETS.get(t)
                            + " is missing");
                }
            }
        });
        return out;
    }

    /** Writes study → probabilities (C1..C7, patient_overall) as a submission, 8 rows per study. */
    public static void write(Path file, SequencedMap<String, double[]> predictions) throws IOException {
        StringBuilder sb = new StringBuilder("row_id,fractured\n");
        predictions.forEach((uid, p) -> {
            for (int t = 0; t < CompetitionMetric.TARGETS.size(); t++) {
                sb.append(uid).append('_').append(CompetitionMetric.TARGETS.get(t)).append(',')
                        .append(p[t]).append('\n');
            }
        });
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, sb, StandardCharsets.US_ASCII);
    }
}
