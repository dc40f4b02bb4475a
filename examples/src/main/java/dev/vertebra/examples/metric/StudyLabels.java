package dev.vertebra.examples.metric;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.SequencedMap;

/**
 * Study labels in train.csv's form: {@code StudyInstanceUID,patient_overall,C1,...,C7} with 0/1 values (columns
 * found by header name, any order). Arrays are C1..C7, patient_overall, as {@link CompetitionMetric#TARGETS}.
 *
 * <pre>{@code
 * SequencedMap<String, int[]> labels = StudyLabels.read(Path.of("train.csv"));
 * }</pre>
 */
public final class StudyLabels {
    private static final String HEADER = "StudyInstanceUID,patient_overall,C1,C2,C3,C4,C5,C6,C7";

    private StudyLabels() {
    }

    /** Reads a label file; duplicate studies, bad values and missing columns are errors naming the line. */
    public static SequencedMap<String, int[]> read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        String name = file.getFileName().toString();
        if (lines.isEmpty()) {
            throw new MetricException(name + " is empty");
        }
        List<String> header = List.of(lines.getFirst().strip().split(",", -1));
        int uidColumn = column(header, "StudyInstanceUID", name);
        int[] columns = new int[CompetitionMetric.TARGETS.size()];
        for (int t = 0; t < columns.length; t++) {
            columns[t] = column(header, CompetitionMetric.TARGETS.get(t), name);
        }
        SequencedMap<String, int[]> out = new LinkedHashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] fields = line.split(",", -1);
            String where = name + " line " + (i + 1);
            if (fields.length != header.size()) {
                throw new MetricException(where + ": " + fields.length + " fields, the header has " + header.size());
            }
            int[] labels = new int[columns.length];
            for (int t = 0; t < columns.length; t++) {
                labels[t] = switch (fields[columns[t]].strip()) {
                    case "0", "0.0" -> 0;
                    case "1", "1.0" -> 1;
                    default -> throw new MetricException(where + ": " + CompetitionMetric.TARGETS.get(t) + " is '"
                            + fields[columns[t]] + "', not 0 or 1");
                };
            }
            String uid = fields[uidColumn].strip();
            if (out.putIfAbsent(uid, labels) != null) {
                throw new MetricException(where + ": study " + uid + " appears twice");
            }
        }
        return out;
    }

    /** Writes labels in train.csv's form. */
    public static void write(Path file, SequencedMap<String, int[]> labels) throws IOException {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        labels.forEach((uid, y) -> {
            sb.append(uid).append(',').append(y[CompetitionMetric.OVERALL]);
            for (int t = 0; t < CompetitionMetric.OVERALL; t++) {
                sb.append(',').append(y[t]);
            }
            sb.append('\n');
        });
        Files.writeString(file, sb, StandardCharsets.US_ASCII);
    }

    private static int column(List<String> header, String name, String file) {
        int at = header.indexOf(name);
        if (at < 0) {
            throw new MetricException(String.format(Locale.ROOT, "%s: no column '%s' in the header %s", file, name,
                    header));
        }
        return at;
    }
}
