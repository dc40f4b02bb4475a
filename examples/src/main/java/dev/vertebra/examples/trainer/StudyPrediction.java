package dev.vertebra.examples.trainer;

/**
 * A study's predictions.
 *
 * @param uid           StudyInstanceUID
 * @param logits        [slices][{@value FractureModel#OUTPUTS}]: visibility C1..C7, fracture on the slice
 * @param visible       [slices][7]: the slices decoded as showing Ck ({@link SpineLevels})
 * @param pooled        C1..C7 as pooled from the slices, before calibration
 * @param probabilities C1..C7 calibrated, patient_overall
 */
public record StudyPrediction(String uid, float[][] logits, boolean[][] visible, double[] pooled,
                              double[] probabilities) {

    /**
     * Decodes which slices show each vertebra, pools the fracture probabilities of those slices into C1..C7, then
     * calibrates them.
     */
    public static StudyPrediction of(String uid, float[][] logits, Pooling pooling, int topK, SpineAtlas atlas,
                                     Calibration calibration) {
        boolean[][] visible = SpineLevels.decode(logits, atlas);
        double[] p = new double[8];
        for (int k = 0; k < 7; k++) {
            p[k] = pooling.pool(shown(logits, visible, k), topK);
        }
        p[7] = Pooling.overall(p);
        return new StudyPrediction(uid, logits, visible, p, calibration.apply(p));
    }

    /** The fracture probabilities of the slices {@code visible} marks for Ck, in slice order. */
    static double[] shown(float[][] logits, boolean[][] visible, int k) {
        int n = 0;
        for (boolean[] v : visible) {
            n += v[k] ? 1 : 0;
        }
        double[] q = new double[n];
        int i = 0;
        for (int s = 0; s < logits.length; s++) {
            if (visible[s][k]) {
                q[i++] = sigmoid(logits[s][FractureModel.FRACTURE]);
            }
        }
        return q;
    }

    /** The fracture probability of slice s when it is decoded as showing Ck, else 0. */
    public double sliceScore(int s, int k) {
        return visible[s][k] ? sigmoid(logits[s][FractureModel.FRACTURE]) : 0;
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
