package dev.vertebra.data.volume;

import dev.vertebra.data.dicom.DicomObject;
import dev.vertebra.data.dicom.DicomPixels;
import dev.vertebra.data.dicom.DicomReader;
import dev.vertebra.data.dicom.DicomValueException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Turns a DICOM series into a {@link CtVolume}: slices sorted by their position along the normal
 * (ImageOrientationPatient row × column direction, dotted with ImagePositionPatient) — never by file name or
 * InstanceNumber. Missing geometry, differing orientations or image sizes, and several series in one folder
 * are errors; reversed numbering, gantry tilt, gaps and duplicate positions are reported in
 * {@link SeriesReport}; after a gap the affine keeps the true slice step, so slices beyond it sit one step per
 * index (approximately placed). MONOCHROME1 slices are inverted so that dense is bright.
 *
 * <pre>{@code
 * CtVolume ct = SeriesReader.read(Path.of("train_images/1.2.826.0.1.3680043.10001"));
 * if (ct.report().tilted()) { ... }
 * }</pre>
 */
public final class SeriesReader {
    private static final double ORIENTATION_TOLERANCE = 1e-4;

    private SeriesReader() {
    }

    private record Slice(Path file, int instance, double position, double[] ipp, double[] pixelSpacing,
                         String seriesUid, float[] hu) {
    }

    /** Reads every {@code *.dcm} file (any name when none ends so) in a folder. */
    public static CtVolume read(Path folder) throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(folder)) {
            files = list.filter(Files::isRegularFile).sorted().toList();
        }
        List<Path> dcm = files.stream().filter(p -> p.getFileName().toString().toLowerCase().endsWith(".dcm")).toList();
        return read(dcm.isEmpty() ? files : dcm, folder.toString());
    }

    /** Reads the given files as one series; {@code name} labels errors. */
    public static CtVolume read(List<Path> files, String name) throws IOException {
        if (files.isEmpty()) {
            throw new VolumeException(name, "no DICOM files");
        }
        double[] orientation = null;
        int rows = -1;
        int cols = -1;
        List<Slice> slices = new ArrayList<>();
        for (Path file : files) {
            DicomObject ds = DicomReader.read(file);
            double[] iop = required(ds, "ImageOrientationPatient", 6, file);
            double[] ipp = required(ds, "ImagePositionPatient", 3, file);
            double[] pixelSpacing = required(ds, "PixelSpacing", 2, file);
            if (orientation == null) {
                orientation = iop;
            } else if (!close(orientation, iop)) {
                throw new VolumeException(file.toString(), "ImageOrientationPatient " + Arrays.toString(iop)
                        + " differs from the series' " + Arrays.toString(orientation));
            }
            DicomPixels pixels = DicomPixels.read(ds);
            if (rows < 0) {
                rows = pixels.rows();
                cols = pixels.columns();
            } else if (rows != pixels.rows() || cols != pixels.columns() || pixels.frames() != 1) {
                throw new VolumeException(file.toString(), "image " + pixels.rows() + "x" + pixels.columns()
                        + " (" + pixels.frames() + " frames) differs from the series' " + rows + "x" + cols);
            }
            float[] hu = pixels.modalityLut();
            if (pixels.photometricInterpretation().equals("MONOCHROME1")) {
                invert(hu, ds, pixels);
            }
            double[] normal = normal(orientation);
            slices.add(new Slice(file, ds.getInt("InstanceNumber", slices.size() + 1), dot(normal, ipp), ipp,
                    pixelSpacing, ds.getString("SeriesInstanceUID", ""), hu));
        }
        List<String> series = slices.stream().map(Slice::seriesUid).distinct().toList();
        if (series.size() > 1) {
            throw new VolumeException(name, "mixed series: " + String.join(", ", series));
        }
        slices.sort(Comparator.comparingDouble(Slice::position));
        return stack(name, slices, orientation, rows, cols, series.getFirst());
    }

    private static CtVolume stack(String name, List<Slice> sorted, double[] iop, int rows, int cols,
                                  String seriesUid) throws VolumeException {
        double[] steps = new double[sorted.size() - 1];
        for (int i = 1; i < sorted.size(); i++) {
            steps[i - 1] = sorted.get(i).position() - sorted.get(i - 1).position();
        }
        double[] positive = Arrays.stream(steps).filter(d -> d > 1e-3).sorted().toArray();
        if (sorted.size() > 1 && positive.length == 0) {
            throw new VolumeException(name, "all " + sorted.size() + " slices lie at one position");
        }
        double median = positive.length == 0 ? 0 : positive[positive.length / 2];
        List<Slice> kept = new ArrayList<>();
        kept.add(sorted.getFirst());
        int duplicates = 0;
        List<Integer> gaps = new ArrayList<>();
        int missing = 0;
        for (int i = 1; i < sorted.size(); i++) {
            double step = steps[i - 1];
            if (step < 0.01 * median) {
                duplicates++;
                continue;
            }
            if (step > 1.5 * median) {
                gaps.add(kept.size());
                missing += (int) Math.round(step / median) - 1;
            }
            kept.add(sorted.get(i));
        }
        // Missing slices are filled (below), so that slice index and position agree with the affine.
        int n = kept.size() + missing;
        double[] rowDir = {iop[0], iop[1], iop[2]};
        double[] colDir = {iop[3], iop[4], iop[5]};
        double[] normal = normal(iop);
        double[] first = kept.getFirst().ipp();
        double[] last = kept.getLast().ipp();
        double[] sliceStep = new double[3];
        double tilt = 0;
        if (n > 1) {
            double[] along = new double[3];
            for (int i = 0; i < 3; i++) {
                sliceStep[i] = (last[i] - first[i]) / (n - 1);
                along[i] = last[i] - first[i];
            }
            double cos = Math.clamp(dot(along, normal) / Math.sqrt(dot(along, along)), -1, 1);
            tilt = Math.toDegrees(Math.acos(cos));
        } else {
            throw new VolumeException(name, "a single slice has no slice spacing");
        }
        double[] ps = kept.getFirst().pixelSpacing();
        double[][] affine = new double[4][4];
        for (int i = 0; i < 3; i++) {
            affine[i][0] = rowDir[i] * ps[1];
            affine[i][1] = colDir[i] * ps[0];
            affine[i][2] = sliceStep[i];
            affine[i][3] = first[i];
        }
        affine[3][3] = 1;
        int plane = rows * cols;
        float[] hu = new float[n * plane];
        int[] instances = new int[n];
        List<Path> files = new ArrayList<>();
        int out = 0;
        for (int k = 0; k < kept.size(); k++) {
            Slice slice = kept.get(k);
            if (k > 0) {
                // A gap of m missing slices: m slices interpolated linearly between its two neighbours, with
                // InstanceNumber 0 (no file holds them).
                Slice before = kept.get(k - 1);
                double step = slice.position() - before.position();
                int fill = step > 1.5 * median ? (int) Math.round(step / median) - 1 : 0;
                for (int f = 1; f <= fill; f++) {
                    float t = (float) f / (fill + 1);
                    for (int i = 0; i < plane; i++) {
                        hu[out * plane + i] = before.hu()[i] + t * (slice.hu()[i] - before.hu()[i]);
                    }
                    out++;
                }
            }
            System.arraycopy(slice.hu(), 0, hu, out * plane, plane);
            instances[out] = slice.instance();
            files.add(slice.file());
            out++;
        }
        boolean descending = instances[n - 1] < instances[0];
        double zSpacing = Math.sqrt(dot(sliceStep, sliceStep));
        return new CtVolume(n, rows, cols, hu, new double[] {ps[1], ps[0], zSpacing}, affine, files, instances,
                new SeriesReport(descending, tilt, gaps, missing, duplicates, seriesUid));
    }

    private static double[] required(DicomObject ds, String keyword, int count, Path file) throws VolumeException {
        double[] values;
        try {
            values = ds.contains(keyword) ? ds.getDoubles(keyword) : null;
        } catch (DicomValueException e) {
            throw new VolumeException(file.toString(), keyword + " is malformed: " + e.getMessage(), e);
        }
        if (values == null || values.length != count || Arrays.stream(values).anyMatch(v -> !Double.isFinite(v))) {
            throw new VolumeException(file.toString(), keyword + " is missing or malformed ("
                    + (values == null ? "absent" : Arrays.toString(values)) + "); no geometry is invented");
        }
        return values;
    }

    /** MONOCHROME1: the smallest stored value is brightest; mirror the values within the stored range. */
    private static void invert(float[] hu, DicomObject ds, DicomPixels pixels) {
        int bits = pixels.format().bitsStored();
        boolean signed = pixels.format().signed();
        double minStored = signed ? -(1L << (bits - 1)) : 0;
        double maxStored = signed ? (1L << (bits - 1)) - 1 : (1L << bits) - 1;
        double slope = ds.contains("RescaleSlope") ? ds.getDouble("RescaleSlope") : 1;
        double intercept = ds.contains("RescaleIntercept") ? ds.getDouble("RescaleIntercept") : 0;
        double sum = (minStored + maxStored) * slope + 2 * intercept;
        for (int i = 0; i < hu.length; i++) {
            hu[i] = (float) (sum - hu[i]);
        }
    }

    static double[] normal(double[] iop) {
        return new double[] {
                iop[1] * iop[5] - iop[2] * iop[4],
                iop[2] * iop[3] - iop[0] * iop[5],
                iop[0] * iop[4] - iop[1] * iop[3]};
    }

    private static double dot(double[] a, double[] b) {
        return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    }

    private static boolean close(double[] a, double[] b) {
        for (int i = 0; i < a.length; i++) {
            if (Math.abs(a[i] - b[i]) > ORIENTATION_TOLERANCE) {
                return false;
            }
        }
        return true;
    }
}
