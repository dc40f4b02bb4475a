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
        checkSize(image, h, w, c);
        return apply(image, h, w, c, draw(h, w, c, g));
    }

    /**
     * The random part of one {@link #apply(float[], int, int, int, Generator)} for an [h, w, c] image, taken from
     * {@code g} as that call takes it (g ends where it would): drawing those of a batch in order, then applying them
     * on several threads gives each image the bits of the sequential calls. The noise is not drawn here, only skipped:
     * its generator state is kept and the draws are replayed by {@link #apply(float[], int, int, int, Draw)}.
     *
     * @param noiseState the generator's state where the noise starts, or null without noise
     */
    public record Draw(boolean flipX, boolean flipY, double angle, double zoom, double tx, double ty, double gain,
                       double offset, long[] noiseState) {
    }

    /** Draws one image's augmentation from {@code g}; see {@link Draw}. */
    public Draw draw(int h, int w, int c, Generator g) {
        boolean flipX = g.nextDouble() < flipHorizontal;
        boolean flipY = g.nextDouble() < flipVertical;
        double angle = Math.toRadians(rotateDegrees * (2 * g.nextDouble() - 1));
        double zoom = 1 + scale * (2 * g.nextDouble() - 1);
        double tx = translate * w * (2 * g.nextDouble() - 1);
        double ty = translate * h * (2 * g.nextDouble() - 1);
        double gain = 1 + intensity * (2 * g.nextDouble() - 1);
        double offset = intensity * (2 * g.nextDouble() - 1);
        long[] noiseState = null;
        if (noise > 0) {
            noiseState = g.state();
            for (long i = 0, draws = 2L * h * w * c; i < draws; i++) {
                g.nextLong(); // each Gaussian takes two draws
            }
        }
        return new Draw(flipX, flipY, angle, zoom, tx, ty, gain, offset, noiseState);
    }

    /** Returns an augmented copy of {@code image} ([h, w, c]) with the random choices of {@code d}. */
    public float[] apply(float[] image, int h, int w, int c, Draw d) {
        checkSize(image, h, w, c);
        float[] out = new float[image.length];
        double cos = Math.cos(d.angle()) / d.zoom();
        double sin = Math.sin(d.angle()) / d.zoom();
        double cy = (h - 1) / 2.0;
        double cx = (w - 1) / 2.0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                // Inverse map: where in the source does output (x, y) come from.
                double dx = x - cx - d.tx();
                double dy = y - cy - d.ty();
                double sx = cos * dx + sin * dy + cx;
                double sy = -sin * dx + cos * dy + cy;
                if (d.flipX()) {
                    sx = w - 1 - sx;
                }
                if (d.flipY()) {
                    sy = h - 1 - sy;
                }
                // Bilinear weights once per pixel, then each channel blended in the same order; taps outside the
                // image read as 0, so only the pixels near the border need the checks.
                int x0 = (int) Math.floor(sx);
                int y0 = (int) Math.floor(sy);
                double fx = sx - x0;
                double fy = sy - y0;
                int to = (y * w + x) * c;
                if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
                    int top = (y0 * w + x0) * c;
                    int bottom = top + w * c;
                    for (int ch = 0; ch < c; ch++) {
                        double v = blend(image[top + ch], image[top + c + ch], image[bottom + ch],
                                image[bottom + c + ch], fx, fy);
                        out[to + ch] = (float) (v * d.gain() + d.offset());
                    }
                } else {
                    for (int ch = 0; ch < c; ch++) {
                        double v = blend(at(image, h, w, c, y0, x0, ch), at(image, h, w, c, y0, x0 + 1, ch),
                                at(image, h, w, c, y0 + 1, x0, ch), at(image, h, w, c, y0 + 1, x0 + 1, ch), fx, fy);
                        out[to + ch] = (float) (v * d.gain() + d.offset());
                    }
                }
            }
        }
        if (d.noiseState() != null) {
            Generator g = new Generator(0);
            g.setState(d.noiseState());
            for (int i = 0; i < out.length; i++) {
                out[i] += (float) (noise * g.nextGaussian());
            }
        }
        return out;
    }

    private static void checkSize(float[] image, int h, int w, int c) {
        if ((long) h * w * c != image.length) {
            throw new IllegalArgumentException("image of " + image.length + " values is not " + h + "x" + w + "x" + c);
        }
    }

    /** Bilinear blend of the taps top-left, top-right, bottom-left, bottom-right at fractions fx, fy. */
    private static double blend(double topLeft, double topRight, double bottomLeft, double bottomRight, double fx,
                                double fy) {
        return (1 - fy) * ((1 - fx) * topLeft + fx * topRight) + fy * ((1 - fx) * bottomLeft + fx * bottomRight);
    }

    private static double at(float[] img, int h, int w, int c, int y, int x, int ch) {
        return y < 0 || x < 0 || y >= h || x >= w ? 0 : img[(y * w + x) * c + ch];
    }
}
