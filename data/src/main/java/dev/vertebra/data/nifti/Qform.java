package dev.vertebra.data.nifti;

/** Conversions between a rotation-plus-spacing affine and the NIfTI-1 quaternion representation (qform). */
final class Qform {

    private Qform() {
    }

    /** Quaternion (b, c, d), qfac (±1) and voxel spacing of an affine with orthogonal columns. */
    record Fields(double b, double c, double d, double qfac, double[] spacing) {
    }

    static Fields fromAffine(double[][] m) {
        double[][] r = new double[3][3];
        double[] spacing = new double[3];
        for (int c = 0; c < 3; c++) {
            spacing[c] = Math.sqrt(m[0][c] * m[0][c] + m[1][c] * m[1][c] + m[2][c] * m[2][c]);
            if (spacing[c] == 0) {
                throw new IllegalArgumentException("affine column " + c + " is zero");
            }
            for (int row = 0; row < 3; row++) {
                r[row][c] = m[row][c] / spacing[c];
            }
        }
        double det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1])
                - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0])
                + r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
        double qfac = 1;
        if (det < 0) {
            // A left-handed grid: the qform stores it as a rotation with the third axis negated (qfac = -1).
            qfac = -1;
            for (int row = 0; row < 3; row++) {
                r[row][2] = -r[row][2];
            }
        }
        double a = r[0][0] + r[1][1] + r[2][2] + 1;
        double b;
        double c;
        double d;
        if (a > 0.5) {
            a = 0.5 * Math.sqrt(a);
            b = 0.25 * (r[2][1] - r[1][2]) / a;
            c = 0.25 * (r[0][2] - r[2][0]) / a;
            d = 0.25 * (r[1][0] - r[0][1]) / a;
        } else {
            double xd = 1 + r[0][0] - (r[1][1] + r[2][2]);
            double yd = 1 + r[1][1] - (r[0][0] + r[2][2]);
            double zd = 1 + r[2][2] - (r[0][0] + r[1][1]);
            if (xd > 1) {
                b = 0.5 * Math.sqrt(xd);
                c = 0.25 * (r[0][1] + r[1][0]) / b;
                d = 0.25 * (r[0][2] + r[2][0]) / b;
                a = 0.25 * (r[2][1] - r[1][2]) / b;
            } else if (yd > 1) {
                c = 0.5 * Math.sqrt(yd);
                b = 0.25 * (r[0][1] + r[1][0]) / c;
                d = 0.25 * (r[1][2] + r[2][1]) / c;
                a = 0.25 * (r[0][2] - r[2][0]) / c;
            } else {
                d = 0.5 * Math.sqrt(zd);
                b = 0.25 * (r[0][2] + r[2][0]) / d;
                c = 0.25 * (r[1][2] + r[2][1]) / d;
                a = 0.25 * (r[1][0] - r[0][1]) / d;
            }
            if (a < 0) {
                b = -b;
                c = -c;
                d = -d;
            }
        }
        return new Fields(b, c, d, qfac, spacing);
    }

    static double[][] toAffine(double b, double c, double d, float[] qoffset, float[] pixdim) {
        double a = 1 - (b * b + c * c + d * d);
        if (a < 1e-7) {
            // The quaternion is a 180° rotation; renormalise (b, c, d) as the reference implementation does.
            double n = 1 / Math.sqrt(b * b + c * c + d * d);
            b *= n;
            c *= n;
            d *= n;
            a = 0;
        } else {
            a = Math.sqrt(a);
        }
        double qfac = pixdim[0] < 0 ? -1 : 1;
        double[] s = {pixdim[1], pixdim[2], qfac * pixdim[3]};
        double[][] r = {
                {a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)},
                {2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)},
                {2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b}};
        double[][] m = new double[4][4];
        for (int row = 0; row < 3; row++) {
            for (int col = 0; col < 3; col++) {
                m[row][col] = r[row][col] * s[col];
            }
            m[row][3] = qoffset[row];
        }
        m[3][3] = 1;
        return m;
    }
}
