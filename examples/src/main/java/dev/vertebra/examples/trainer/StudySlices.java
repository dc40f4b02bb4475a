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
     * slice": "some Ck with a positive study label is visible in the slice" (multiple-instance labels without
     * boxes), AND a box lies on the slice when the study has boxes; with boxes but no segmentation, the boxes alone.
     * A study without a fractured vertebra is negative on every slice. Targets nobody knows are 0 with weight 0 ({@link #weights}).
     */
    public float[] targets(int s) {
        float[] t = new float[FractureModel.OUTPUTS];
        boolean fractured = false;
        for (int k = 0; k < 7; k++) {
            boolean vis = visible != null && visible[s][k];
            t[k] = vis ? 1 : 0;
            fractured |= labels != null && labels[k] == 1 && vis;
        }
        boolean shown = visible != null ? fractured : anyFracture(); // without a mask, the boxes alone say where
        t[FractureModel.FRACTURE] = (boxed != null ? boxed[s] && shown : fractured) ? 1 : 0;
        return t;
    }

    /**
     * Which of {@link #targets}' values are known (1) or unknown (0, left out of the loss): the visibility
     * targets of a study without a segmentation, and the fracture target of a fractured study with neither boxes
     * nor a segmentation. (On the RSNA data most studies have no segmentation: without this they would teach the
     * visibility outputs that no slice shows a vertebra.)
     */
    public float[] weights(int s) {
        float[] w = new float[FractureModel.OUTPUTS];
        for (int k = 0; k < 7; k++) {
            w[k] = visible != null ? 1 : 0;
        }
        boolean known = labels != null && (boxed != null || visible != null || !anyFracture());
        w[FractureModel.FRACTURE] = known ? 1 : 0;
        return w;
    }

    /** True when every target of every slice is known (a segmented study, or one with boxes and no fracture…). */
    public boolean fullyLabelled() {
        return visible != null && labels != null;
    }

    private boolean anyFracture() {
        if (labels == null) {
            return false;
        }
        for (int k = 0; k < 7; k++) {
            if (labels[k] == 1) {
                return true;
            }
        }
        return false;
    }

    /**
     * {first, last} slice that the segmentation marks as showing some vertebra (the discs between them included);
     * null without a segmentation or when it marks none.
     */
    public int[] spineRun() {
        if (visible == null) {
            return null;
        }
        int first = -1;
        int last = -1;
        for (int s = 0; s < slices; s++) {
            if (spine(s)) {
                first = first < 0 ? s : first;
                last = s;
            }
        }
        return first < 0 ? null : new int[] {first, last};
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
