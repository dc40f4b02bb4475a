package dev.vertebra.data.volume;

import java.nio.file.Path;
import java.util.List;

/**
 * A CT volume in Hounsfield units, [slices, rows, cols], slices sorted by position along the slice normal
 * (ascending). Voxel (s, r, c) is element {@code (s·rows + r)·cols + c}.
 *
 * <pre>{@code
 * CtVolume ct = SeriesReader.read(Path.of("train_images/1.2.826.0.1.3680043.6200"));
 * float hu = ct.hu()[ct.index(s, r, c)];
 * double[] lps = ct.toPatient(c, r, s);
 * }</pre>
 *
 * @param hu              voxels, HU
 * @param spacing         mm between columns, rows and slices: {x, y, z}
 * @param affine          4×4: voxel (c, r, s, 1) → patient position (LPS, mm)
 * @param files           the files read, in slice order (empty for volumes not read from files); slices that
 *                        filled a gap in the series come from no file, so there may be fewer files than slices
 * @param instanceNumbers InstanceNumber of each slice (RSNA's slice_number); file order when absent; 0 for
 *                        slices interpolated into a gap
 * @param report          what stacking noticed
 */
public record CtVolume(int slices, int rows, int cols, float[] hu, double[] spacing, double[][] affine,
                       List<Path> files, int[] instanceNumbers, SeriesReport report) {

    public CtVolume {
        if ((long) slices * rows * cols != hu.length || spacing.length != 3 || instanceNumbers.length != slices) {
            throw new IllegalArgumentException("volume " + slices + "x" + rows + "x" + cols + " with "
                    + hu.length + " voxels, " + instanceNumbers.length + " instance numbers");
        }
        files = List.copyOf(files);
    }

    /** Flat index of voxel (s, r, c). */
    public int index(int s, int r, int c) {
        return (s * rows + r) * cols + c;
    }

    /** Voxels per slice. */
    public int plane() {
        return rows * cols;
    }

    /** Patient position (LPS, mm) of voxel (c, r, s) — fractional indices allowed. */
    public double[] toPatient(double c, double r, double s) {
        double[] p = new double[3];
        for (int i = 0; i < 3; i++) {
            p[i] = affine[i][0] * c + affine[i][1] * r + affine[i][2] * s + affine[i][3];
        }
        return p;
    }

    /** The slice index whose InstanceNumber is {@code n}, or −1. */
    public int sliceOfInstance(int n) {
        for (int s = 0; s < slices; s++) {
            if (instanceNumbers[s] == n) {
                return s;
            }
        }
        return -1;
    }
}
