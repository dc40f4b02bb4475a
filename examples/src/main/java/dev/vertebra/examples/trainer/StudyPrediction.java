package dev.vertebra.examples.trainer;

/**
 * A study's predictions.
 *
 * @param uid           StudyInstanceUID
 * @param logits        [slices][14]: visibility C1..C7, fracture C1..C7
 * @param probabilities C1..C7, patient_overall
 */
public record StudyPrediction(String uid, float[][] logits, double[] probabilities) {

    /** Pools slice logits into study probabilities. */
    public static StudyPrediction of(String uid, float[][] logits, Pooling pooling, int topK) {
        double[] p = new double[8];
        for (int k = 0; k < 7; k++) {
            double[] q = new double[logits.length];
            for (int s = 0; s < logits.length; s++) {
                q[s] = sigmoid(logits[s][k]) * sigmoid(logits[s][7 + k]);
            }
            p[k] = pooling.pool(q, topK);
        }
        p[7] = Pooling.overall(p);
        return new StudyPrediction(uid, logits, p);
    }

    /** The slice score of "fracture at Ck" gated by visibility. */
    public double sliceScore(int s, int k) {
        return sigmoid(logits[s][k]) * sigmoid(logits[s][7 + k]);
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
