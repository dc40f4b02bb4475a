package dev.vertebra.data.synth;

import dev.vertebra.core.Generator;
import dev.vertebra.data.codec.JpegLosslessEncoder;
import dev.vertebra.data.dicom.DicomWriter;
import dev.vertebra.data.dicom.Tags;
import dev.vertebra.data.nifti.Nifti;
import dev.vertebra.data.nifti.NiftiImage;
import dev.vertebra.data.nifti.NiftiType;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes one phantom as an axial CT series of DICOM files and its segmentation as NIfTI (what
 * {@link SyntheticDataset} does per study; public so that tests elsewhere can write a study with known truth).
 *
 * <pre>{@code
 * CervicalPhantom.Volume ct = CervicalPhantom.generate(g, size, fractured);
 * SyntheticStudyWriter.writeSeries(dir, ct, uid, "P1", true, false, g);
 * SyntheticStudyWriter.writeMask(dir.resolve("seg.nii"), ct, true);
 * }</pre>
 */
public final class SyntheticStudyWriter {
    static final String CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2";
    private static final int STORED_OFFSET = 1024;

    private SyntheticStudyWriter() {
    }

    /** A UID under the 2.25 root (a UUID written as a decimal integer), drawn from the generator. */
    public static String uid(Generator g) {
        byte[] bytes = new byte[16];
        long hi = g.nextLong();
        long lo = g.nextLong();
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (hi >>> (56 - 8 * i));
            bytes[8 + i] = (byte) (lo >>> (56 - 8 * i));
        }
        bytes[6] = (byte) ((bytes[6] & 0x0F) | 0x40); // version 4
        bytes[8] = (byte) ((bytes[8] & 0x3F) | 0x80); // IETF variant
        return "2.25." + new BigInteger(1, bytes);
    }

    /**
     * The file number (1-based, as in the file name and InstanceNumber) of phantom slice {@code s} (slice 0 is
     * inferior). Usual studies number from the top down, as most RSNA series do; reversed ones from the bottom.
     */
    public static int fileNumber(int s, int slices, boolean reversed) {
        return reversed ? s + 1 : slices - s;
    }

    /** Writes {@code <dir>/<n>.dcm} for every slice. */
    public static void writeSeries(Path dir, CervicalPhantom.Volume ct, String studyUid, String patientId,
                            boolean reversed, boolean compressed, Generator g) throws IOException {
        Files.createDirectories(dir);
        String seriesUid = uid(g);
        String frameOfReference = uid(g);
        int rows = ct.rows();
        int cols = ct.cols();
        for (int s = 0; s < ct.slices(); s++) {
            int n = fileNumber(s, ct.slices(), reversed);
            short[] stored = new short[rows * cols];
            int[] samples = compressed ? new int[rows * cols] : null;
            for (int i = 0; i < stored.length; i++) {
                int value = ct.hu()[s * rows * cols + i] + STORED_OFFSET;
                stored[i] = (short) value;
                if (samples != null) {
                    samples[i] = value;
                }
            }
            double z = ct.origin()[2] + s * ct.sliceSpacing();
            String sopInstanceUid = uid(g);
            var ds = new DicomWriter.Dataset()
                    .string(Tags.SPECIFIC_CHARACTER_SET, "CS", "ISO_IR 100")
                    .string(0x00080008, "CS", "ORIGINAL\\PRIMARY\\AXIAL")
                    .string(0x00080016, "UI", CT_IMAGE_STORAGE)
                    .string(0x00080018, "UI", sopInstanceUid)
                    .string(0x00080020, "DA", "20220727")
                    .string(0x00080060, "CS", "CT")
                    .string(0x00080070, "LO", "Vertebra phantom")
                    .string(0x00100010, "PN", patientId)
                    .string(0x00100020, "LO", patientId)
                    .decimals(0x00180050, ct.sliceSpacing())
                    .string(0x00180060, "DS", "120")
                    .string(0x0020000D, "UI", studyUid)
                    .string(0x0020000E, "UI", seriesUid)
                    .string(0x00200011, "IS", "1")
                    .string(0x00200013, "IS", Integer.toString(n))
                    .decimals(0x00200032, ct.origin()[0], ct.origin()[1], z)
                    .decimals(0x00200037, 1, 0, 0, 0, 1, 0)
                    .string(0x00200052, "UI", frameOfReference)
                    .decimals(0x00201041, z)
                    .uint16(Tags.SAMPLES_PER_PIXEL, 1)
                    .string(Tags.PHOTOMETRIC_INTERPRETATION, "CS", "MONOCHROME2")
                    .uint16(Tags.ROWS, rows)
                    .uint16(Tags.COLUMNS, cols)
                    .decimals(0x00280030, ct.pixelSpacing(), ct.pixelSpacing())
                    .uint16(Tags.BITS_ALLOCATED, 16)
                    .uint16(Tags.BITS_STORED, 12)
                    .uint16(Tags.HIGH_BIT, 11)
                    .uint16(Tags.PIXEL_REPRESENTATION, 0)
                    .decimals(0x00281050, 400)
                    .decimals(0x00281051, 1800)
                    .decimals(Tags.RESCALE_INTERCEPT, -STORED_OFFSET)
                    .decimals(Tags.RESCALE_SLOPE, 1)
                    .string(0x00281054, "LO", "HU");
            String syntax = DicomWriter.EXPLICIT_VR_LITTLE_ENDIAN;
            if (compressed) {
                ds.encapsulated(List.of(JpegLosslessEncoder.encode(samples, rows, cols, 12)));
                syntax = DicomWriter.JPEG_LOSSLESS_SV1;
            } else {
                ds.pixels16(stored);
            }
            DicomWriter.write(dir.resolve(n + ".dcm"), ds, CT_IMAGE_STORAGE, sopInstanceUid, syntax);
        }
    }

    /**
     * The segmentation as the RSNA files store it: voxel (i, j, k) of the NIfTI array holds the label at column
     * i, row (rows-1-j), and file number (slices-k) of the DICOM series, so i follows the columns, j runs
     * against the rows, and k runs against the file numbering. The affine (RAS) says exactly that, so mapping
     * through affines lands every voxel back on its DICOM voxel.
     */
    public static void writeMask(Path file, CervicalPhantom.Volume ct, boolean reversed) throws IOException {
        int rows = ct.rows();
        int cols = ct.cols();
        int slices = ct.slices();
        byte[] voxels = new byte[cols * rows * slices];
        for (int k = 0; k < slices; k++) {
            int n = slices - k;
            int s = reversed ? n - 1 : slices - n;
            for (int j = 0; j < rows; j++) {
                int r = rows - 1 - j;
                System.arraycopy(ct.labels(), (s * rows + r) * cols, voxels, (k * rows + j) * cols, cols);
            }
        }
        Nifti.write(file, NiftiImage.of(NiftiType.UINT8, new int[] {cols, rows, slices}, voxels,
                maskAffine(ct, reversed)));
    }

    /** Voxel (i, j, k) → RAS mm for {@link #writeMask}'s layout. */
    public static double[][] maskAffine(CervicalPhantom.Volume ct, boolean reversed) {
        double ps = ct.pixelSpacing();
        int slices = ct.slices();
        // Position (LPS) of file number n: phantom slice s = fileToSlice(n), z = origin + s·dz.
        // k = slices - n, so n = slices - k; for a usual study s = k, for a reversed one s = slices - 1 - k.
        double dzPerK = reversed ? -ct.sliceSpacing() : ct.sliceSpacing();
        double z0 = ct.origin()[2] + (reversed ? (slices - 1) * ct.sliceSpacing() : 0);
        double y0 = ct.origin()[1] + (ct.rows() - 1) * ps;
        double[][] lps = {
                {ps, 0, 0, ct.origin()[0]},
                {0, -ps, 0, y0},
                {0, 0, dzPerK, z0},
                {0, 0, 0, 1}};
        // DICOM patient axes are LPS, NIfTI world axes RAS: negate x and y.
        for (int c = 0; c < 4; c++) {
            lps[0][c] = -lps[0][c];
            lps[1][c] = -lps[1][c];
        }
        return lps;
    }
}
