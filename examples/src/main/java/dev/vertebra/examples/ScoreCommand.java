package dev.vertebra.examples;

import dev.vertebra.data.rsna.CsvException;
import dev.vertebra.examples.metric.CompetitionMetric;
import dev.vertebra.examples.metric.MetricException;
import dev.vertebra.examples.metric.StudyLabels;
import dev.vertebra.examples.metric.Submission;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code vertebra score --solution S.csv --submission P.csv}: the competition loss of a submission. The last line
 * printed is the score alone, in full double precision.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Score a submission with the RSNA 2022 cervical-spine metric (weighted log loss).",
                "The last line printed is the score in full double precision."})
final class ScoreCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--solution", required = true, paramLabel = "CSV",
            description = "labels in train.csv form: StudyInstanceUID,patient_overall,C1..C7")
    private Path solution;

    @Option(names = "--submission", required = true, paramLabel = "CSV", description = "row_id,fractured")
    private Path submission;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try {
            CompetitionMetric.Result result = CompetitionMetric.score(StudyLabels.read(solution),
                    Submission.read(submission));
            out.printf("studies: %d%n", result.studyLosses().size());
            out.println(Double.toString(result.score()));
            out.flush();
            return 0;
        } catch (MetricException | CsvException e) {
            spec.commandLine().getErr().println("vertebra score: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return 2;
        }
    }
}
