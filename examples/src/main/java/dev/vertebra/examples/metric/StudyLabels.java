package dev.vertebra.examples.metric;

import dev.vertebra.data.rsna.CsvException;
import dev.vertebra.data.rsna.RsnaCsv;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.SequencedMap;

/**
 * Study labels in train.csv's form: {@code StudyInstanceUID,patient_overall,C1,...,C7} with 0/1 values, read
 * through the data module's {@link RsnaCsv}. Arrays are C1..C7, patient_overall, as {@link CompetitionMetric#TARGETS}.
 *
 * <pre>{@code
 * SequencedMap<String, int[]> labels = StudyLabels.read(Path.of("train.csv"));
 * }</pre>
 */
public final class StudyLabels {
    private static final String HEADER = "StudyInstanceUID,patient_overall,C1,C2,C3,C4,C5,C6,C7";

    private StudyLabels() {
    }

    /**
     * Reads a label file through {@link RsnaCsv#readLabels}: a bad header, field count or value, a duplicate study
     * or a fractured vertebra without patient_overall is a {@link CsvException} naming the file and line.
     */
    public static SequencedMap<String, int[]> read(Path file) throws IOException {
        SequencedMap<String, int[]> out = new LinkedHashMap<>();
        for (RsnaCsv.Labels l : RsnaCsv.readLabels(file).values()) {
            int[] labels = new int[CompetitionMetric.TARGETS.size()];
            boolean[] vertebrae = l.vertebrae();
            for (int t = 0; t < CompetitionMetric.OVERALL; t++) {
                labels[t] = vertebrae[t] ? 1 : 0;
            }
            labels[CompetitionMetric.OVERALL] = l.patientOverall() ? 1 : 0;
            out.put(l.uid(), labels);
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
}
