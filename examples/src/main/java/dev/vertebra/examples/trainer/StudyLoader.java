package dev.vertebra.examples.trainer;

import dev.vertebra.data.nifti.Nifti;
import dev.vertebra.data.volume.CtVolume;
import dev.vertebra.data.volume.MaskMapper;
import dev.vertebra.data.volume.SeriesReader;
import dev.vertebra.data.volume.Window;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Reads a study's DICOM series and turns it into {@link StudySlices}: bone window, then each slice resampled
 * (bilinear) to {@code size × size} pixels of {@code pixelMm} around the spine. The spine's centre is the
 * centroid of the dense voxels (HU above {@value #BONE_HU}) of the whole volume — on a neck CT the cervical
 * spine dominates them.
 */
public final class StudyLoader {
    static final float BONE_HU = 300;
    /** Pixels of a vertebra's label a slice must hold to count as showing it. */
    static final int MIN_VISIBLE_PIXELS = 20;

    private StudyLoader() {
    }

    /**
     * Loads one study.
     *
     * @param dir     the series folder
     * @param mask    its segmentation (NIfTI), or null
     * @param boxes   instance numbers of slices holding a fracture box, or null when the study has none
     * @param labels  C1..C7, patient_overall, or null
     */
    public static StudySlices load(Path dir, Path mask, Set<Integer> boxes, int[] labels, int size, double pixelMm)
            throws IOException {
        CtVolume ct = SeriesReader.read(dir);
        float[] window = Window.BONE.apply(ct.hu());
        double[] centre = spineCentre(ct);
        float[] pixels = new float[ct.slices() * size * size];
        double stepC = pixelMm / ct.spacing()[0];
        double stepR = pixelMm / ct.spacing()[1];
        for (int s = 0; s < ct.slices(); s++) {
            int base = s * ct.plane();
            for (int y = 0; y < size; y++) {
                double r = centre[0] + (y - (size - 1) / 2.0) * stepR;
                for (int x = 0; x < size; x++) {
                    double c = centre[1] + (x - (size - 1) / 2.0) * stepC;
                    pixels[(s * size + y) * size + x] = bilinear(window, base, ct.rows(), ct.cols(), r, c);
                }
            }
        }
        boolean[][] visible = null;
        if (mask != null && Files.exists(mask)) {
            byte[] lab = MaskMapper.toVolume(Nifti.read(mask), ct);
            visible = new boolean[ct.slices()][7];
            for (int s = 0; s < ct.slices(); s++) {
                int[] count = new int[8];
                for (int i = s * ct.plane(); i < (s + 1) * ct.plane(); i++) {
                    int l = lab[i] & 0xFF;
                    if (l >= 1 && l <= 7) {
                        count[l]++;
                    }
                }
                for (int k = 0; k < 7; k++) {
                    visible[s][k] = count[k + 1] >= MIN_VISIBLE_PIXELS;
                }
            }
        }
        boolean[] boxed = null;
        if (boxes != null && !boxes.isEmpty()) {
            boxed = new boolean[ct.slices()];
            for (int s = 0; s < ct.slices(); s++) {
                boxed[s] = boxes.contains(ct.instanceNumbers()[s]);
            }
        }
        return new StudySlices(dir.getFileName().toString(), ct.slices(), size, pixels, visible, boxed, labels);
    }

    /** (row, col) of the dense voxels' centroid; the image centre when there are none. */
    static double[] spineCentre(CtVolume ct) {
        double sr = 0;
        double sc = 0;
        long n = 0;
        float[] hu = ct.hu();
        for (int i = 0; i < hu.length; i++) {
            if (hu[i] > BONE_HU) {
                int p = i % ct.plane();
                sr += p / ct.cols();
                sc += p % ct.cols();
                n++;
            }
        }
        return n == 0 ? new double[] {(ct.rows() - 1) / 2.0, (ct.cols() - 1) / 2.0} : new double[] {sr / n, sc / n};
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
