package dev.vertebra.core.cpu;

import dev.vertebra.core.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * What a convolution kernel does to each finished block of its channels-last output before moving on, while the
 * block is still in cache: {@code y = activation(y·scale[c] + shift[c])} in place, c the output channel. One fused
 * multiply-add per element, then the activation; evaluation-mode batch norm and SiLU thus cost no pass over memory
 * of their own.
 *
 * <p>Each activation has its own loop: SiLU's calls only {@link VectorExp#exp} and the Vector API, which C2
 * inlines whole, so no vector is boxed (see {@link FloatExpKernels}). A row's last partial vector goes through the
 * same instructions under a mask, so an element's value does not depend on where its row is cut.
 *
 * @param scale      [Cout] from scaleOff
 * @param shift      [Cout] from shiftOff
 * @param activation applied after the affine map
 */
record ChannelEpilogue(float[] scale, int scaleOff, float[] shift, int shiftOff, Activation activation) {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /**
     * Finishes {@code rows} rows of {@code cols} elements of y, row r starting at {@code y[off + r·ld]}; column j
     * is output channel {@code channel0 + j}.
     */
    void apply(float[] y, int off, int rows, int cols, int ld, int channel0) {
        int s = scaleOff + channel0;
        int t = shiftOff + channel0;
        for (int r = 0; r < rows; r++) {
            int at = off + r * ld;
            switch (activation) {
                case NONE -> affine(y, at, cols, scale, s, shift, t);
                case RELU -> affineRelu(y, at, cols, scale, s, shift, t);
                case SILU -> affineSilu(y, at, cols, scale, s, shift, t);
            }
        }
    }

    // Whole vectors unmasked, then the rest under a mask: the same instructions for every element.

    /** y[at + j] = y·a[ao + j] + b[bo + j], j &lt; n. */
    private static void affine(float[] y, int at, int n, float[] a, int ao, float[] b, int bo) {
        int end = S.loopBound(n);
        for (int j = 0; j < end; j += L) {
            FloatVector.fromArray(S, y, at + j)
                    .fma(FloatVector.fromArray(S, a, ao + j), FloatVector.fromArray(S, b, bo + j))
                    .intoArray(y, at + j);
        }
        if (end < n) {
            VectorMask<Float> m = S.indexInRange(end, n);
            FloatVector.fromArray(S, y, at + end, m)
                    .fma(FloatVector.fromArray(S, a, ao + end, m), FloatVector.fromArray(S, b, bo + end, m))
                    .intoArray(y, at + end, m);
        }
    }

    /** y[at + j] = max(y·a[ao + j] + b[bo + j], 0), j &lt; n. */
    private static void affineRelu(float[] y, int at, int n, float[] a, int ao, float[] b, int bo) {
        int end = S.loopBound(n);
        for (int j = 0; j < end; j += L) {
            FloatVector.fromArray(S, y, at + j)
                    .fma(FloatVector.fromArray(S, a, ao + j), FloatVector.fromArray(S, b, bo + j))
                    .max(0f).intoArray(y, at + j);
        }
        if (end < n) {
            VectorMask<Float> m = S.indexInRange(end, n);
            FloatVector.fromArray(S, y, at + end, m)
                    .fma(FloatVector.fromArray(S, a, ao + end, m), FloatVector.fromArray(S, b, bo + end, m))
                    .max(0f).intoArray(y, at + end, m);
        }
    }

    /** y[at + j] = silu(y·a[ao + j] + b[bo + j]) = z / (1 + e^−z), j &lt; n: the formula of FloatExpKernels.silu. */
    private static void affineSilu(float[] y, int at, int n, float[] a, int ao, float[] b, int bo) {
        int end = S.loopBound(n);
        for (int j = 0; j < end; j += L) {
            FloatVector z = FloatVector.fromArray(S, y, at + j)
                    .fma(FloatVector.fromArray(S, a, ao + j), FloatVector.fromArray(S, b, bo + j));
            z.div(VectorExp.exp(z.neg()).add(1f)).intoArray(y, at + j);
        }
        if (end < n) {
            affineSiluTail(y, at + end, n - end, a, ao + end, b, bo + end);
        }
    }

    /**
     * {@link #affineSilu} of the last {@code n < L} elements, under a mask. A method of its own so each method
     * inlines {@link VectorExp#exp} once: with both calls in one method C2 inlined only the first, and the second
     * ran the Vector API's boxing fallback (15 % of a 144 → 24 convolution's samples, JFR).
     */
    private static void affineSiluTail(float[] y, int at, int n, float[] a, int ao, float[] b, int bo) {
        VectorMask<Float> m = S.indexInRange(0, n);
        FloatVector z = FloatVector.fromArray(S, y, at, m)
                .fma(FloatVector.fromArray(S, a, ao, m), FloatVector.fromArray(S, b, bo, m));
        z.div(VectorExp.exp(z.neg()).add(1f)).intoArray(y, at, m);
    }
}
