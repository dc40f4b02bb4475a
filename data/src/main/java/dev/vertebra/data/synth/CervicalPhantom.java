package dev.vertebra.data.synth;

import dev.vertebra.core.Generator;

import java.util.ArrayList;
import java.util.List;

/**
 * A synthetic axial CT of the neck: seven cervical vertebrae (C1 ring, C2 with its dens, bodies, posterior
 * arches, spinous processes; a cortical shell over cancellous bone) inside soft tissue and fat, with the airway,
 * surrounded by air, plus noise. Size, position, curvature, intensities and noise vary from phantom to phantom,
 * all drawn from the generator independently of which vertebrae are fractured. A fracture is a thin
 * low-density cleft through the cortex of one vertebra, sometimes with a small displacement of one fragment.
 *
 * <p>Arrays are [slices, rows, cols] with slice 0 the most inferior (z increases upwards), row 0 the most
 * anterior, column 0 at the patient's right — DICOM patient axes (LPS) with an axial orientation.
 *
 * <pre>{@code
 * CervicalPhantom.Volume ct = CervicalPhantom.generate(new Generator(1), PhantomSize.DEMO, new boolean[7]);
 * short hu = ct.hu()[(s * ct.rows() + r) * ct.cols() + c];
 * }</pre>
 */
public final class CervicalPhantom {
    private static final short AIR = -1000;

    private CervicalPhantom() {
    }

    /**
     * Grid sizes a phantom is drawn from.
     *
     * @param rows, cols  in-plane pixels
     * @param minSlices   fewest slices (inclusive)
     * @param maxSlices   most slices (inclusive)
     */
    public record PhantomSize(int rows, int cols, int minSlices, int maxSlices) {
        /** 128 × 128 pixels of about 1 mm, 96 to 128 slices: the demo's default. */
        public static final PhantomSize DEMO = new PhantomSize(128, 128, 96, 128);

        public PhantomSize {
            if (rows < 32 || cols < 32 || minSlices < 32 || maxSlices < minSlices) {
                throw new IllegalArgumentException("phantom size " + rows + "x" + cols + ", slices " + minSlices
                        + ".." + maxSlices);
            }
        }
    }

    /**
     * One phantom.
     *
     * @param hu            Hounsfield units, [slices, rows, cols]
     * @param labels        0 background, 1..7 = C1..C7, same layout
     * @param cleft         true where a fracture cleft or a displaced fragment's gap was drawn, same layout
     * @param pixelSpacing  mm between columns and between rows
     * @param sliceSpacing  mm between slices
     * @param origin        patient position (LPS, mm) of voxel (0, 0, 0)
     * @param fractured     C1..C7 fracture flags
     */
    public record Volume(int slices, int rows, int cols, short[] hu, byte[] labels, boolean[] cleft,
                         double pixelSpacing, double sliceSpacing, double[] origin, boolean[] fractured) {
    }

    /** Draws one phantom; {@code fractured} flags C1..C7. */
    public static Volume generate(Generator g, PhantomSize size, boolean[] fractured) {
        int rows = size.rows();
        int cols = size.cols();
        int slices = size.minSlices() + g.nextInt(size.maxSlices() - size.minSlices() + 1);
        double ps = uniform(g, 0.8, 1.0);
        double dz = uniform(g, 0.9, 1.1);
        double height = slices * dz;
        double level = Math.min(uniform(g, 12, 14.5), (height - 8) / 7.6);
        double spineSpan = 7.6 * level;
        double zBottom = uniform(g, 2, Math.max(2.5, height - spineSpan - 2));
        double zTop = zBottom + spineSpan;
        double fovX = cols * ps;
        double fovY = rows * ps;
        double spineX = fovX / 2 + uniform(g, -5, 5);
        double spineY = fovY / 2 + uniform(g, 2, 10);
        double lateralCurve = uniform(g, -3, 3);
        double lordosis = uniform(g, 2, 8);
        double scale = uniform(g, 0.85, 1.15);
        double neckRx = Math.min(fovX / 2 - 4, uniform(g, 42, 55) * scale);
        double neckRy = Math.min(fovY / 2 - 4, uniform(g, 38, 50) * scale);
        double cortical = uniform(g, 1000, 1500);
        double cancellous = uniform(g, 200, 400);
        double shell = uniform(g, 1.1, 1.8);
        double soft = uniform(g, 30, 55);
        double fat = uniform(g, -110, -80);
        double noise = uniform(g, 12, 28);

        List<Vertebra> vertebrae = new ArrayList<>();
        for (int v = 0; v < 7; v++) {
            double grow = scale * (0.9 + 0.035 * v) * uniform(g, 0.95, 1.05);
            double zc = zTop - (v + 0.5) * level - (v == 0 ? 0 : 0.6 * level);
            vertebrae.add(new Vertebra(v, zc, level, grow, uniform(g, 6.5, 8) * grow, uniform(g, 5.5, 7) * grow,
                    uniform(g, 6.5, 7.5) * scale, uniform(g, 2.6, 3.6) * grow, 4 + 0.8 * v + uniform(g, 0, 2), shell,
                    fractured[v] ? Fracture.draw(g, v) : null));
        }
        double zMid = (zTop + zBottom) / 2;
        short[] hu = new short[slices * rows * cols];
        byte[] labels = new byte[hu.length];
        boolean[] cleft = new boolean[hu.length];
        double[] p = new double[3];
        for (int s = 0; s < slices; s++) {
            double z = (s + 0.5) * dz;
            double u = Math.clamp((z - zMid) / (spineSpan / 2), -1.5, 1.5);
            double cx = spineX + lateralCurve * Math.sin(u * Math.PI / 2);
            double cy = spineY + lordosis * (u * u - 1);
            List<Vertebra> here = vertebrae.stream().filter(vb -> Math.abs(z - vb.zc) < vb.level).toList();
            for (int r = 0; r < rows; r++) {
                double y = (r + 0.5) * ps;
                for (int c = 0; c < cols; c++) {
                    double x = (c + 0.5) * ps;
                    int at = (s * rows + r) * cols + c;
                    double nx = (x - spineX) / neckRx;
                    double ny = (y - (spineY - 6)) / neckRy;
                    double rr = nx * nx + ny * ny;
                    double value = AIR;
                    if (rr < 1) {
                        value = rr > 0.78 ? fat : soft;
                        double ax = (x - cx) / 7.5;
                        double ay = (y - (cy - 24 * scale)) / 6.5;
                        if (ax * ax + ay * ay < 1) {
                            value = AIR;
                        }
                        p[0] = x - cx;
                        p[1] = y - cy;
                        p[2] = z;
                        for (Vertebra vb : here) {
                            Hit hit = vb.sample(p);
                            if (hit != Hit.OUTSIDE) {
                                labels[at] = (byte) (vb.index + 1);
                                cleft[at] = hit == Hit.CLEFT;
                                value = switch (hit) {
                                    case CORTEX -> cortical;
                                    case CANCELLOUS -> cancellous;
                                    case CLEFT -> vb.fracture.density;
                                    case OUTSIDE -> value;
                                };
                                break;
                            }
                        }
                    }
                    double noisy = value + noise * g.nextGaussian();
                    hu[at] = (short) Math.clamp(Math.round(noisy), -1024, 3071);
                }
            }
        }
        return new Volume(slices, rows, cols, hu, labels, cleft, ps, dz, new double[] {-fovX / 2, -fovY / 2, -height},
                fractured.clone());
    }

    private static double uniform(Generator g, double lo, double hi) {
        return lo + (hi - lo) * g.nextDouble();
    }

    enum Hit { OUTSIDE, CORTEX, CANCELLOUS, CLEFT }

    /** A fracture: a cleft of some width through a plane near the body or arch, maybe displacing a fragment. */
    record Fracture(double[] point, double[] normal, double width, double radius, double[] shift, double density) {
        static Fracture draw(Generator g, int v) {
            boolean arch = v == 0 || g.nextDouble() < 0.3;
            double[] point = arch
                    ? new double[] {uniform(g, -8, 8), uniform(g, 10, 16), 0}
                    : new double[] {uniform(g, -4, 4), uniform(g, -3, 3), uniform(g, -2, 2)};
            double theta = uniform(g, 0, Math.PI);
            double tilt = uniform(g, -1.2, 1.2);
            double[] normal = {Math.cos(theta) * Math.cos(tilt), Math.sin(theta) * Math.cos(tilt), Math.sin(tilt)};
            double[] shift = new double[3];
            if (g.nextDouble() < 0.5) {
                double amount = uniform(g, 0.8, 2.0);
                shift = new double[] {normal[0] * amount, normal[1] * amount, normal[2] * amount};
            }
            return new Fracture(point, normal, uniform(g, 0.9, 1.6), uniform(g, 7, 12), shift, uniform(g, 20, 120));
        }
    }

    /** One vertebra in coordinates centred on the spinal axis at its level (mm; y posterior, z up). */
    static final class Vertebra {
        final int index;
        final double zc;
        final double level;
        final double bodyRx;
        final double bodyRy;
        final double canal;
        final double arch;
        final double spinous;
        final double scale;
        final double shell;
        final Fracture fracture;

        Vertebra(int index, double zc, double level, double scale, double bodyRx, double bodyRy, double canal,
                 double arch, double spinous, double shell, Fracture fracture) {
            this.index = index;
            this.zc = zc;
            this.level = level;
            this.scale = scale;
            this.bodyRx = bodyRx;
            this.bodyRy = bodyRy;
            this.canal = canal;
            this.arch = arch;
            this.spinous = spinous;
            this.shell = shell;
            this.fracture = fracture;
        }

        Hit sample(double[] p) {
            double x = p[0];
            double y = p[1];
            double z = p[2] - zc;
            if (fracture != null) {
                double fx = x - fracture.point[0];
                double fy = y - (fracture.point[1] * scale);
                double fz = z - fracture.point[2];
                double distance = fx * fracture.normal[0] + fy * fracture.normal[1] + fz * fracture.normal[2];
                boolean near = fx * fx + fy * fy + fz * fz < fracture.radius * fracture.radius;
                if (near && distance > 0) {
                    // The fragment beyond the plane moves along the normal; the gap it leaves is the cleft.
                    x -= fracture.shift[0];
                    y -= fracture.shift[1];
                    z -= fracture.shift[2];
                }
                double depth = depth(x, y, z);
                if (depth > 0 && near && Math.abs(distance) < fracture.width / 2) {
                    return Hit.CLEFT;
                }
                if (near && distance > 0 && depth <= 0 && depth(p[0], p[1], p[2] - zc) > 0) {
                    return Hit.CLEFT;
                }
                return depth <= 0 ? Hit.OUTSIDE : depth < shell ? Hit.CORTEX : Hit.CANCELLOUS;
            }
            double depth = depth(x, y, z);
            return depth <= 0 ? Hit.OUTSIDE : depth < shell ? Hit.CORTEX : Hit.CANCELLOUS;
        }

        /** How far (mm, approximately) a point lies inside the bone; ≤ 0 outside. */
        double depth(double x, double y, double z) {
            double best = -1;
            double bodyHalf = 0.36 * level;
            if (index == 0) {
                // C1 has no body: a slim anterior arch in front of the dens.
                double ax = x / (bodyRx * 0.6);
                double ay = (y + bodyRy * 0.9) / (bodyRy * 0.35);
                double r = Math.sqrt(ax * ax + ay * ay);
                best = Math.max(best, Math.min((1 - r) * bodyRy * 0.35, 0.25 * level - Math.abs(z)));
            } else {
                double ax = x / bodyRx;
                double ay = y / bodyRy;
                double r = Math.sqrt(ax * ax + ay * ay);
                best = Math.max(best, Math.min((1 - r) * Math.min(bodyRx, bodyRy), bodyHalf - Math.abs(z)));
                if (index == 1) {
                    // The dens rises from C2's body into the ring of C1.
                    double rho = Math.sqrt(x * x + (y + bodyRy * 0.1) * (y + bodyRy * 0.1));
                    double radius = 0.55 * bodyRy;
                    best = Math.max(best, Math.min(radius - rho, Math.min(z - bodyHalf + 1, 1.4 * level - z)));
                }
            }
            double canalY = bodyRy + canal * 0.95;
            double rho = Math.sqrt(x * x + (y - canalY) * (y - canalY));
            double archHalf = (index == 0 ? 0.25 : 0.3) * level;
            if (y > 0) {
                best = Math.max(best, Math.min(Math.min(rho - canal, canal + arch - rho), archHalf - Math.abs(z)));
            }
            double spineStart = canalY + canal + arch * 0.5;
            double halfWidth = 1.6 * scale;
            best = Math.max(best, Math.min(Math.min(halfWidth - Math.abs(x), Math.min(y - spineStart + 2,
                    spineStart + spinous - y)), 0.2 * level - Math.abs(z + 0.15 * (y - spineStart))));
            return best;
        }
    }
}
