package dev.vertebra.core.cpu;

import dev.vertebra.core.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * What a convolution kernel does to each finished block of its channels-last output before moving on, while the
 * block is still in cache: {@code y = activation(y·scale[c] + shift[c])} in place (or from a scratch block into
 * y), c the output channel. One fused multiply-add per element, then the activation; evaluation-mode batch norm and
 * SiLU thus cost no pass over memory of their own. The block should be small and just computed: a tile re-read
 * after it was written stalls on lines still being written back.
 *
 * <p>Each activation has its own loop; SiLU and the sigmoid share {@link AffineSilu}'s, which calls only
 * {@link VectorExp#expOfNegatedForSilu} and the Vector API, which C2 inlines whole, so no vector is boxed (see
 * {@link FloatExpKernels}). A row's last partial vector goes through the same instructions under a mask, so an
 * element's value does not depend on where its row is cut.
 *
 * <p>With an addend (a residual connection's input, laid out as the output), each finished element gets its addend
 * element added after the affine map: {@code y[k] = y[k]·scale[c] + shift[c] + addend[k + addendShift]}, the bits of
 * the affine map's output plus the addend as a separate addition gives them. Only without an activation (a
 * projection's batch norm, before the skip connection).
 *
 * @param scale       [Cout] from scaleOff
 * @param shift       [Cout] from shiftOff
 * @param activation  applied after the affine map
 * @param addend      null, or added to each element: the one at {@code dst[k]} gets {@code addend[k + addendShift]}
 * @param addendShift where the addend's element of {@code dst[0]} is
 * @param runs        SiLU's or the sigmoid's scale and shift over several pixels, for blocks of whole contiguous
 *                    pixels ({@link #withRuns}); null for none
 */
record ChannelEpilogue(float[] scale, int scaleOff, float[] shift, int shiftOff, Activation activation, float[] addend,
                       int addendShift, AffineRuns runs) {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    ChannelEpilogue {
        if (addend != null && activation != Activation.NONE) {
            throw new IllegalArgumentException("an epilogue adds an addend only without an activation, not after "
                    + activation);
        }
    }

    /** The affine map and activation alone, no addend. */
    ChannelEpilogue(float[] scale, int scaleOff, float[] shift, int shiftOff, Activation activation) {
        this(scale, scaleOff, shift, shiftOff, activation, null, 0, null);
    }

    /** This affine map with {@code addend} added after it: {@code dst[k]} gets {@code addend[k + addendShift]}. */
    ChannelEpilogue withAddend(float[] addend, int addendShift) {
        return new ChannelEpilogue(scale, scaleOff, shift, shiftOff, activation, addend, addendShift, null);
    }

    /**
     * This epilogue for a convolution of {@code channels} output channels, with SiLU's or the sigmoid's runs over
     * several pixels made ({@link AffineRuns}) where a pixel is short: a kernel that finishes whole pixels then
     * costs one loop call per run of them instead of one a pixel. Other epilogues come back as they are.
     */
    ChannelEpilogue withRuns(int channels) {
        if (addend != null || (activation != Activation.SILU && activation != Activation.SIGMOID)) {
            return this;
        }
        AffineRuns r = AffineRuns.of(scale, scaleOff, shift, shiftOff, channels);
        return r == null ? this : new ChannelEpilogue(scale, scaleOff, shift, shiftOff, activation, null, 0, r);
    }

    /**
     * Finishes {@code rows} rows of {@code cols} elements of y, row r starting at {@code y[off + r·ld]}; column j
     * is output channel {@code channel0 + j}.
     */
    void apply(float[] y, int off, int rows, int cols, int ld, int channel0) {
        apply(y, off, y, off, rows, cols, ld, channel0);
    }

    /**
     * {@link #apply(float[], int, int, int, int, int)} reading the unfinished values from {@code src} and writing
     * the finished ones to {@code dst} (rows at the same stride): a kernel can compute a block into scratch that
     * stays in L1 and write each output line once.
     */
    void apply(float[] src, int srcOff, float[] dst, int dstOff, int rows, int cols, int ld, int channel0) {
        int s = scaleOff + channel0;
        int t = shiftOff + channel0;
        // One call for all rows where the map is affine (plus ReLU or the addend): a projection's tile rows are a
        // few vectors (one at 112² × 32 → 16), and a call a row cost more than the row's arithmetic there
        // (bench/NOTES.md, thirty-second round). SiLU's rows stay a call each (its nested loop compiled slower), but
        // whole contiguous pixels of few channels go a run of pixels a call (thirty-third round).
        if (addend != null) {
            affineAdd(src, srcOff, dst, dstOff, rows, cols, ld, scale, s, shift, t, addend, dstOff + addendShift);
            return;
        }
        switch (activation) {
            case NONE -> affine(src, srcOff, dst, dstOff, rows, cols, ld, scale, s, shift, t);
            case RELU -> affineRelu(src, srcOff, dst, dstOff, rows, cols, ld, scale, s, shift, t);
            case SILU, SIGMOID -> {
                boolean sigmoid = activation == Activation.SIGMOID;
                if (runs != null && ld == cols && cols == runs.channels() && channel0 == 0) {
                    runs.apply(src, srcOff, dst, dstOff, rows, sigmoid);
                    return;
                }
                for (int r = 0; r < rows; r++) {
                    AffineSilu.apply(src, srcOff + r * ld, dst, dstOff + r * ld, cols, scale, s, shift, t, sigmoid);
                }
            }
        }
    }

    // Whole vectors unmasked, then the rest under a mask: the same instructions for every element.

    /** y[to + r·ld + j] = x[from + r·ld + j]·a[ao + j] + b[bo + j], r &lt; rows, j &lt; n. */
    private static void affine(float[] x, int from, float[] y, int to, int rows, int n, int ld, float[] a, int ao,
                               float[] b, int bo) {
        int end = S.loopBound(n);
        VectorMask<Float> m = S.indexInRange(end, n);
        for (int r = 0; r < rows; r++, from += ld, to += ld) {
            for (int j = 0; j < end; j += L) {
                FloatVector.fromArray(S, x, from + j)
                        .fma(FloatVector.fromArray(S, a, ao + j), FloatVector.fromArray(S, b, bo + j))
                        .intoArray(y, to + j);
            }
            if (end < n) {
                FloatVector.fromArray(S, x, from + end, m)
                        .fma(FloatVector.fromArray(S, a, ao + end, m), FloatVector.fromArray(S, b, bo + end, m))
                        .intoArray(y, to + end, m);
            }
        }
    }

    /**
     * y[to + r·ld + j] = (x[from + r·ld + j]·a[ao + j] + b[bo + j]) + z[zo + r·ld + j], r &lt; rows, j &lt; n: the
     * affine map, then the addend.
     */
    private static void affineAdd(float[] x, int from, float[] y, int to, int rows, int n, int ld, float[] a, int ao,
                                  float[] b, int bo, float[] z, int zo) {
        int end = S.loopBound(n);
        VectorMask<Float> m = S.indexInRange(end, n);
        for (int r = 0; r < rows; r++, from += ld, to += ld, zo += ld) {
            for (int j = 0; j < end; j += L) {
                FloatVector.fromArray(S, x, from + j)
                        .fma(FloatVector.fromArray(S, a, ao + j), FloatVector.fromArray(S, b, bo + j))
                        .add(FloatVector.fromArray(S, z, zo + j)).intoArray(y, to + j);
            }
            if (end < n) {
                FloatVector.fromArray(S, x, from + end, m)
                        .fma(FloatVector.fromArray(S, a, ao + end, m), FloatVector.fromArray(S, b, bo + end, m))
                        .add(FloatVector.fromArray(S, z, zo + end, m)).intoArray(y, to + end, m);
            }
        }
    }

    /** y[to + r·ld + j] = max(x[from + r·ld + j]·a[ao + j] + b[bo + j], 0), r &lt; rows, j &lt; n. */
    private static void affineRelu(float[] x, int from, float[] y, int to, int rows, int n, int ld, float[] a, int ao,
                                   float[] b, int bo) {
        int end = S.loopBound(n);
        VectorMask<Float> m = S.indexInRange(end, n);
        for (int r = 0; r < rows; r++, from += ld, to += ld) {
            for (int j = 0; j < end; j += L) {
                FloatVector.fromArray(S, x, from + j)
                        .fma(FloatVector.fromArray(S, a, ao + j), FloatVector.fromArray(S, b, bo + j))
                        .max(0f).intoArray(y, to + j);
            }
            if (end < n) {
                FloatVector.fromArray(S, x, from + end, m)
                        .fma(FloatVector.fromArray(S, a, ao + end, m), FloatVector.fromArray(S, b, bo + end, m))
                        .max(0f).intoArray(y, to + end, m);
            }
        }
    }
}
