package dev.vertebra.data.volume;

import dev.vertebra.core.Generator;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class VolumeOpsTest {

    /** A volume whose HU is a linear function of position: trilinear resampling must reproduce it exactly. */
    static CtVolume linear(int slices, int rows, int cols) {
        float[] hu = new float[slices * rows * cols];
        for (int s = 0; s < slices; s++) {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    hu[(s * rows + r) * cols + c] = 3 * c + 5 * r - 7 * s;
                }
            }
        }
        double[][] affine = {{0.5, 0, 0, 0}, {0, 0.5, 0, 0}, {0, 0, 2, 0}, {0, 0, 0, 1}};
        int[] instances = new int[slices];
        for (int s = 0; s < slices; s++) {
            instances[s] = s + 1;
        }
        return new CtVolume(slices, rows, cols, hu, new double[] {0.5, 0.5, 2}, affine, List.of(), instances,
                new SeriesReport(false, 0, List.of(), 0, 0, "1.2"));
    }

    @Test
    void trilinearReproducesLinearFields() {
        CtVolume v = linear(5, 9, 11);
        CtVolume r = Resample.toSpacing(v, 1, 1, 1);
        assertEquals(9, r.slices());
        assertEquals(5, r.rows());
        assertEquals(6, r.cols());
        for (int s = 0; s < r.slices(); s++) {
            for (int y = 0; y < r.rows(); y++) {
                for (int c = 0; c < r.cols(); c++) {
                    // Output voxel (c, y, s) sits at source index (2c, 2y, s/2).
                    assertEquals(3 * 2 * c + 5 * 2 * y - 7 * s / 2.0, r.hu()[r.index(s, y, c)], 1e-4);
                }
            }
        }
        assertArrayEquals(v.toPatient(10, 8, 4), r.toPatient(5, 4, 8), 1e-9, "same extent");
    }

    @Test
    void windowsMapToUnitRange() {
        assertEquals(0f, Window.BONE.apply(-500f));
        assertEquals(0.5f, Window.BONE.apply(400f));
        assertEquals(1f, Window.BONE.apply(1300f));
        assertEquals(1f, Window.BONE.apply(3000f));
        float[] two = Window.stackChannels(new float[] {40, 400}, Window.BONE, Window.SOFT_TISSUE);
        assertArrayEquals(new float[] {0.3f, 0.5f, 0.5f, 1f}, two, 1e-6f);
    }

    @Test
    void stacksTakeAdjacentSlicesClampedAtTheEnds() {
        CtVolume v = linear(4, 2, 3);
        Tensor batch = Stacks.batch(v.hu(), 4, 2, 3, new int[] {0, 2}, 3);
        assertArrayEquals(new int[] {2, 2, 3, 3}, batch.shape().dims());
        float[] data = batch.toFloatArray();
        // Sample 0, pixel (r=1, c=2): slices {0, 0, 1}.
        int pixel = (1 * 3 + 2) * 3;
        assertEquals(3 * 2 + 5, data[pixel], 0f);
        assertEquals(3 * 2 + 5, data[pixel + 1], 0f);
        assertEquals(3 * 2 + 5 - 7, data[pixel + 2], 0f);
        // Sample 1: slices {1, 2, 3}.
        int base = 2 * 3 * 3;
        assertEquals(-7, data[base], 0f);
        assertEquals(-21, data[base + 2], 0f);
    }

    @Test
    void augmentationIsReproducibleAndNoneIsIdentity() {
        float[] img = new float[16 * 12 * 2];
        for (int i = 0; i < img.length; i++) {
            img[i] = (i % 7) / 7f;
        }
        assertArrayEquals(img, Augment.NONE.apply(img, 16, 12, 2, new Generator(1)), 1e-6f);
        float[] a = Augment.DEFAULT.apply(img, 16, 12, 2, new Generator(5));
        float[] b = Augment.DEFAULT.apply(img, 16, 12, 2, new Generator(5));
        assertArrayEquals(a, b);
        var flip = new Augment(1, 0, 0, 0, 0, 0, 0);
        float[] mirrored = flip.apply(img, 16, 12, 2, new Generator(1));
        assertEquals(img[(3 * 12 + 11) * 2 + 1], mirrored[(3 * 12) * 2 + 1], 1e-6f);
    }

    @Test
    void drawsTakenInOrderThenAppliedInAnyOrderGiveTheSequentialImages() {
        Augment aug = new Augment(0.5, 0.5, 8, 0.08, 0.04, 0.05, 0.01);
        float[][] images = new float[6][16 * 12 * 3];
        Generator pixels = new Generator(3);
        for (float[] image : images) {
            for (int i = 0; i < image.length; i++) {
                image[i] = (float) pixels.nextDouble();
            }
        }
        Generator sequential = new Generator(9);
        float[][] want = new float[images.length][];
        for (int i = 0; i < images.length; i++) {
            want[i] = aug.apply(images[i], 16, 12, 3, sequential);
        }
        Generator drawing = new Generator(9);
        Augment.Draw[] draws = new Augment.Draw[images.length];
        for (int i = 0; i < images.length; i++) {
            draws[i] = aug.draw(16, 12, 3, drawing);
        }
        assertArrayEquals(sequential.state(), drawing.state(), "the generator ends where sequential calls leave it");
        for (int i = images.length - 1; i >= 0; i--) { // backwards: no draw depends on the ones applied before it
            assertArrayEquals(want[i], aug.apply(images[i], 16, 12, 3, draws[i]), 0f, "image " + i);
        }
        assertFalse(java.util.Arrays.equals(want[0], aug.apply(images[0], 16, 12, 3, draws[1])),
                "another image's draws give another image");
    }
    @Test
    void noiseIsGaussianWithTheRequestedSpreadAndNewForEachImage() {
        double sigma = 0.02;
        Augment noiseOnly = new Augment(0, 0, 0, 0, 0, 0, sigma);
        float[] flat = new float[64 * 64 * 3];
        java.util.Arrays.fill(flat, 0.5f);
        Generator g = new Generator(11);
        double[] first = standardised(noiseOnly.apply(flat, 64, 64, 3, g), sigma);
        double[] second = standardised(noiseOnly.apply(flat, 64, 64, 3, g), sigma);
        int n = first.length;
        double mean = 0;
        double square = 0;
        double product = 0;
        int[] within = new int[3];
        for (int i = 0; i < n; i++) {
            mean += first[i] / n;
            square += first[i] * first[i] / n;
            product += first[i] * second[i] / n;
            for (int k = 0; k < 3; k++) {
                within[k] += Math.abs(first[i]) < k + 1 ? 1 : 0;
            }
        }
        // Bounds of four standard errors around the standard normal's values.
        assertEquals(0, mean, 4 / Math.sqrt(n), "mean");
        assertEquals(1, Math.sqrt(square - mean * mean), 4 / Math.sqrt(2.0 * n), "standard deviation");
        double[] normal = {0.682689, 0.954500, 0.997300};
        for (int k = 0; k < 3; k++) {
            double p = normal[k];
            assertEquals(p, within[k] / (double) n, 4 * Math.sqrt(p * (1 - p) / n), "share within " + (k + 1) + " σ");
        }
        assertEquals(0, product, 4 / Math.sqrt(n), "two images draw independent noise");
    }

    /** (out − 0.5) / sigma: the noise added to a flat image of 0.5, in standard deviations. */
    private static double[] standardised(float[] out, double sigma) {
        double[] z = new double[out.length];
        for (int i = 0; i < out.length; i++) {
            z[i] = (out[i] - 0.5) / sigma;
        }
        return z;
    }
}
