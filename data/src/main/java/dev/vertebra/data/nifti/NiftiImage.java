package dev.vertebra.data.nifti;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A NIfTI-1 image in memory: the header fields that give meaning to the voxels, and the voxels in their stored
 * datatype and byte order. Voxel {@code (i, j, k)} of a 3-D image is element {@code i + nx·(j + ny·k)}
 * (i fastest, as in the file).
 *
 * <pre>{@code
 * NiftiImage seg = Nifti.read(Path.of("segmentations/1.2.3.nii"));
 * int[] dims = seg.dims();               // {nx, ny, nz}
 * double label = seg.value(i + dims[0] * (j + dims[1] * k));
 * double[][] voxelToRas = seg.affine();  // sform if set, else qform
 * }</pre>
 *
 * @param type       voxel datatype
 * @param dims       the used dimensions (dim[1..dim[0]])
 * @param pixdim     pixdim[0..7]; pixdim[0] is qfac
 * @param sclSlope   scaling slope; 0 or NaN mean none (as the standard says)
 * @param sclInter   scaling intercept
 * @param qformCode  qform_code
 * @param sformCode  sform_code
 * @param quatern    quatern_b, c, d
 * @param qoffset    qoffset_x, y, z
 * @param srow       srow_x, srow_y, srow_z: rows of the sform, 3×4
 * @param xyztUnits  xyzt_units
 * @param description descrip (at most 79 characters)
 * @param data       the voxels, positioned at 0, in the file's byte order
 */
public record NiftiImage(NiftiType type, int[] dims, float[] pixdim, float sclSlope, float sclInter,
                         int qformCode, int sformCode, float[] quatern, float[] qoffset, float[][] srow,
                         int xyztUnits, String description, ByteBuffer data) {

    /** NIFTI_XFORM_SCANNER_ANAT. */
    public static final int XFORM_SCANNER = 1;
    /** Millimetres and seconds. */
    public static final int UNITS_MM_SEC = 2 | 8;

    public NiftiImage {
        dims = dims.clone();
        pixdim = pixdim.clone();
        quatern = quatern.clone();
        qoffset = qoffset.clone();
        srow = new float[][] {srow[0].clone(), srow[1].clone(), srow[2].clone()};
        if (dims.length < 1 || dims.length > 7 || pixdim.length != 8) {
            throw new IllegalArgumentException("dims " + Arrays.toString(dims) + ", pixdim of " + pixdim.length);
        }
        if (voxelCount(dims) * type.bytes() != data.remaining()) {
            throw new IllegalArgumentException("dims " + Arrays.toString(dims) + " of " + type + " need "
                    + voxelCount(dims) * type.bytes() + " bytes, data has " + data.remaining());
        }
    }

    /**
     * A 3-D image whose qform and sform both hold {@code affine} (voxel → RAS mm, scanner coordinates).
     *
     * @param voxels a byte[], short[], int[], float[] or double[] matching {@code type}, i fastest
     * @param affine 4×4 (or 3×4) voxel-to-world matrix; its columns must be orthogonal for the qform
     */
    public static NiftiImage of(NiftiType type, int[] dims, Object voxels, double[][] affine) {
        long count = voxelCount(dims);
        ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(count * type.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        switch (voxels) {
            case byte[] b when type.bytes() == 1 && b.length == count -> buffer.put(b);
            case short[] s when type.bytes() == 2 && s.length == count -> buffer.asShortBuffer().put(s);
            case int[] v when type.bytes() == 4 && type != NiftiType.FLOAT32 && v.length == count ->
                    buffer.asIntBuffer().put(v);
            case float[] f when type == NiftiType.FLOAT32 && f.length == count -> buffer.asFloatBuffer().put(f);
            case double[] d when type == NiftiType.FLOAT64 && d.length == count -> buffer.asDoubleBuffer().put(d);
            default -> throw new IllegalArgumentException("voxels " + voxels.getClass().getSimpleName()
                    + " do not match " + type + " " + Arrays.toString(dims));
        }
        buffer.clear();
        Qform.Fields q = Qform.fromAffine(affine);
        float[] pixdim = new float[8];
        pixdim[0] = (float) q.qfac();
        for (int d = 0; d < Math.min(3, dims.length); d++) {
            pixdim[d + 1] = (float) q.spacing()[d];
        }
        for (int d = 3; d < dims.length; d++) {
            pixdim[d + 1] = 1;
        }
        float[][] srow = new float[3][4];
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 4; c++) {
                srow[r][c] = (float) affine[r][c];
            }
        }
        return new NiftiImage(type, dims, pixdim, 1, 0, XFORM_SCANNER, XFORM_SCANNER,
                new float[] {(float) q.b(), (float) q.c(), (float) q.d()},
                new float[] {(float) affine[0][3], (float) affine[1][3], (float) affine[2][3]}, srow,
                UNITS_MM_SEC, "", buffer);
    }

    static long voxelCount(int[] dims) {
        long n = 1;
        for (int d : dims) {
            if (d < 1) {
                throw new IllegalArgumentException("dimension " + d + " in " + Arrays.toString(dims));
            }
            n *= d;
        }
        return n;
    }

    @Override
    public int[] dims() {
        return dims.clone();
    }

    @Override
    public float[] pixdim() {
        return pixdim.clone();
    }

    /** The data buffer, a fresh read-only view positioned at 0. */
    @Override
    public ByteBuffer data() {
        return data.asReadOnlyBuffer().order(data.order());
    }

    /** Number of voxels. */
    public int voxelCount() {
        return data.remaining() / type.bytes();
    }

    /** The stored value of voxel {@code index}, unscaled (unsigned types read unsigned). */
    public double value(int index) {
        int at = index * type.bytes();
        return switch (type) {
            case UINT8 -> data.get(at) & 0xFF;
            case INT8 -> data.get(at);
            case INT16 -> data.getShort(at);
            case UINT16 -> data.getShort(at) & 0xFFFF;
            case INT32 -> data.getInt(at);
            case UINT32 -> Integer.toUnsignedLong(data.getInt(at));
            case INT64 -> data.getLong(at);
            case FLOAT32 -> data.getFloat(at);
            case FLOAT64 -> data.getDouble(at);
        };
    }

    /** True when scl_slope asks for scaling (neither 0 nor NaN, and not the identity). */
    public boolean isScaled() {
        return sclSlope != 0 && !Float.isNaN(sclSlope) && (sclSlope != 1 || sclInter != 0);
    }

    /** Every voxel as {@code value · scl_slope + scl_inter} (or unscaled when the header asks for none). */
    public float[] toFloats() {
        float[] out = new float[voxelCount()];
        boolean scaled = isScaled();
        for (int i = 0; i < out.length; i++) {
            double v = value(i);
            out[i] = (float) (scaled ? v * sclSlope + sclInter : v);
        }
        return out;
    }

    /** The qform matrix (voxel → world, 4×4), built from the quaternion, qoffset, pixdim and qfac. */
    public double[][] qformAffine() {
        return Qform.toAffine(quatern[0], quatern[1], quatern[2], qoffset, pixdim);
    }

    /** The sform matrix (voxel → world, 4×4). */
    public double[][] sformAffine() {
        double[][] m = new double[4][4];
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 4; c++) {
                m[r][c] = srow[r][c];
            }
        }
        m[3][3] = 1;
        return m;
    }

    /**
     * The voxel → world (RAS, mm) matrix: the sform when sform_code is set, else the qform when qform_code is
     * set (nibabel's choice). An image with neither has no defined position, and asking is an error.
     */
    public double[][] affine() {
        if (sformCode > 0) {
            return sformAffine();
        }
        if (qformCode > 0) {
            return qformAffine();
        }
        throw new IllegalStateException("NIfTI image has neither sform nor qform (both codes are 0)");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NiftiImage n && type == n.type && Arrays.equals(dims, n.dims)
                && Arrays.equals(pixdim, n.pixdim) && data().equals(n.data());
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return "NiftiImage[" + type + " " + Arrays.toString(dims) + "]";
    }
}
