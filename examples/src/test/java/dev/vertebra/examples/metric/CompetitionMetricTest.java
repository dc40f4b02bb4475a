package dev.vertebra.examples.metric;

import dev.vertebra.examples.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The metric against scikit-learn's log_loss and roc_auc_score (src/test/python/make_metric_golden.py). */
class CompetitionMetricTest {

    @TempDir
    Path tmp;

    static Path resource(String name) {
        try {
            return Path.of(CompetitionMetricTest.class.getResource("/metric/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static double expected(String name) throws IOException {
        return Files.readAllLines(resource("expected_scores.csv")).stream().skip(1)
                .filter(l -> l.startsWith(name + ",")).map(l -> Double.parseDouble(l.split(",")[1]))
                .findFirst().orElseThrow();
    }

    @ParameterizedTest
    @ValueSource(strings = {"uniform", "half", "prevalence", "informative", "edge"})
    void matchesSklearn(String name) throws IOException {
        double score = CompetitionMetric.score(StudyLabels.read(resource("solution.csv")),
                Submission.read(resource("submission_" + name + ".csv"))).score();
        assertEquals(expected(name), score, 1e-9);
    }

    @Test
    void scoreCommandPrintsTheScoreLast() throws IOException {
        StringWriter out = new StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(out, true));
        int exit = cmd.execute("score", "--solution", resource("solution.csv").toString(),
                "--submission", resource("submission_edge.csv").toString());
        assertEquals(0, exit, out.toString());
        List<String> lines = out.toString().lines().toList();
        assertEquals(expected("edge"), Double.parseDouble(lines.getLast()), 1e-9);
    }

    private String scoreError(List<String> rows) throws IOException {
        Path sub = tmp.resolve("sub.csv");
        List<String> lines = new ArrayList<>(List.of("row_id,fractured"));
        lines.addAll(rows);
        Files.write(sub, lines);
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setErr(new PrintWriter(err, true));
        cmd.setOut(new PrintWriter(new StringWriter(), true));
        int exit = cmd.execute("score", "--solution", resource("solution.csv").toString(), "--submission",
                sub.toString());
        assertEquals(2, exit);
        return err.toString();
    }

    private List<String> goodRows() throws IOException {
        return new ArrayList<>(Files.readAllLines(resource("submission_half.csv")).subList(1, 321));
    }

    @Test
    void badSubmissionsNameTheRow() throws IOException {
        List<String> missing = goodRows();
        missing.remove(9);
        assertTrue(scoreError(missing).contains("1.2.826.0.1.3680043.1001_C2 is missing"));

        List<String> duplicate = goodRows();
        duplicate.add(duplicate.get(3));
        assertTrue(scoreError(duplicate).contains("line 322: row 1.2.826.0.1.3680043.1000_C4 duplicates line 5"));

        List<String> unknown = goodRows();
        unknown.addAll(List.of("9.9_C1,0.5", "9.9_C2,0.5", "9.9_C3,0.5", "9.9_C4,0.5", "9.9_C5,0.5", "9.9_C6,0.5",
                "9.9_C7,0.5", "9.9_patient_overall,0.5"));
        assertTrue(scoreError(unknown).contains("unknown study, first 9.9"));

        List<String> lostStudy = goodRows().subList(8, 320);
        assertTrue(scoreError(lostStudy).contains("no rows for study 1.2.826.0.1.3680043.1000"));

        List<String> outside = goodRows();
        outside.set(0, "1.2.826.0.1.3680043.1000_C1,1.5");
        assertTrue(scoreError(outside).contains("line 2: fractured 1.5 of row 1.2.826.0.1.3680043.1000_C1"));

        List<String> nan = goodRows();
        nan.set(7, "1.2.826.0.1.3680043.1000_patient_overall,NaN");
        assertTrue(scoreError(nan).contains("line 9: fractured NaN"));

        List<String> badTarget = goodRows();
        badTarget.set(0, "1.2.826.0.1.3680043.1000_C8,0.5");
        assertTrue(scoreError(badTarget).contains("line 2: row id 1.2.826.0.1.3680043.1000_C8"));
    }

    @Test
    void aucMatchesSklearn() throws IOException {
        List<String> lines = Files.readAllLines(resource("auc_cases.csv"));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            int[] y = Arrays.stream(f[1].split(" ")).mapToInt(Integer::parseInt).toArray();
            double[] s = Arrays.stream(f[2].split(" ")).mapToDouble(Double::parseDouble).toArray();
            assertEquals(Double.parseDouble(f[3]), Roc.auc(y, s), 1e-12, "case " + f[0]);
        }
        assertTrue(Double.isNaN(Roc.auc(new int[] {1, 1}, new double[] {0.2, 0.3})));
    }

    @Test
    void weightsAndClipping() {
        assertEquals(14, CompetitionMetric.weight(CompetitionMetric.OVERALL, 1));
        assertEquals(1, CompetitionMetric.weight(0, 0));
        assertEquals(-Math.log(1e-15), CompetitionMetric.logLoss(1, 0.0), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> CompetitionMetric.studyLoss(new int[7], new double[8]));
    }
}
