package dev.vertebra.data.volume;

import dev.vertebra.core.Generator;

/**
 * Random augmentations of one [H, W, C] image (interleaved channels), each drawn from the caller's generator:
 * horizontal/vertical flips, a small affine (rotation, scale, translation about the centre, bilinear, zeros
 * outside), an intensity scale and shift, and Gaussian noise. The same generator state gives the same result.
 *
 * <pre>{@code
 * Augment aug = Augment.DEFAULT;
 * float[] out = aug.apply(stack, 128, 128, 3, generator);
 * }</pre>
 *
 * @param flipHorizontal probability of mirroring columns
 * @param flipVertical   probability of mirroring rows
 * @param rotateDegrees  rotation drawn uniformly in ±this
 * @param scale          scale drawn uniformly in 1 ± this
 * @param translate      shift drawn uniformly in ± this fraction of the size
 * @param intensity      multiply by 1 ± this, then add ± this
 * @param noise          Gaussian noise standard deviation
 */
public record Augment(double flipHorizontal, double flipVertical, double rotateDegrees, double scale,
                      double translate, double intensity, double noise) {
    /** Modest settings for CT slices in [0, 1]. */
    public static final Augment DEFAULT = new Augment(0.5, 0, 10, 0.1, 0.05, 0.1, 0.02);
    /** Leaves images as they are. */
    public static final Augment NONE = new Augment(0, 0, 0, 0, 0, 0, 0);

    /** Returns an augmented copy of {@code image} ([h, w, c]). */
    public float[] apply(float[] image, int h, int w, int c, Generator g) {
        if ((long) h * w * c != image.length) {
            throw new IllegalArgumentException("image of " + image.length + " values is not " + h + "x" + w + "x" + c);
        }
        boolean flipX = g.nextDouble() < flipHorizontal;
        boolean flipY = g.nextDouble() < flipVertical;
        double angle = Math.toRadians(rotateDegrees * (2 * g.nextDouble() - 1));
        double zoom = 1 + scale * (2 * g.nextDouble() - 1);
        double tx = translate * w * (2 * g.nextDouble() - 1);
        double ty = translate * h * (2 * g.nextDouble() - 1);
        double gain = 1 + intensity * (2 * g.nextDouble() - 1);
        double offset = intensity * (2 * g.nextDouble() - 1);
        float[] out = new float[image.length];
        double cos = Math.cos(angle) / zoom;
        double sin = Math.sin(angle) / zoom;
        double cy = (h - 1) / 2.0;
        double cx = (w - 1) / 2.0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                // Inverse map: where in the source does output (x, y) come from.
                double dx = x - cx - tx;
                double dy = y - cy - ty;
                double sx = cos * dx + sin * dy + cx;
                double sy = -sin * dx + cos * dy + cy;
                if (flipX) {
                    sx = w - 1 - sx;
                }
                if (flipY) {
                    sy = h - 1 - sy;
                }
                for (int ch = 0; ch < c; ch++) {
                    out[(y * w + x) * c + ch] = (float) (bilinear(image, h, w, c, sy, sx, ch) * gain + offset);
                }
            }
        }
        if (noise > 0) {
            for (int i = 0; i < out.length; i++) {
                out[i] += (float) (noise * g.nextGaussian());
            }
        }
        return out;
    }

    private static double bilinear(float[] img, int h, int w, int c, double y, double x, int ch) {
        int x0 = (int) Math.floor(x);
        int y0 = (int) Math.floor(y);
        double fx = x - x0;
        double fy = y - y0;
        return (1 - fy) * ((1 - fx) * at(img, h, w, c, y0, x0, ch) + fx * at(img, h, w, c, y0, x0 + 1, ch))
                + fy * ((1 - fx) * at(img, h, w, c, y0 + 1, x0, ch) + fx * at(img, h, w, c, y0 + 1, x0 + 1, ch));
    }

    private static double at(float[] img, int h, int w, int c, int y, int x, int ch) {
        return y < 0 || x < 0 || y >= h || x >= w ? 0 : img[(y * w + x) * c + ch];
    }
}
