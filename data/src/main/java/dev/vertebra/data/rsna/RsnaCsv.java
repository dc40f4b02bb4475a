package dev.vertebra.data.rsna;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Readers for the competition's CSV files. Each checks the header, the number of fields and every value, and
 * throws {@link CsvException} naming the file and line of the first problem.
 *
 * <pre>{@code
 * Map<String, RsnaCsv.Labels> labels = RsnaCsv.readLabels(root.resolve("train.csv"));
 * List<RsnaCsv.Box> boxes = RsnaCsv.readBoxes(root.resolve("train_bounding_boxes.csv"));
 * }</pre>
 */
public final class RsnaCsv {
    static final List<String> LABEL_HEADER = List.of("StudyInstanceUID", "patient_overall", "C1", "C2", "C3", "C4",
            "C5", "C6", "C7");
    static final List<String> BOX_HEADER = List.of("StudyInstanceUID", "x", "y", "width", "height", "slice_number");
    static final List<String> TEST_HEADER = List.of("row_id", "StudyInstanceUID", "prediction_type");
    static final List<String> SUBMISSION_HEADER = List.of("row_id", "fractured");

    private RsnaCsv() {
    }

    /** One row of train.csv: fracture flags of C1..C7 and the patient. */
    public record Labels(String uid, boolean patientOverall, boolean[] vertebrae) {
        public Labels {
            vertebrae = vertebrae.clone();
        }

        @Override
        public boolean[] vertebrae() {
            return vertebrae.clone();
        }
    }

    /** One row of train_bounding_boxes.csv: a fracture box on one slice (slice_number = InstanceNumber). */
    public record Box(String uid, double x, double y, double width, double height, int sliceNumber) {
    }

    /** One row of test.csv. */
    public record TestRow(String rowId, String uid, String predictionType) {
    }

    /** train.csv (or test_labels.csv), in file order, keyed by study; duplicates are errors. */
    public static Map<String, Labels> readLabels(Path file) throws IOException {
        Map<String, Labels> out = new LinkedHashMap<>();
        for (Row row : rows(file, LABEL_HEADER)) {
            boolean[] flags = new boolean[8];
            for (int i = 0; i < 8; i++) {
                flags[i] = row.flag(i + 1);
            }
            boolean any = false;
            boolean[] vertebrae = new boolean[7];
            for (int v = 0; v < 7; v++) {
                vertebrae[v] = flags[v + 1];
                any |= vertebrae[v];
            }
            if (any && !flags[0]) {
                throw row.error("a vertebra is fractured but patient_overall is 0");
            }
            if (out.put(row.text(0), new Labels(row.text(0), flags[0], vertebrae)) != null) {
                throw row.error("study " + row.text(0) + " is listed twice");
            }
        }
        return out;
    }

    /** train_bounding_boxes.csv. */
    public static List<Box> readBoxes(Path file) throws IOException {
        List<Box> out = new ArrayList<>();
        for (Row row : rows(file, BOX_HEADER)) {
            double w = row.number(3);
            double h = row.number(4);
            if (w < 0 || h < 0) {
                throw row.error("negative box size " + w + "x" + h);
            }
            out.add(new Box(row.text(0), row.number(1), row.number(2), w, h, row.integer(5)));
        }
        return out;
    }

    /** test.csv. */
    public static List<TestRow> readTest(Path file) throws IOException {
        List<TestRow> out = new ArrayList<>();
        for (Row row : rows(file, TEST_HEADER)) {
            String type = row.text(2);
            if (!type.equals("patient_overall") && !type.matches("C[1-7]")) {
                throw row.error("prediction_type " + type + " is not C1..C7 or patient_overall");
            }
            out.add(new TestRow(row.text(0), row.text(1), type));
        }
        return out;
    }

    /** sample_submission.csv (or a submission): row_id → probability. */
    public static Map<String, Double> readSubmission(Path file) throws IOException {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Row row : rows(file, SUBMISSION_HEADER)) {
            double p = row.number(1);
            if (!(p >= 0 && p <= 1)) {
                throw row.error("fractured " + p + " is not a probability");
            }
            if (out.put(row.text(0), p) != null) {
                throw row.error("row_id " + row.text(0) + " is listed twice");
            }
        }
        return out;
    }

    record Row(String file, int line, String[] fields) {
        String text(int i) throws CsvException {
            if (fields[i].isEmpty()) {
                throw error("field " + (i + 1) + " is empty");
            }
            return fields[i];
        }

        boolean flag(int i) throws CsvException {
            return switch (fields[i]) {
                case "0" -> false;
                case "1" -> true;
                default -> throw error("field " + (i + 1) + " is '" + fields[i] + "', not 0 or 1");
            };
        }

        double number(int i) throws CsvException {
            try {
                double v = Double.parseDouble(fields[i]);
                if (Double.isFinite(v)) {
                    return v;
                }
            } catch (NumberFormatException ignored) {
                // reported below with the file and line
            }
            throw error("field " + (i + 1) + " is '" + fields[i] + "', not a number");
        }

        int integer(int i) throws CsvException {
            try {
                return Integer.parseInt(fields[i]);
            } catch (NumberFormatException e) {
                throw error("field " + (i + 1) + " is '" + fields[i] + "', not an integer");
            }
        }

        CsvException error(String message) {
            return new CsvException(file, line, message);
        }
    }

    /** The data rows after checking the header; blank lines at the end are allowed. */
    static List<Row> rows(Path file, List<String> header) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new CsvException(file.toString(), 0, "file not found");
        }
        String name = file.toString();
        if (lines.isEmpty()) {
            throw new CsvException(name, 1, "empty file, expected header " + String.join(",", header));
        }
        List<String> found = List.of(lines.getFirst().strip().replace("\uFEFF", "").split(",", -1));
        if (!found.equals(header)) {
            throw new CsvException(name, 1, "header " + found + " is not " + header);
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] fields = line.split(",", -1);
            if (fields.length != header.size()) {
                throw new CsvException(name, i + 1, fields.length + " fields, expected " + header.size());
            }
            rows.add(new Row(name, i + 1, fields));
        }
        return rows;
    }
}
