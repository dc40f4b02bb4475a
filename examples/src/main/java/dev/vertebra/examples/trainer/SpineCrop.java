package dev.vertebra.examples.trainer;

import dev.vertebra.data.rsna.PreparedStudy;
import dev.vertebra.data.rsna.RsnaCsv;
import dev.vertebra.data.rsna.RsnaDataset;
import dev.vertebra.data.volume.Window;

/**
 * The trainer's view of a {@link PreparedStudy}: bone window, then each slice resampled (bilinear) to
 * {@code size × size} pixels of {@code pixelMm} around the spine. The spine's centre is the centroid of the dense
 * voxels (HU above {@value #BONE_HU}) of the whole volume — on a neck CT the cervical spine dominates them.
 */
public final class SpineCrop {
    static final float BONE_HU = 300;
    /** Voxels of a vertebra's label a slice must hold to count as showing it. */
    public static final int MIN_VISIBLE_VOXELS = 20;

    private SpineCrop() {
    }

    /** The crop of a loaded study; boxes and labels come from {@code study} (boxed is null when it has none). */
    public static StudySlices of(RsnaDataset.Study study, PreparedStudy p, int size, double pixelMm) {
        float[] window = new float[p.hu().length];
        for (int i = 0; i < window.length; i++) {
            window[i] = Window.BONE.apply(p.hu()[i]);
        }
        double[] centre = spineCentre(p);
        int plane = p.rows() * p.cols();
        float[] pixels = new float[p.slices() * size * size];
        double stepC = pixelMm / p.spacing()[0];
        double stepR = pixelMm / p.spacing()[1];
        for (int s = 0; s < p.slices(); s++) {
            int base = s * plane;
            for (int y = 0; y < size; y++) {
                double r = centre[0] + (y - (size - 1) / 2.0) * stepR;
                for (int x = 0; x < size; x++) {
                    double c = centre[1] + (x - (size - 1) / 2.0) * stepC;
                    pixels[(s * size + y) * size + x] = bilinear(window, base, p.rows(), p.cols(), r, c);
                }
            }
        }
        boolean[][] visible = null;
        if (study.segmentation().isPresent()) {
            visible = new boolean[p.slices()][7];
            for (int s = 0; s < p.slices(); s++) {
                for (int k = 0; k < 7; k++) {
                    visible[s][k] = (p.visible()[s] & (1 << k)) != 0;
                }
            }
        }
        boolean[] boxed = study.boxes().isEmpty() ? null : p.boxed().clone();
        int[] labels = study.labels().map(SpineCrop::labels).orElse(null);
        return new StudySlices(p.uid(), p.slices(), size, pixels, visible, boxed, labels);
    }

    /** C1..C7, patient_overall as 0/1. */
    static int[] labels(RsnaCsv.Labels l) {
        int[] out = new int[8];
        boolean[] v = l.vertebrae();
        for (int k = 0; k < 7; k++) {
            out[k] = v[k] ? 1 : 0;
        }
        out[7] = l.patientOverall() ? 1 : 0;
        return out;
    }

    /** (row, col) of the dense voxels' centroid; the image centre when there are none. */
    static double[] spineCentre(PreparedStudy p) {
        double sr = 0;
        double sc = 0;
        long n = 0;
        short[] hu = p.hu();
        int plane = p.rows() * p.cols();
        for (int i = 0; i < hu.length; i++) {
            if (hu[i] > BONE_HU) {
                int at = i % plane;
                sr += at / p.cols();
                sc += at % p.cols();
                n++;
            }
        }
        return n == 0 ? new double[] {(p.rows() - 1) / 2.0, (p.cols() - 1) / 2.0} : new double[] {sr / n, sc / n};
    }

    private static float bilinear(float[] img, int base, int rows, int cols, double r, double c) {
        int r0 = (int) Math.floor(r);
        int c0 = (int) Math.floor(c);
        double fr = r - r0;
        double fc = c - c0;
        return (float) ((1 - fr) * ((1 - fc) * at(img, base, rows, cols, r0, c0) + fc * at(img, base, rows, cols, r0, c0 + 1))
                + fr * ((1 - fc) * at(img, base, rows, cols, r0 + 1, c0) + fc * at(img, base, rows, cols, r0 + 1, c0 + 1)));
    }

    private static float at(float[] img, int base, int rows, int cols, int r, int c) {
        return r < 0 || c < 0 || r >= rows || c >= cols ? 0 : img[base + r * cols + c];
    }
}
