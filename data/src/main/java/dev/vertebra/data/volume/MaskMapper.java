package dev.vertebra.data.volume;

import dev.vertebra.data.nifti.NiftiImage;

/**
 * Maps a label image (NIfTI, world = RAS) onto a DICOM volume's voxel grid (world = LPS) through both affines,
 * nearest neighbour: each volume voxel takes the label of the mask voxel nearest to its centre, 0 outside the
 * mask. Works whatever order and flips the mask's axes have, as long as its affine tells the truth (the RSNA
 * masks are stored sagittal-first and flipped relative to the slices; their affines say so).
 *
 * <pre>{@code
 * byte[] labels = MaskMapper.toVolume(Nifti.read(segPath), ct); // [slices, rows, cols], 1..7 = C1..C7
 * }</pre>
 */
public final class MaskMapper {

    private MaskMapper() {
    }

    /** Labels on the volume's grid, [slices, rows, cols]. */
    public static byte[] toVolume(NiftiImage mask, CtVolume volume) {
        int[] dims = mask.dims();
        if (dims.length < 3) {
            throw new IllegalArgumentException("mask is " + dims.length + "-D, need 3-D");
        }
        double[][] lpsToRas = {{-1, 0, 0, 0}, {0, -1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
        double[][] m = multiply(invert(mask.affine()), multiply(lpsToRas, volume.affine()));
        int nx = dims[0];
        int ny = dims[1];
        int nz = dims[2];
        byte[] out = new byte[volume.hu().length];
        for (int s = 0; s < volume.slices(); s++) {
            for (int r = 0; r < volume.rows(); r++) {
                for (int c = 0; c < volume.cols(); c++) {
                    long i = Math.round(m[0][0] * c + m[0][1] * r + m[0][2] * s + m[0][3]);
                    long j = Math.round(m[1][0] * c + m[1][1] * r + m[1][2] * s + m[1][3]);
                    long k = Math.round(m[2][0] * c + m[2][1] * r + m[2][2] * s + m[2][3]);
                    if (i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz) {
                        out[volume.index(s, r, c)] = (byte) mask.value((int) (i + nx * (j + (long) ny * k)));
                    }
                }
            }
        }
        return out;
    }

    static double[][] multiply(double[][] a, double[][] b) {
        double[][] out = new double[4][4];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                for (int k = 0; k < 4; k++) {
                    out[i][j] += a[i][k] * b[k][j];
                }
            }
        }
        return out;
    }

    /** Inverse of an affine 4×4 (last row 0 0 0 1). */
    static double[][] invert(double[][] a) {
        double[][] r = new double[3][3];
        double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
                - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
        if (Math.abs(det) < 1e-12) {
            throw new IllegalArgumentException("affine is singular");
        }
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                int i1 = (j + 1) % 3;
                int i2 = (j + 2) % 3;
                int j1 = (i + 1) % 3;
                int j2 = (i + 2) % 3;
                r[i][j] = (a[i1][j1] * a[i2][j2] - a[i1][j2] * a[i2][j1]) / det;
            }
        }
        double[][] out = new double[4][4];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                out[i][j] = r[i][j];
            }
            out[i][3] = -(r[i][0] * a[0][3] + r[i][1] * a[1][3] + r[i][2] * a[2][3]);
        }
        out[3][3] = 1;
        return out;
    }
}
