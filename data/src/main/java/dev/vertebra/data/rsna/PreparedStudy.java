package dev.vertebra.data.rsna;

import dev.vertebra.data.volume.CtVolume;
import dev.vertebra.data.volume.Resample;
import dev.vertebra.data.volume.Window;

/**
 * A study ready for training: HU as int16 [slices, rows, cols] (slices ascending along the normal) and
 * per-slice targets. Bit v of {@code visible[s]} says slice s shows vertebra C(v+1) (from the segmentation;
 * 0 everywhere when there is none); {@code boxed[s]} says a fracture box lies on slice s.
 *
 * <pre>{@code
 * PreparedStudy p = RsnaDataset.load(study).resized(96, 128, 128);
 * float[] x = p.stack(40, 3, Window.BONE);   // [rows, cols, 3]
 * float[] y = p.targets(40);                 // 7 visible + 7 fractured-and-visible
 * }</pre>
 *
 * @param fractured C1..C7 labels (all false when unknown)
 * @param labelled  whether the study has labels at all
 * @param spacing   mm {x, y, z}
 */
public record PreparedStudy(String uid, int slices, int rows, int cols, short[] hu, double[] spacing,
                            int[] instanceNumbers, int[] visible, boolean[] boxed, boolean[] fractured,
                            boolean labelled) {

    /** Targets per slice: 7 visibility flags then 7 fracture flags. */
    public static final int TARGETS = 14;

    public PreparedStudy {
        if ((long) slices * rows * cols != hu.length || visible.length != slices || boxed.length != slices
                || instanceNumbers.length != slices || fractured.length != 7) {
            throw new IllegalArgumentException("inconsistent prepared study " + uid);
        }
    }

    static PreparedStudy of(RsnaDataset.Study study, CtVolume ct, byte[] mask, int minVoxels) {
        int[] visible = new int[ct.slices()];
        if (mask != null) {
            int plane = ct.plane();
            for (int s = 0; s < ct.slices(); s++) {
                int[] count = new int[8];
                for (int i = s * plane; i < (s + 1) * plane; i++) {
                    int label = mask[i];
                    if (label >= 1 && label <= 7) {
                        count[label]++;
                    }
                }
                for (int v = 0; v < 7; v++) {
                    if (count[v + 1] >= minVoxels) {
                        visible[s] |= 1 << v;
                    }
                }
            }
        }
        boolean[] boxed = new boolean[ct.slices()];
        for (RsnaCsv.Box box : study.boxes()) {
            int s = ct.sliceOfInstance(box.sliceNumber());
            if (s >= 0) {
                boxed[s] = true;
            }
        }
        boolean[] fractured = study.labels().map(RsnaCsv.Labels::vertebrae).orElse(new boolean[7]);
        short[] hu = new short[ct.hu().length];
        for (int i = 0; i < hu.length; i++) {
            hu[i] = (short) Math.clamp(Math.round(ct.hu()[i]), Short.MIN_VALUE, Short.MAX_VALUE);
        }
        return new PreparedStudy(study.uid(), ct.slices(), ct.rows(), ct.cols(), hu, ct.spacing().clone(),
                ct.instanceNumbers(), visible, boxed, fractured, study.labels().isPresent());
    }

    /** Trilinear resize of the volume; targets follow the nearest source slice. */
    public PreparedStudy resized(int newSlices, int newRows, int newCols) {
        float[] f = new float[hu.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = hu[i];
        }
        var report = new dev.vertebra.data.volume.SeriesReport(false, 0, java.util.List.of(), 0, 0, uid);
        double[][] affine = {{spacing[0], 0, 0, 0}, {0, spacing[1], 0, 0}, {0, 0, spacing[2], 0}, {0, 0, 0, 1}};
        CtVolume source = new CtVolume(slices, rows, cols, f, spacing, affine, java.util.List.of(), instanceNumbers,
                report);
        CtVolume r = Resample.toSize(source, newSlices, newRows, newCols);
        short[] out = new short[r.hu().length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (short) Math.round(r.hu()[i]);
        }
        int[] vis = new int[newSlices];
        boolean[] box = new boolean[newSlices];
        double step = newSlices == 1 ? 0 : (slices - 1) / (double) (newSlices - 1);
        for (int s = 0; s < newSlices; s++) {
            int from = (int) Math.round(s * step);
            vis[s] = visible[from];
            box[s] = boxed[from];
        }
        return new PreparedStudy(uid, newSlices, newRows, newCols, out, r.spacing(), r.instanceNumbers(), vis, box,
                fractured, labelled);
    }

    /** k adjacent slices around {@code centre} through a window, [rows, cols, k]. */
    public float[] stack(int centre, int k, Window window) {
        if (k < 1 || centre < 0 || centre >= slices) {
            throw new IllegalArgumentException("stack of " + k + " around slice " + centre + " of " + slices);
        }
        float[] out = new float[rows * cols * k];
        int plane = rows * cols;
        for (int ch = 0; ch < k; ch++) {
            int s = Math.clamp(centre - k / 2 + ch, 0, slices - 1);
            for (int i = 0; i < plane; i++) {
                out[i * k + ch] = window.apply(hu[s * plane + i]);
            }
        }
        return out;
    }

    /** The 14 targets of slice {@code s}: C1..C7 visible, then C1..C7 fractured and visible. */
    public float[] targets(int s) {
        float[] t = new float[TARGETS];
        for (int v = 0; v < 7; v++) {
            boolean shows = (visible[s] & (1 << v)) != 0;
            t[v] = shows ? 1 : 0;
            t[7 + v] = shows && fractured[v] ? 1 : 0;
        }
        return t;
    }
}
