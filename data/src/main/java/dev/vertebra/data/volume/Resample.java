package dev.vertebra.data.volume;

import java.util.List;

/**
 * Trilinear resampling of a volume to a new grid covering the same extent (voxel centres of the first and last
 * samples kept at the corners, as {@code align_corners=True} does).
 *
 * <pre>{@code
 * CtVolume iso = Resample.toSpacing(ct, 1.0, 1.0, 1.0);
 * CtVolume small = Resample.toSize(ct, 64, 128, 128);
 * }</pre>
 */
public final class Resample {

    private Resample() {
    }

    /** Resamples to (about) the given spacing in mm along x (columns), y (rows) and z (slices). */
    public static CtVolume toSpacing(CtVolume v, double x, double y, double z) {
        int cols = Math.max(1, (int) Math.round((v.cols() - 1) * v.spacing()[0] / x) + 1);
        int rows = Math.max(1, (int) Math.round((v.rows() - 1) * v.spacing()[1] / y) + 1);
        int slices = Math.max(1, (int) Math.round((v.slices() - 1) * v.spacing()[2] / z) + 1);
        return toSize(v, slices, rows, cols);
    }

    /** Resamples to exactly [slices, rows, cols]. Instance numbers become those of the nearest source slice. */
    public static CtVolume toSize(CtVolume v, int slices, int rows, int cols) {
        if (slices < 1 || rows < 1 || cols < 1) {
            throw new IllegalArgumentException("size " + slices + "x" + rows + "x" + cols);
        }
        float[] out = trilinear(v.hu(), v.slices(), v.rows(), v.cols(), slices, rows, cols);
        double fs = scale(v.slices(), slices);
        double fr = scale(v.rows(), rows);
        double fc = scale(v.cols(), cols);
        double[][] affine = new double[4][4];
        for (int i = 0; i < 3; i++) {
            affine[i][0] = v.affine()[i][0] * fc;
            affine[i][1] = v.affine()[i][1] * fr;
            affine[i][2] = v.affine()[i][2] * fs;
            affine[i][3] = v.affine()[i][3];
        }
        affine[3][3] = 1;
        int[] instances = new int[slices];
        for (int s = 0; s < slices; s++) {
            instances[s] = v.instanceNumbers()[(int) Math.round(s * fs)];
        }
        return new CtVolume(slices, rows, cols, out,
                new double[] {v.spacing()[0] * fc, v.spacing()[1] * fr, v.spacing()[2] * fs}, affine, List.of(),
                instances, v.report());
    }

    private static double scale(int from, int to) {
        return to == 1 ? 0 : (from - 1) / (double) (to - 1);
    }

    /** src: [S, R, C] → out: [s, r, c], sampling src at (i·(S−1)/(s−1), …). */
    static float[] trilinear(float[] src, int S, int R, int C, int s, int r, int c) {
        float[] out = new float[s * r * c];
        double fs = scale(S, s);
        double fr = scale(R, r);
        double fc = scale(C, c);
        int[] c0 = new int[c];
        float[] cw = new float[c];
        for (int k = 0; k < c; k++) {
            double x = k * fc;
            c0[k] = Math.min((int) x, C - 2 < 0 ? 0 : C - 2);
            cw[k] = (float) (x - c0[k]);
        }
        for (int i = 0; i < s; i++) {
            double z = i * fs;
            int z0 = Math.min((int) z, Math.max(0, S - 2));
            float wz = (float) (z - z0);
            int z1 = Math.min(z0 + 1, S - 1);
            for (int j = 0; j < r; j++) {
                double y = j * fr;
                int y0 = Math.min((int) y, Math.max(0, R - 2));
                float wy = (float) (y - y0);
                int y1 = Math.min(y0 + 1, R - 1);
                int a = (z0 * R + y0) * C;
                int b = (z0 * R + y1) * C;
                int d = (z1 * R + y0) * C;
                int e = (z1 * R + y1) * C;
                for (int k = 0; k < c; k++) {
                    int x0 = c0[k];
                    int x1 = Math.min(x0 + 1, C - 1);
                    float wx = cw[k];
                    float top = lerp(lerp(src[a + x0], src[a + x1], wx), lerp(src[b + x0], src[b + x1], wx), wy);
                    float bottom = lerp(lerp(src[d + x0], src[d + x1], wx), lerp(src[e + x0], src[e + x1], wx), wy);
                    out[(i * r + j) * c + k] = lerp(top, bottom, wz);
                }
            }
        }
        return out;
    }

    private static float lerp(float a, float b, float w) {
        return a + (b - a) * w;
    }
}
