package dev.vertebra.examples.trainer;

/**
 * A study's predictions.
 *
 * @param uid           StudyInstanceUID
 * @param logits        [slices][{@value FractureModel#OUTPUTS}]: visibility C1..C7, fracture on the slice
 * @param pooled        C1..C7 as pooled from the slices, before calibration
 * @param probabilities C1..C7 calibrated, patient_overall
 */
public record StudyPrediction(String uid, float[][] logits, double[] pooled, double[] probabilities) {

    /** Pools slice logits into study probabilities, then calibrates them. */
    public static StudyPrediction of(String uid, float[][] logits, Pooling pooling, int topK,
                                     Calibration calibration) {
        double[] p = new double[8];
        for (int k = 0; k < 7; k++) {
            double[] q = new double[logits.length];
            for (int s = 0; s < logits.length; s++) {
                q[s] = sigmoid(logits[s][k]) * sigmoid(logits[s][FractureModel.FRACTURE]);
            }
            p[k] = pooling.pool(q, topK);
        }
        p[7] = Pooling.overall(p);
        return new StudyPrediction(uid, logits, p, calibration.apply(p));
    }

    /** The slice score of "fracture at Ck" gated by visibility. */
    public double sliceScore(int s, int k) {
        return sigmoid(logits[s][k]) * sigmoid(logits[s][FractureModel.FRACTURE]);
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
