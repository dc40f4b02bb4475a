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
 * all seven), then patient_overall = {@code σ(overallScale · logit(1 − Π(1 − p')) + overallBias)}. Why it is
 * needed: the slice classifier is trained on draws that over-represent fracture slices, and pooling the top slices
 * of a vertebra picks the largest of many noisy scores, so the raw pooled numbers rank studies usefully but are far
 * too confident for a log loss. The trainer fits the map on the validation studies after each epoch (by the
 * competition metric itself) and stores it in the checkpoint; {@code scale = 0} degenerates to a constant, so a
 * fitted map is never worse on the fitting studies than the best single constant within the same floors (below).
 * patient_overall gets a map of its own because 1 − Π(1 − p') compounds whatever error the seven maps leave. The
 * competition loss splits into a C1..C7 part and a patient_overall part (each study's weight sum depends on its
 * labels only), so the two maps are fitted one after the other, exactly.
 *
 * <p>The map's outputs stay within [floor, 1 − floor], where a map fitted on n validation studies gets a floor of
 * 1/(n + 2) for patient_overall and 1/(7n + 2) for C1..C7 (one row per study and vertebra). That is Laplace's rule
 * of succession: a map that saw every one of n cases go one way still cannot claim the next goes that way with more
 * than (n + 1)/(n + 2). Without it, an epoch that happens to separate the few validation studies perfectly drives
 * patient_overall's scale to its bound, and each test study it then gets wrong is charged as if the map were
 * certain: in 16 demo runs, two such studies made up half of the worst runs' test loss.
 *
 * @param scale        multiplies the pooled logit of C1..C7 (≥ 0)
 * @param bias         added to it
 * @param overallScale multiplies the logit of 1 − Π(1 − p') (≥ 0)
 * @param overallBias  added to it
 * @param floor        C1..C7 probabilities stay within [floor, 1 − floor] (in [{@link #CLAMP}, 0.5))
 * @param overallFloor patient_overall's stays within [overallFloor, 1 − overallFloor] (likewise)
 */
public record Calibration(double scale, double bias, double overallScale, double overallBias, double floor,
                          double overallFloor) {
    /** Pooled probabilities are clamped to [CLAMP, 1 − CLAMP] before the logit; the least floor. */
    static final double CLAMP = 1e-6;
    /** Leaves the pooled probabilities as they are. */
    public static final Calibration IDENTITY = new Calibration(1, 0, 1, 0);
    private static final double MAX_SCALE = 3;
    private static final double MIN_BIAS = -8;
    private static final double MAX_BIAS = 4;

    public Calibration {
        if (!(scale >= 0 && Double.isFinite(scale)) || !Double.isFinite(bias)
                || !(overallScale >= 0 && Double.isFinite(overallScale)) || !Double.isFinite(overallBias)
                || !(floor >= CLAMP && floor < 0.5) || !(overallFloor >= CLAMP && overallFloor < 0.5)) {
            throw new IllegalArgumentException("bad calibration: " + scale + ", " + bias + ", " + overallScale + ", "
                    + overallBias + ", floors " + floor + ", " + overallFloor);
        }
    }

    /** The map with the least floors (outputs within [{@link #CLAMP}, 1 − {@link #CLAMP}]). */
    public Calibration(double scale, double bias, double overallScale, double overallBias) {
        this(scale, bias, overallScale, overallBias, CLAMP, CLAMP);
    }

    /** The same map for C1..C7 with patient_overall left as 1 − Π(1 − p'). */
    public Calibration(double scale, double bias) {
        this(scale, bias, 1, 0);
    }

    /** C1..C7 calibrated and patient_overall recomputed from them, from pooled C1..C7 (index 7 is ignored). */
    public double[] apply(double[] pooled) {
        double[] p = new double[8];
        for (int k = 0; k < 7; k++) {
            p[k] = platt(pooled[k], scale, bias, floor);
        }
        p[7] = platt(Pooling.overall(p), overallScale, overallBias, overallFloor);
        return p;
    }

    private static double platt(double p, double scale, double bias, double floor) {
        double q = Math.clamp(p, CLAMP, 1 - CLAMP);
        return Math.clamp(1 / (1 + Math.exp(-(scale * Math.log(q / (1 - q)) + bias))), floor, 1 - floor);
    }

    /** This map's scales and biases with the floors for {@code studies} fitting studies (see above). */
    Calibration withFloorsFor(int studies) {
        return new Calibration(scale, bias, overallScale, overallBias, 1.0 / (7.0 * studies + 2),
                1.0 / (studies + 2.0));
    }

    /**
     * The map that minimises the competition loss of {@code pooled} (study → pooled C1..C7) against {@code labels}:
     * for C1..C7, then for patient_overall, a grid over scale ∈ [0, 3] and bias ∈ [−8, 4], then a finer grid around
     * the best point. The floors are those for {@code labels.size()} studies, and the fit sees them.
     */
    public static Calibration fit(SequencedMap<String, int[]> labels, Map<String, double[]> pooled) {
        if (labels.isEmpty()) {
            throw new IllegalArgumentException("a calibration is fitted on at least one study, got none");
        }
        Calibration vertebrae = fit(labels, pooled, false, IDENTITY.withFloorsFor(labels.size()));
        return fit(labels, pooled, true, vertebrae);
    }

    /** A grid search over one of the two maps, the other kept as in {@code start}. */
    private static Calibration fit(SequencedMap<String, int[]> labels, Map<String, double[]> pooled, boolean overall,
                                   Calibration start) {
        Calibration best = start;
        double bestLoss = part(best, labels, pooled, overall);
        double scaleStep = 0.1;
        double biasStep = 0.25;
        double scaleLo = 0;
        double scaleHi = MAX_SCALE;
        double biasLo = MIN_BIAS;
        double biasHi = MAX_BIAS;
        for (int round = 0; round < 2; round++) {
            for (double a = scaleLo; a <= scaleHi + 1e-9; a += scaleStep) {
                for (double b = biasLo; b <= biasHi + 1e-9; b += biasStep) {
                    Calibration c = overall ? new Calibration(start.scale, start.bias, a, b, start.floor,
                            start.overallFloor)
                            : new Calibration(a, b, start.overallScale, start.overallBias, start.floor,
                            start.overallFloor);
                    double l = part(c, labels, pooled, overall);
                    if (l < bestLoss) {
                        bestLoss = l;
                        best = c;
                    }
                }
            }
            double a = overall ? best.overallScale : best.scale;
            double b = overall ? best.overallBias : best.bias;
            scaleLo = Math.max(0, a - scaleStep);
            scaleHi = Math.min(MAX_SCALE, a + scaleStep);
            biasLo = Math.max(MIN_BIAS, b - biasStep);
            biasHi = Math.min(MAX_BIAS, b + biasStep);
            scaleStep /= 10;
            biasStep /= 10;
        }
        return best;
    }

    /**
     * One part of the competition loss: the C1..C7 terms, or the patient_overall term, each study's terms divided by
     * its full weight sum (which depends on its labels only), averaged over studies. The two parts add up to the
     * competition loss, and the C1..C7 part does not depend on patient_overall's map.
     */
    static double part(Calibration c, SequencedMap<String, int[]> labels, Map<String, double[]> pooled,
                       boolean overall) {
        double sum = 0;
        for (var e : labels.entrySet()) {
            int[] y = e.getValue();
            double[] p = c.apply(pooled.get(e.getKey()));
            double weights = 0;
            double terms = 0;
            for (int t = 0; t < 8; t++) {
                double w = CompetitionMetric.weight(t, y[t]);
                weights += w;
                if ((t == CompetitionMetric.OVERALL) == overall) {
                    terms += w * CompetitionMetric.logLoss(y[t], p[t]);
                }
            }
            sum += terms / weights;
        }
        return sum / labels.size();
    }

    /** The competition loss of the calibrated predictions. */
    static double loss(Calibration c, SequencedMap<String, int[]> labels, Map<String, double[]> pooled) {
        Map<String, double[]> p = new LinkedHashMap<>();
        pooled.forEach((uid, q) -> p.put(uid, c.apply(q)));
        return CompetitionMetric.score(labels, p).score();
    }

    /** The fields as JSON members (no braces), for the checkpoint's metadata. */
    String jsonMembers() {
        return String.format(Locale.ROOT, "\"calibrationScale\": %s, \"calibrationBias\": %s, "
                + "\"calibrationOverallScale\": %s, \"calibrationOverallBias\": %s, \"calibrationFloor\": %s, "
                + "\"calibrationOverallFloor\": %s", scale, bias, overallScale, overallBias, floor, overallFloor);
    }

    /**
     * The calibration in a checkpoint's JSON; {@link #IDENTITY} when it has none, the least floors when it has no
     * floors (older checkpoints).
     */
    static Calibration fromJson(String json) {
        double[] v = {1, 0, 1, 0, CLAMP, CLAMP};
        String[] names = {"calibrationScale", "calibrationBias", "calibrationOverallScale", "calibrationOverallBias",
            "calibrationFloor", "calibrationOverallFloor"};
        for (int i = 0; i < names.length; i++) {
            Matcher m = Pattern.compile("\"" + names[i] + "\"\\s*:\\s*([^,}\\s]+)").matcher(json);
            if (m.find()) {
                v[i] = Double.parseDouble(m.group(1));
            }
        }
        return new Calibration(v[0], v[1], v[2], v[3], v[4], v[5]);
    }
}
