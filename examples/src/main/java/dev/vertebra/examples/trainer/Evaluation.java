package dev.vertebra.examples.trainer;

import dev.vertebra.examples.metric.CompetitionMetric;
import dev.vertebra.examples.metric.Roc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Scores study predictions: the competition loss, and per target the (unweighted) mean binary log loss and the
 * ROC AUC; writes them as metrics.json and the ROC curves as roc.png.
 *
 * @param competitionLoss the competition metric
 * @param logLoss         per target, mean binary log loss over studies
 * @param auc             per target, NaN when one class is absent
 * @param curves          per target
 * @param studies         studies scored
 */
public record Evaluation(double competitionLoss, SequencedMap<String, Double> logLoss,
                         SequencedMap<String, Double> auc, Map<String, Roc.Curve> curves, int studies) {

    /** Evaluates predictions (study → C1..C7, patient_overall) against labels. */
    public static Evaluation of(SequencedMap<String, int[]> labels, Map<String, double[]> predictions) {
        double loss = CompetitionMetric.score(labels, predictions).score();
        SequencedMap<String, Double> logLoss = new LinkedHashMap<>();
        SequencedMap<String, Double> auc = new LinkedHashMap<>();
        Map<String, Roc.Curve> curves = new LinkedHashMap<>();
        for (int t = 0; t < CompetitionMetric.TARGETS.size(); t++) {
            int[] y = new int[labels.size()];
            double[] p = new double[labels.size()];
            double sum = 0;
            int i = 0;
            for (var e : labels.entrySet()) {
                y[i] = e.getValue()[t];
                p[i] = predictions.get(e.getKey())[t];
                sum += CompetitionMetric.logLoss(y[i], p[i]);
                i++;
            }
            String name = CompetitionMetric.TARGETS.get(t);
            logLoss.put(name, sum / labels.size());
            auc.put(name, Roc.auc(y, p));
            curves.put(name, Roc.curve(y, p));
        }
        return new Evaluation(loss, logLoss, auc, curves, labels.size());
    }

    /** metrics.json. */
    public void writeJson(Path file) throws IOException {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"studies\": ").append(studies).append(",\n");
        sb.append("  \"competition_loss\": ").append(json(competitionLoss)).append(",\n");
        sb.append("  \"per_target\": {\n");
        int i = 0;
        for (String t : logLoss.keySet()) {
            sb.append(String.format(Locale.ROOT, "    \"%s\": {\"log_loss\": %s, \"auc\": %s}%s%n", t,
                    json(logLoss.get(t)), json(auc.get(t)), ++i < logLoss.size() ? "," : ""));
        }
        sb.append("  }\n}\n");
        Files.writeString(file, sb);
    }

    /** roc.png. */
    public void writeRoc(Path png) throws IOException {
        Plots.roc(curves, auc, png);
    }

    private static String json(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }
}
