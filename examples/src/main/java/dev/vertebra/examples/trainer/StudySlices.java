package dev.vertebra.examples.trainer;

import dev.vertebra.data.volume.Stacks;

/**
 * One study, preprocessed for the model: every axial slice windowed (bone, WL 400 / WW 1800, to [0, 1]),
 * resampled to {@code size × size} pixels of a fixed spacing and cropped around the spine.
 *
 * @param uid        StudyInstanceUID
 * @param slices     slices, inferior first
 * @param size       crop side, pixels
 * @param pixels     [slices, size, size]
 * @param visible    [slices][7]: vertebra Ck shows in slice s (from a segmentation); null when unknown
 * @param boxed      [slices]: a fracture bounding box lies on slice s; null when the study has no boxes
 * @param labels     C1..C7, patient_overall (0/1); null for unlabelled (test) studies
 */
public record StudySlices(String uid, int slices, int size, float[] pixels, boolean[][] visible, boolean[] boxed,
                          int[] labels) {

    /** True when any vertebra shows in slice s (every slice when visibility is unknown). */
    public boolean spine(int s) {
        if (visible == null) {
            return true;
        }
        for (boolean v : visible[s]) {
            if (v) {
                return true;
            }
        }
        return false;
    }

    /**
     * The {@value FractureModel#OUTPUTS} per-slice training targets: 7 "Ck visible", then "a fracture shows on this
     * slice" = some Ck with a positive study label is visible in the slice AND (when the study has boxes) a box
     * lies on the slice — multiple-instance labels where there are no boxes.
     */
    public float[] targets(int s) {
        float[] t = new float[FractureModel.OUTPUTS];
        for (int k = 0; k < 7; k++) {
            boolean vis = visible != null && visible[s][k];
            t[k] = vis ? 1 : 0;
            if (labels != null && labels[k] == 1 && vis && (boxed == null || boxed[s])) {
                t[FractureModel.FRACTURE] = 1;
            }
        }
        return t;
    }

    /** True when slice s has a positive fracture target. */
    public boolean positive(int s) {
        return targets(s)[FractureModel.FRACTURE] > 0;
    }

    /** The K-slice stack around slice s as [size, size, K], channels interleaved; edge slices repeat. */
    public float[] stack(int s, int k) {
        return Stacks.stack(pixels, slices, size, size, s, k);
    }
}
