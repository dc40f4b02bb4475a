package dev.vertebra.examples.metric;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Receiver operating characteristic of scores against 0/1 labels: the curve (one point per distinct score
 * threshold, ties taken together) and its area by the trapezoidal rule — what scikit-learn's
 * {@code roc_curve}/{@code roc_auc_score} compute.
 *
 * <pre>{@code
 * double auc = Roc.auc(labels, scores);   // NaN when only one class is present
 * }</pre>
 */
public final class Roc {

    private Roc() {
    }

    /** A curve: false- and true-positive rates, from (0, 0) to (1, 1). */
    public record Curve(double[] fpr, double[] tpr) {
    }

    /** The ROC curve; NaN rates when a class is absent. */
    public static Curve curve(int[] labels, double[] scores) {
        if (labels.length != scores.length) {
            throw new IllegalArgumentException(labels.length + " labels for " + scores.length + " scores");
        }
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> scores[i]).reversed());
        long positives = Arrays.stream(labels).filter(y -> y == 1).count();
        long negatives = labels.length - positives;
        List<double[]> points = new ArrayList<>();
        points.add(new double[] {0, 0});
        long tp = 0;
        long fp = 0;
        for (int k = 0; k < order.length; k++) {
            int i = order[k];
            if (labels[i] == 1) {
                tp++;
            } else {
                fp++;
            }
            if (k == order.length - 1 || scores[order[k + 1]] != scores[i]) {
                points.add(new double[] {(double) fp / negatives, (double) tp / positives});
            }
        }
        double[] fpr = new double[points.size()];
        double[] tpr = new double[points.size()];
        for (int k = 0; k < fpr.length; k++) {
            fpr[k] = points.get(k)[0];
            tpr[k] = points.get(k)[1];
        }
        return new Curve(fpr, tpr);
    }

    /** Area under the ROC curve; NaN when all labels are equal. */
    public static double auc(int[] labels, double[] scores) {
        Curve c = curve(labels, scores);
        if (Double.isNaN(c.fpr()[c.fpr().length - 1]) || Double.isNaN(c.tpr()[c.tpr().length - 1])) {
            return Double.NaN;
        }
        double area = 0;
        for (int k = 1; k < c.fpr().length; k++) {
            area += (c.fpr()[k] - c.fpr()[k - 1]) * (c.tpr()[k] + c.tpr()[k - 1]) / 2;
        }
        return area;
    }
}
