package dev.vertebra.examples.trainer;

import dev.vertebra.core.Generator;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CalibrationTest {

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    @Test
    void appliesThePlattMapAndRecomputesOverall() {
        double[] pooled = {0.2, 0.9, 0.5, 0.01, 0.99, 0.3, 0.7, 0.123};
        double[] p = new Calibration(0.5, -1).apply(pooled);
        double none = 1;
        for (int k = 0; k < 7; k++) {
            double expected = sigmoid(0.5 * Math.log(pooled[k] / (1 - pooled[k])) - 1);
            assertEquals(expected, p[k], 1e-12, "C" + (k + 1));
            none *= 1 - expected;
        }
        assertEquals(1 - none, p[7], 1e-12, "patient_overall ignores the pooled value at index 7");
        double[] identity = Calibration.IDENTITY.apply(pooled);
        for (int k = 0; k < 7; k++) {
            assertEquals(pooled[k], identity[k], 1e-12);
        }
        double[] constant = new Calibration(0, -2).apply(pooled);
        for (int k = 0; k < 7; k++) {
            assertEquals(sigmoid(-2), constant[k], 1e-12, "scale 0 is a constant");
        }
        double[] q = new Calibration(0.5, -1, 2, 0.5).apply(pooled);
        double overall = 1 - none;
        assertEquals(sigmoid(2 * Math.log(overall / (1 - overall)) + 0.5), q[7], 1e-12, "patient_overall's own map");
        assertEquals(p[3], q[3], 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new Calibration(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Calibration(1, 0, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Calibration(1, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new Calibration(1, 0, 1, 0, 0.5, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new Calibration(1, 0, 1, 0, 0.1, 0));
    }

    @Test
    void aMapFittedOnSeparatedStudiesClaimsNoMoreThanTheRuleOfSuccession() {
        // Ten validation studies whose pooled scores separate them perfectly: the map runs to its largest scale,
        // and without floors a test study it gets wrong would cost a log loss of about 10.
        SequencedMap<String, int[]> labels = new LinkedHashMap<>();
        Map<String, double[]> pooled = new LinkedHashMap<>();
        for (int i = 0; i < 10; i++) {
            int[] y = new int[8];
            double[] q = new double[8];
            Arrays.fill(q, 0.01);
            if (i % 2 == 0) {
                y[i % 7] = 1;
                y[7] = 1;
                q[i % 7] = 0.99;
            }
            labels.put("s" + i, y);
            pooled.put("s" + i, q);
        }
        Calibration fitted = Calibration.fit(labels, pooled);
        assertEquals(1.0 / 72, fitted.floor(), 0.0, "one row per study and vertebra: 1/(7n + 2)");
        assertEquals(1.0 / 12, fitted.overallFloor(), 0.0, "1/(n + 2)");
        assertThrows(IllegalArgumentException.class, () -> Calibration.fit(new LinkedHashMap<>(), pooled));
        double[] sure = {1 - 1e-9, 1e-9, 1e-9, 1e-9, 1e-9, 1e-9, 1e-9, 0};
        double[] p = fitted.apply(sure);
        assertEquals(1 - 1.0 / 72, p[0], 1e-15, "the map is as sure as it may be: " + fitted);
        assertEquals(1.0 / 72, p[1], 1e-15);
        assertEquals(1 - 1.0 / 12, p[7], 1e-15);
        double unbounded = new Calibration(fitted.scale(), fitted.bias(), fitted.overallScale(), fitted.overallBias())
                .apply(sure)[7];
        assertTrue(unbounded > 1 - 1e-4, "without floors the same map claims " + unbounded);
        for (var e : labels.entrySet()) {
            double[] v = fitted.apply(pooled.get(e.getKey()));
            for (int t = 0; t < 8; t++) {
                double f = t == 7 ? fitted.overallFloor() : fitted.floor();
                assertTrue(v[t] >= f && v[t] <= 1 - f, e.getKey() + " target " + t + ": " + v[t]);
            }
        }
    }

    @Test
    void fitTamesOverConfidentScoresThatRankWell() {
        // Raw pooled scores that rank fractured vertebrae above the rest but sit far too high for a log loss.
        Generator g = new Generator(3);
        SequencedMap<String, int[]> labels = new LinkedHashMap<>();
        Map<String, double[]> pooled = new LinkedHashMap<>();
        for (int i = 0; i < 60; i++) {
            int[] y = new int[8];
            double[] q = new double[8];
            for (int k = 0; k < 7; k++) {
                y[k] = g.nextDouble() < 0.1 ? 1 : 0;
                y[7] |= y[k];
                q[k] = sigmoid(3 + 2 * y[k] + 1.5 * g.nextGaussian());
            }
            labels.put("s" + i, y);
            pooled.put("s" + i, q);
        }
        Calibration fitted = Calibration.fit(labels, pooled);
        double raw = Calibration.loss(Calibration.IDENTITY, labels, pooled);
        double calibrated = Calibration.loss(fitted, labels, pooled);
        double bestConstant = Double.POSITIVE_INFINITY;
        for (double b = -8; b <= 4; b += 0.01) {
            bestConstant = Math.min(bestConstant, Calibration.loss(new Calibration(0, b), labels, pooled));
        }
        assertTrue(calibrated < 0.5 * raw, calibrated + " vs raw " + raw);
        assertTrue(calibrated < bestConstant - 0.01, calibrated + " vs the best constant " + bestConstant);
        assertTrue(fitted.bias() < 0, "over-confident scores are shifted down: " + fitted);
        Calibration vertebraeOnly = new Calibration(fitted.scale(), fitted.bias());
        assertTrue(calibrated <= Calibration.loss(vertebraeOnly, labels, pooled), "the overall map only helps");
    }

    @Test
    void theTwoPartsAddUpToTheCompetitionLoss() {
        Generator g = new Generator(4);
        SequencedMap<String, int[]> labels = new LinkedHashMap<>();
        Map<String, double[]> pooled = new LinkedHashMap<>();
        for (int i = 0; i < 20; i++) {
            int[] y = new int[8];
            double[] q = new double[8];
            for (int k = 0; k < 7; k++) {
                y[k] = g.nextDouble() < 0.2 ? 1 : 0;
                y[7] |= y[k];
                q[k] = g.nextDouble();
            }
            labels.put("s" + i, y);
            pooled.put("s" + i, q);
        }
        Calibration c = new Calibration(0.7, -1.2, 1.3, 0.4);
        assertEquals(Calibration.loss(c, labels, pooled), Calibration.part(c, labels, pooled, false)
                + Calibration.part(c, labels, pooled, true), 1e-12);
        Calibration otherOverall = new Calibration(0.7, -1.2, 0.2, -3);
        assertEquals(Calibration.part(c, labels, pooled, false), Calibration.part(otherOverall, labels, pooled, false),
                0.0, "the C1..C7 part ignores patient_overall's map");
    }

    @Test
    void travelsInTheCheckpointJson() {
        Calibration c = new Calibration(0.8125, -3.25, 1.5, -0.75, 0.0625, 0.125);
        String json = "{\"model\": \"b0\", " + c.jsonMembers() + "}";
        assertEquals(c, Calibration.fromJson(json));
        assertEquals(Calibration.IDENTITY, Calibration.fromJson("{\"model\": \"b0\"}"), "older checkpoints");
        String withoutFloors = "{\"calibrationScale\": 0.5, \"calibrationBias\": -1, \"calibrationOverallScale\": 2, "
                + "\"calibrationOverallBias\": 0.25}";
        assertEquals(new Calibration(0.5, -1, 2, 0.25), Calibration.fromJson(withoutFloors),
                "checkpoints from before the floors keep the least ones");
    }
}
