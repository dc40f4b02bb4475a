package dev.vertebra.core.cpu;

/**
 * A per-channel affine map's scale and shift written out over several pixels, for SiLU or the sigmoid over
 * channels-last pixels of few channels: one {@link AffineSilu} call then covers {@code repeats} pixels instead of
 * one. At 32 channels a pixel is two vectors, and B0's stem and first depthwise layer each made a call a pixel,
 * 100 352 a step at batch 8; the calls and the loop's short entry and exit cost as much as the arithmetic
 * (bench/NOTES.md, thirty-third round). Every element meets the same scale and shift values and the same
 * instructions (a run's partial vector under a mask, as a pixel's), so the bits are those of a call per pixel.
 *
 * @param scale    the channels' scales, {@code repeats} times in a row
 * @param shift    the channels' shifts, likewise
 * @param channels floats per pixel
 * @param repeats  pixels per call
 */
record AffineRuns(float[] scale, float[] shift, int channels, int repeats) {
    /** The most floats one call covers: 32 vectors of 16. */
    static final int RUN_FLOATS = 512;

    /**
     * The runs of {@code scale[scaleOff, scaleOff + channels)} and {@code shift[shiftOff, shiftOff + channels)}, or
     * null where one pixel is over half a run (a call a pixel is then cheap enough).
     */
    static AffineRuns of(float[] scale, int scaleOff, float[] shift, int shiftOff, int channels) {
        if (channels < 1 || 2 * channels > RUN_FLOATS) {
            return null;
        }
        int repeats = RUN_FLOATS / channels;
        float[] a = new float[repeats * channels];
        float[] b = new float[repeats * channels];
        for (int r = 0; r < repeats; r++) {
            System.arraycopy(scale, scaleOff, a, r * channels, channels);
            System.arraycopy(shift, shiftOff, b, r * channels, channels);
        }
        return new AffineRuns(a, b, channels, repeats);
    }

    /**
     * y[to + k] = act(x[from + k]·scale[c] + shift[c]) for the {@code pixels · channels} floats from there, c = k mod
     * channels; act is SiLU, or σ with {@code sigmoid}.
     */
    void apply(float[] x, int from, float[] y, int to, int pixels, boolean sigmoid) {
        int run = repeats * channels;
        int end = pixels * channels;
        for (int k = 0; k < end; k += run) {
            AffineSilu.apply(x, from + k, y, to + k, Math.min(run, end - k), scale, 0, shift, 0, sigmoid);
        }
    }
}
