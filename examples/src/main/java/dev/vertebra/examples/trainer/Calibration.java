package dev.vertebra.examples.trainer;

import dev.vertebra.examples.metric.CompetitionMetric;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SequencedMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Platt scaling of the pooled study probabilities: {@code p' = σ(scale · logit(p) + bias)} for C1..C7 (one map for
 * all seven), then patient_overall = 1 − Π(1 − p'). Why it is needed: the slice classifier is trained on draws
 * that over-represent fracture slices, and pooling the top slices of a vertebra picks the largest of many noisy
 * scores, so the raw pooled numbers rank studies usefully but are far too confident for a log loss. The trainer
 * fits the map on the validation studies after each epoch (by the competition metric itself) and stores it in the
 * checkpoint; {@code scale = 0} degenerates to a constant, so a fitted map is never worse on the fitting studies
 * than the best single constant.
 *
 * @param scale multiplies the pooled logit (≥ 0)
 * @param bias  added to it
 */
public record Calibration(double scale, double bias) {
    /** Leaves the pooled probabilities as they are. */
    public static final Calibration IDENTITY = new Calibration(1, 0);
    /** Pooled probabilities are clamped to [CLAMP, 1 − CLAMP] before the logit. */
    private static final double CLAMP = 1e-6;
    private static final double MAX_SCALE = 3;
    private static final double MIN_BIAS = -8;
    private static final double MAX_BIAS = 4;

    public Calibration {
        if (!(scale >= 0 && Double.isFinite(scale)) || !Double.isFinite(bias)) {
            throw new IllegalArgumentException("bad calibration: scale " + scale + ", bias " + bias);
        }
    }

    /** C1..C7 calibrated and patient_overall recomputed from them, from pooled C1..C7 (index 7 is ignored). */
    public double[] apply(double[] pooled) {
        double[] p = new double[8];
        for (int k = 0; k < 7; k++) {
            double q = Math.clamp(pooled[k], CLAMP, 1 - CLAMP);
            p[k] = 1 / (1 + Math.exp(-(scale * Math.log(q / (1 - q)) + bias)));
        }
        p[7] = Pooling.overall(p);
        return p;
    }

    /**
     * The map that minimises the competition loss of {@code pooled} (study → pooled C1..C7) against {@code labels}:
     * a grid over scale ∈ [0, 3] and bias ∈ [−8, 4], then a finer grid around the best point.
     */
    public static Calibration fit(SequencedMap<String, int[]> labels, Map<String, double[]> pooled) {
        Calibration best = IDENTITY;
        double bestLoss = loss(best, labels, pooled);
        double scaleStep = 0.1;
        double biasStep = 0.25;
        double scaleLo = 0;
        double scaleHi = MAX_SCALE;
        double biasLo = MIN_BIAS;
        double biasHi = MAX_BIAS;
        for (int round = 0; round < 2; round++) {
            for (double a = scaleLo; a <= scaleHi + 1e-9; a += scaleStep) {
                for (double b = biasLo; b <= biasHi + 1e-9; b += biasStep) {
                    Calibration c = new Calibration(a, b);
                    double l = loss(c, labels, pooled);
                    if (l < bestLoss) {
                        bestLoss = l;
                        best = c;
                    }
                }
            }
            scaleLo = Math.max(0, best.scale - scaleStep);
            scaleHi = Math.min(MAX_SCALE, best.scale + scaleStep);
            biasLo = Math.max(MIN_BIAS, best.bias - biasStep);
            biasHi = Math.min(MAX_BIAS, best.bias + biasStep);
            scaleStep /= 10;
            biasStep /= 10;
        }
        return best;
    }

    /** The competition loss of the calibrated predictions. */
    static double loss(Calibration c, SequencedMap<String, int[]> labels, Map<String, double[]> pooled) {
        Map<String, double[]> p = new LinkedHashMap<>();
        pooled.forEach((uid, q) -> p.put(uid, c.apply(q)));
        return CompetitionMetric.score(labels, p).score();
    }

    /** The two fields as JSON members (no braces), for the checkpoint's metadata. */
    String jsonMembers() {
        return String.format(Locale.ROOT, "\"calibrationScale\": %s, \"calibrationBias\": %s", scale, bias);
    }

    /** The calibration in a checkpoint's JSON; {@link #IDENTITY} when it has none (an older checkpoint). */
    static Calibration fromJson(String json) {
        Matcher a = Pattern.compile("\"calibrationScale\"\\s*:\\s*([^,}\\s]+)").matcher(json);
        Matcher b = Pattern.compile("\"calibrationBias\"\\s*:\\s*([^,}\\s]+)").matcher(json);
        if (!a.find() || !b.find()) {
            return IDENTITY;
        }
        return new Calibration(Double.parseDouble(a.group(1)), Double.parseDouble(b.group(1)));
    }
}
