package dev.vertebra.data.codec;

/**
 * Coding parameters of a JPEG-LS scan (ITU T.87 C.2.4.1.1 defaults, overridable by an LSE segment), and the
 * quantities derived from them (T.87 A.2.1).
 *
 * @param maxValue largest sample value, MAXVAL
 * @param t1       gradient quantisation thresholds
 * @param reset    context counter halving threshold, RESET
 * @param near     maximum reconstruction error, NEAR (0 for lossless)
 */
record JpegLsParameters(int maxValue, int t1, int t2, int t3, int reset, int near) {

    /** MAXVAL, T1, T2, T3 and RESET with zeros (not given by an LSE segment) replaced by the T.87 defaults. */
    static JpegLsParameters withDefaults(int precision, int maxValue, int t1, int t2, int t3, int reset, int near) {
        int max = maxValue != 0 ? maxValue : (1 << precision) - 1;
        int d1;
        int d2;
        int d3;
        if (max >= 128) {
            int factor = (Math.min(max, 4095) + 128) / 256;
            d1 = clamp(factor * (3 - 2) + 2 + 3 * near, near + 1, max);
            d2 = clamp(factor * (7 - 3) + 3 + 5 * near, d1, max);
            d3 = clamp(factor * (21 - 4) + 4 + 7 * near, d2, max);
        } else {
            int factor = 256 / (max + 1);
            d1 = clamp(Math.max(2, 3 / factor + 3 * near), near + 1, max);
            d2 = clamp(Math.max(3, 7 / factor + 5 * near), d1, max);
            d3 = clamp(Math.max(4, 21 / factor + 7 * near), d2, max);
        }
        return new JpegLsParameters(max, t1 != 0 ? t1 : d1, t2 != 0 ? t2 : d2, t3 != 0 ? t3 : d3,
                reset != 0 ? reset : 64, near);
    }

    private static int clamp(int value, int low, int max) {
        return value > max || value < low ? low : value;
    }

    /** RANGE: number of distinct quantised prediction errors. */
    int range() {
        return (maxValue + 2 * near) / (2 * near + 1) + 1;
    }

    /** qbpp: bits to write a mapped error value in escape codes. */
    int qbpp() {
        return 32 - Integer.numberOfLeadingZeros(range() - 1);
    }

    /** LIMIT: longest Golomb code. */
    int limit() {
        int bpp = Math.max(2, 32 - Integer.numberOfLeadingZeros(maxValue));
        return 2 * (bpp + Math.max(8, bpp));
    }
}
