package dev.vertebra.examples.metric;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * The RSNA 2022 Cervical Spine Fracture Detection metric. Each study has eight targets (C1..C7, patient_overall),
 * each scored by binary log loss of its probability clipped to [1e−15, 1 − 1e−15]. Weights: C1–C7 weigh 1 when
 * negative and 2 when positive; patient_overall 7 when negative and 14 when positive. A study's loss is
 * Σ w·l / Σ w over its eight rows; the score is the mean over studies. Everything is computed in double.
 *
 * <pre>{@code
 * double score = CompetitionMetric.score(StudyLabels.read(solution), Submission.read(submission)).score();
 * }</pre>
 */
public final class CompetitionMetric {
    /** Targets per study, in this order. */
    public static final List<String> TARGETS = List.of("C1", "C2", "C3", "C4", "C5", "C6", "C7", "patient_overall");
    /** Index of patient_overall in {@link #TARGETS}. */
    public static final int OVERALL = 7;
    /** Probabilities are clipped to [EPS, 1 − EPS]. */
    public static final double EPS = 1e-15;

    private CompetitionMetric() {
    }

    /** The score and each study's loss, in the solution's order. */
    public record Result(double score, SequencedMap<String, Double> studyLosses) {
    }

    /** Weight of target {@code t} (index into {@link #TARGETS}) with label {@code y}. */
    public static double weight(int t, int y) {
        double base = t == OVERALL ? 7 : 1;
        return y == 1 ? 2 * base : base;
    }

    /** Binary log loss of one probability, clipped. */
    public static double logLoss(int y, double p) {
        double q = Math.clamp(p, EPS, 1 - EPS);
        return y == 1 ? -Math.log(q) : -Math.log1p(-q);
    }

    /** The weighted loss of one study: labels and probabilities are C1..C7, patient_overall. */
    public static double studyLoss(int[] labels, double[] probabilities) {
        if (labels.length != TARGETS.size() || probabilities.length != TARGETS.size()) {
            throw new IllegalArgumentException("a study has " + TARGETS.size() + " targets, got "
                    + labels.length + " labels and " + probabilities.length + " probabilities");
        }
        double sum = 0;
        double weights = 0;
        for (int t = 0; t < labels.length; t++) {
            double w = weight(t, labels[t]);
            sum += w * logLoss(labels[t], probabilities[t]);
            weights += w;
        }
        return sum / weights;
    }

    /**
     * Scores predictions against labels. Every solution study must be predicted and nothing else.
     *
     * @param labels      study → 8 labels (0/1)
     * @param predictions study → 8 probabilities in [0, 1]
     * @throws MetricException naming the first missing or unknown study
     */
    public static Result score(SequencedMap<String, int[]> labels, Map<String, double[]> predictions) {
        if (labels.isEmpty()) {
            throw new MetricException("the solution has no studies");
        }
        List<String> unknown = new ArrayList<>();
        for (String uid : predictions.keySet()) {
            if (!labels.containsKey(uid)) {
                unknown.add(uid);
            }
        }
        if (!unknown.isEmpty()) {
            throw new MetricException("the submission predicts " + unknown.size() + " unknown stud"
                    + (unknown.size() == 1 ? "y" : "ies") + ", first " + unknown.getFirst());
        }
        SequencedMap<String, Double> losses = new java.util.LinkedHashMap<>();
        double total = 0;
        for (var entry : labels.entrySet()) {
            double[] p = predictions.get(entry.getKey());
            if (p == null) {
                throw new MetricException("the submission has no rows for study " + entry.getKey());
            }
            double loss = studyLoss(entry.getValue(), p);
            losses.put(entry.getKey(), loss);
            total += loss;
        }
        return new Result(total / labels.size(), losses);
    }
}
