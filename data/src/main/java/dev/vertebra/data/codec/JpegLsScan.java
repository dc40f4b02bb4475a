package dev.vertebra.data.codec;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Decoding of one JPEG-LS scan (ITU T.87 Annex A): context modelling, MED prediction, limited-length Golomb
 * codes and run mode, for one component, line-interleaved components or three sample-interleaved components.
 *
 * <p>Each component keeps two line buffers padded by one sample on each side ({@code line[x + 1]} is column x), so
 * the edge rules of T.87 become plain copies: column −1 of the current line is the first sample of the line above,
 * column {@code width} of the line above repeats its last sample.
 */
final class JpegLsScan {

    private static final String CODEC = "JPEG-LS";
    private static final VarHandle BIG_ENDIAN_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    /** J: run-length order for each RUNindex (T.87 A.7.1.1). */
    private static final int[] J = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    private static final int RUN_CONTEXT_ONE = 366;
    private static final int RUN_CONTEXT_ZERO = 365;
    private static final int CONTEXT_STRIDE = 4;

    private final byte[] data;
    private final int end;
    private int pos;
    private long bits;
    private int count;
    private int zeroBitsFed;
    /** The last byte loaded was 0xFF, so the next one carries 7 data bits after a stuffed 0 (T.87 A.1). */
    private boolean afterFF;

    private final int maxValue;
    private final int near;
    private final int t1;
    private final int t2;
    private final int t3;
    private final int reset;
    private final int range;
    private final int qbpp;
    private final int limit;
    private final int errorStep;
    /**
     * Context statistics A, B, C, N of T.87 A.2, four ints per context (one cache line holds a context, one bounds
     * check covers it): 365 regular contexts, then the two run-interruption contexts. Nn of the latter is apart.
     */
    private final int[] ctx = new int[367 * CONTEXT_STRIDE];
    private final int[] nn = new int[367];
    /** RUNindex after the last {@link #decodeRunLength}. */
    private int runIndexAfterRun;
    private final int[] tripletContexts = new int[3];
    /** Per line, the context part from the line above (index x + 1 for column x); sized on first use. */
    private int[] aboveContext = new int[0];
    /** quantizer[d + MAXVAL]: the quantised gradient −4..4 of difference d. */
    private final byte[] quantizer;

    JpegLsScan(byte[] data, int start, JpegLsParameters p) {
        this.data = data;
        this.end = data.length;
        this.pos = start;
        this.maxValue = p.maxValue();
        this.near = p.near();
        this.t1 = p.t1();
        this.t2 = p.t2();
        this.t3 = p.t3();
        this.reset = p.reset();
        this.range = p.range();
        this.qbpp = p.qbpp();
        this.limit = p.limit();
        this.errorStep = 2 * near + 1;
        this.quantizer = cachedQuantizer(p);
        for (int q = 0; q < 367; q++) {
            ctx[q * CONTEXT_STRIDE] = Math.max(2, (range + 32) / 64);
            ctx[q * CONTEXT_STRIDE + 3] = 1;
        }
    }

    /**
     * Decodes a scan of {@code components} components into out[base + (y * width + x) * stride + offsets[k]].
     *
     * @param sampleInterleaved ILV = 2 (then exactly three components); otherwise line-interleaved or single
     */
    void decode(int[] out, int base, int stride, int width, int height, int[] offsets, boolean sampleInterleaved)
            throws CodecException {
        int components = offsets.length;
        aboveContext = new int[width + 2];
        int[][] previous = new int[components][width + 2];
        int[][] current = new int[components][width + 2];
        int[] runIndex = new int[components];
        for (int y = 0; y < height; y++) {
            for (int k = 0; k < components; k++) {
                int[] swap = previous[k];
                previous[k] = current[k];
                current[k] = swap;
                previous[k][width + 1] = previous[k][width];
                current[k][0] = previous[k][1];
            }
            if (sampleInterleaved) {
                runIndex[0] = decodeTripletLine(previous, current, width, runIndex[0]);
            } else {
                for (int k = 0; k < components; k++) {
                    runIndex[k] = decodeLine(previous[k], current[k], width, runIndex[k]);
                }
            }
            int rowBase = base + y * width * stride;
            for (int k = 0; k < components; k++) {
                int[] line = current[k];
                for (int x = 0, o = rowBase + offsets[k]; x < width; x++, o += stride) {
                    out[o] = line[x + 1];
                }
            }
        }
        if (zeroBitsFed > count) {
            throw new CodecException(CODEC, pos, "scan data ends before the last sample");
        }
    }

    /** Position of the marker that ends the scan's entropy-coded data. */
    int endPosition() {
        int p = pos;
        while (p + 1 < end && !(data[p] == (byte) 0xFF && (data[p + 1] & 0x80) != 0)) {
            p++;
        }
        return p + 1 < end ? p : end;
    }

    private int decodeLine(int[] prev, int[] cur, int width, int runIndex) throws CodecException {
        if (near == 0) {
            return decodeLosslessLine(prev, cur, width, runIndex);
        }
        int x = 1;
        while (x <= width) {
            int ra = cur[x - 1];
            int rb = prev[x];
            int rc = prev[x - 1];
            int rd = prev[x + 1];
            int q1 = quantize(rd - rb);
            int q2 = quantize(rb - rc);
            int q3 = quantize(rc - ra);
            int context = q1 * 81 + q2 * 9 + q3;
            if (context == 0) {
                int runLength = decodeRunLength(width - x + 1, runIndex);
                runIndex = this.runIndexAfterRun;
                for (int k = 0; k < runLength; k++) {
                    cur[x + k] = ra;
                }
                x += runLength;
                if (x > width) {
                    break;
                }
                rb = prev[x];
                cur[x] = decodeInterruption(ra, rb, Math.abs(ra - rb) <= near, runIndex);
                runIndex = Math.max(0, runIndex - 1);
                x++;
            } else {
                cur[x] = decodeRegular(context, ra, rb, rc);
                x++;
            }
        }
        return runIndex;
    }

    /**
     * {@link #decodeLine} for NEAR = 0 with the regular mode written out in the loop: the per-sample work is one
     * serial dependency chain (Ra → context → Golomb parameter → code → Rx), so every call and reload cut from it
     * counts.
     */
    private int decodeLosslessLine(int[] prev, int[] cur, int width, int runIndex) throws CodecException {
        int[] ctx = this.ctx;
        byte[] quantizer = this.quantizer;
        int maxValue = this.maxValue;
        int escapeAt = limit - qbpp - 1;
        int[] aboveContext = this.aboveContext;
        // Q1·81 + Q2·9 depends only on the line above: computed for the whole line, off the serial chain.
        for (int i = 1; i <= width; i++) {
            aboveContext[i] = quantizer[prev[i + 1] - prev[i] + maxValue] * 81 + quantizer[prev[i] - prev[i - 1] + maxValue] * 9;
        }
        int x = 1;
        // Ra is carried in a register from one sample to the next, keeping a store-to-load trip off the chain.
        int ra = cur[0];
        while (x <= width) {
            int rb = prev[x];
            int rc = prev[x - 1];
            int context = aboveContext[x] + quantizer[rc - ra + maxValue];
            if (context == 0) {
                int runLength = decodeRunLength(width - x + 1, runIndex);
                runIndex = this.runIndexAfterRun;
                for (int k = 0; k < runLength; k++) {
                    cur[x + k] = ra;
                }
                x += runLength;
                if (x > width) {
                    break;
                }
                rb = prev[x];
                cur[x] = decodeInterruption(ra, rb, ra == rb, runIndex);
                runIndex = Math.max(0, runIndex - 1);
                ra = cur[x];
                x++;
                continue;
            }
            int sign = context >> 31 | 1;
            int at = context * sign * CONTEXT_STRIDE;
            int aq = ctx[at];
            int bq = ctx[at + 1];
            int cq = ctx[at + 2];
            int nq = ctx[at + 3];
            int prediction = Math.max(Math.min(ra, rb), Math.min(Math.max(ra, rb), ra + rb - rc));
            prediction = Math.min(Math.max(prediction + sign * cq, 0), maxValue);
            int k = golombParameter(nq, aq);
            if (count < 48) {
                fill();
            }
            int leading = Long.numberOfLeadingZeros(bits << (64 - count));
            int length = leading + 1 + k;
            int mapped;
            if (length <= count && leading < escapeAt) {
                count -= length;
                mapped = (leading << k) | (int) (bits >>> count) & ((1 << k) - 1);
            } else {
                mapped = decodeGolombSlowly(k, limit);
            }
            int error = (mapped >>> 1) ^ -(mapped & 1);
            if (k == 0 && 2 * bq <= -nq) {
                error = ~error;
            }
            updateContext(at, aq, bq, cq, nq, error);
            int value = prediction + sign * error;
            if (value < 0) {
                value += range;
            } else if (value > maxValue) {
                value -= range;
            }
            ra = Math.min(Math.max(value, 0), maxValue);
            cur[x] = ra;
            x++;
        }
        return runIndex;
    }

    /** Three sample-interleaved components: one context decision per pixel over all three (as T.87 and CharLS do). */
    private int decodeTripletLine(int[][] prev, int[][] cur, int width, int runIndex) throws CodecException {
        int x = 1;
        while (x <= width) {
            int[] contexts = tripletContexts;
            boolean allFlat = true;
            for (int k = 0; k < 3; k++) {
                int[] p = prev[k];
                contexts[k] = quantize(p[x + 1] - p[x]) * 81 + quantize(p[x] - p[x - 1]) * 9 + quantize(p[x - 1] - cur[k][x - 1]);
                allFlat &= contexts[k] == 0;
            }
            if (allFlat) {
                int runLength = decodeTripletRunLength(cur, x, width, runIndex);
                runIndex = this.runIndexAfterRun;
                x += runLength;
                if (x > width) {
                    break;
                }
                for (int k = 0; k < 3; k++) {
                    cur[k][x] = decodeInterruption(cur[k][x - 1], prev[k][x], false, runIndex);
                }
                runIndex = Math.max(0, runIndex - 1);
            } else {
                for (int k = 0; k < 3; k++) {
                    cur[k][x] = decodeRegular(contexts[k], cur[k][x - 1], prev[k][x], prev[k][x - 1]);
                }
            }
            x++;
        }
        return runIndex;
    }

    private int decodeTripletRunLength(int[][] cur, int x, int width, int runIndex) throws CodecException {
        int length = decodeRunLength(width - x + 1, runIndex);
        for (int k = 0; k < 3; k++) {
            int value = cur[k][x - 1];
            for (int i = 0; i < length; i++) {
                cur[k][x + i] = value;
            }
        }
        return length;
    }

    private int quantize(int d) {
        return quantizer[d + maxValue];
    }

    /** Gradient quantisation of T.87 A.3.3 for every difference −MAXVAL..MAXVAL: a table replaces eight unpredictable branches. */
    private static byte[] quantizer(JpegLsParameters p) {
        byte[] table = new byte[2 * p.maxValue() + 1];
        for (int d = -p.maxValue(); d <= p.maxValue(); d++) {
            int q;
            if (d <= -p.t3()) {
                q = -4;
            } else if (d <= -p.t2()) {
                q = -3;
            } else if (d <= -p.t1()) {
                q = -2;
            } else if (d < -p.near()) {
                q = -1;
            } else if (d <= p.near()) {
                q = 0;
            } else if (d < p.t1()) {
                q = 1;
            } else if (d < p.t2()) {
                q = 2;
            } else if (d < p.t3()) {
                q = 3;
            } else {
                q = 4;
            }
            table[d + p.maxValue()] = (byte) q;
        }
        return table;
    }

    /** The last table built; frames of one series share their parameters, so one entry serves nearly every call. */
    private static volatile Quantizer lastQuantizer;

    private record Quantizer(JpegLsParameters parameters, byte[] table) {
    }

    private static byte[] cachedQuantizer(JpegLsParameters p) {
        Quantizer last = lastQuantizer;
        if (last == null || !last.parameters().equals(p)) {
            last = new Quantizer(p, quantizer(p));
            lastQuantizer = last;
        }
        return last.table();
    }

    /** Regular mode (T.87 A.4–A.6) for a sample whose signed context is {@code signedContext} ≠ 0. */
    private int decodeRegular(int signedContext, int ra, int rb, int rc) throws CodecException {
        int[] ctx = this.ctx;
        int sign = signedContext >> 31 | 1;
        int at = signedContext * sign * CONTEXT_STRIDE;
        int aq = ctx[at];
        int bq = ctx[at + 1];
        int cq = ctx[at + 2];
        int nq = ctx[at + 3];
        // MED predictor: the median of Ra, Rb and Ra + Rb − Rc, written with min/max so it compiles to cmov.
        int prediction = Math.max(Math.min(ra, rb), Math.min(Math.max(ra, rb), ra + rb - rc));
        prediction = Math.min(Math.max(prediction + sign * cq, 0), maxValue);
        int k = golombParameter(nq, aq);
        int mapped = decodeGolomb(k, limit);
        int error = (mapped & 1) != 0 ? -((mapped + 1) >> 1) : mapped >> 1;
        if (near == 0 && k == 0 && 2 * bq <= -nq) {
            error = ~error;
        }
        updateContext(at, aq, bq, cq, nq, error);
        return reconstruct(prediction, sign * error);
    }

    /** Context update and bias correction (T.87 A.6); a method of its own so the hot callers stay inlinable. */
    private void updateContext(int at, int aq, int bq, int cq, int nq, int error) {
        int[] ctx = this.ctx;
        bq += error * errorStep;
        aq += Math.abs(error);
        if (nq == reset) {
            aq >>= 1;
            bq >>= 1;
            nq >>= 1;
        }
        nq++;
        if (bq <= -nq) {
            bq = Math.max(bq + nq, -nq + 1);
            cq = Math.max(cq - 1, -128);
        } else if (bq > 0) {
            bq = Math.min(bq - nq, 0);
            cq = Math.min(cq + 1, 127);
        }
        ctx[at] = aq;
        ctx[at + 1] = bq;
        ctx[at + 2] = cq;
        ctx[at + 3] = nq;
    }

    /** Smallest k with N·2^k ≥ A (T.87 A.5.1), without a data-dependent loop. */
    private static int golombParameter(int n, int a) {
        int k = Math.max(0, Integer.numberOfLeadingZeros(n) - Integer.numberOfLeadingZeros(a));
        return (n << k) < a ? k + 1 : k;
    }

    /** Dequantises, undoes the modulo-RANGE reduction and clamps (T.87 A.4.4). */
    private int reconstruct(int prediction, int error) {
        int value = prediction + error * errorStep;
        if (value < -near) {
            value += range * errorStep;
        } else if (value > maxValue + near) {
            value -= range * errorStep;
        }
        return Math.min(Math.max(value, 0), maxValue);
    }

    /** Run mode (T.87 A.7.1): the number of samples, at most {@code remaining}, that repeat Ra. */
    private int decodeRunLength(int remaining, int runIndex) throws CodecException {
        int length = 0;
        while (readBit() == 1) {
            int step = Math.min(1 << J[runIndex], remaining - length);
            length += step;
            if (step == 1 << J[runIndex] && runIndex < 31) {
                runIndex++;
            }
            if (length == remaining) {
                runIndexAfterRun = runIndex;
                return length;
            }
        }
        length += J[runIndex] > 0 ? readBits(J[runIndex]) : 0;
        if (length >= remaining) {
            throw new CodecException(CODEC, pos, "run of " + length + " samples passes the end of a line of " + remaining);
        }
        runIndexAfterRun = runIndex;
        return length;
    }

    /** Run interruption sample (T.87 A.7.2). */
    private int decodeInterruption(int ra, int rb, boolean sameAsLeft, int runIndex) throws CodecException {
        int q = sameAsLeft ? RUN_CONTEXT_ONE : RUN_CONTEXT_ZERO;
        int type = sameAsLeft ? 1 : 0;
        int at = q * CONTEXT_STRIDE;
        int temp = sameAsLeft ? ctx[at] + (ctx[at + 3] >> 1) : ctx[at];
        int k = golombParameter(ctx[at + 3], temp);
        int mapped = decodeGolomb(k, limit - J[runIndex] - 1);
        int t = mapped + type;
        boolean map = (t & 1) != 0;
        int magnitude = (t + 1) >> 1;
        int error = (k != 0 || 2 * nn[q] >= ctx[at + 3]) == map ? -magnitude : magnitude;
        if (error < 0) {
            nn[q]++;
        }
        ctx[at] += (mapped + 1 - type) >> 1;
        if (ctx[at + 3] == reset) {
            ctx[at] >>= 1;
            ctx[at + 3] >>= 1;
            nn[q] >>= 1;
        }
        ctx[at + 3]++;
        if (sameAsLeft) {
            return reconstruct(ra, error);
        }
        return reconstruct(rb, error * (((rb - ra) >> 31) | 1));
    }

    /** Limited-length Golomb code (T.87 A.5.3): unary high bits then k low bits, or an escape with qbpp bits. */
    private int decodeGolomb(int k, int codeLimit) throws CodecException {
        if (count < 48) {
            fill();
        }
        int leading = Long.numberOfLeadingZeros(bits << (64 - count));
        int length = leading + 1 + k;
        if (length <= count && leading < codeLimit - qbpp - 1) {
            // Common case: the whole code is in the buffer and is not an escape; one extraction, no refill.
            count -= length;
            return (leading << k) | (int) (bits >>> count) & ((1 << k) - 1);
        }
        return decodeGolombSlowly(k, codeLimit);
    }

    /** Long codes and escapes: the unary part may span several buffer refills. */
    private int decodeGolombSlowly(int k, int codeLimit) throws CodecException {
        int zeros = 0;
        while (true) {
            if (count < 32) {
                fill();
            }
            int run = Long.numberOfLeadingZeros(bits << (64 - count));
            if (run < 32) {
                zeros += run;
                count -= run + 1;
                break;
            }
            zeros += 32;
            count -= 32;
            if (zeros > codeLimit) {
                throw new CodecException(CODEC, pos, "Golomb code longer than LIMIT");
            }
        }
        int escapeAt = codeLimit - qbpp - 1;
        if (zeros >= escapeAt) {
            if (zeros > escapeAt) {
                throw new CodecException(CODEC, pos, "Golomb code longer than LIMIT");
            }
            return readBits(qbpp) + 1;
        }
        return k == 0 ? zeros : (zeros << k) | readBits(k);
    }

    private int readBit() throws CodecException {
        if (count < 1) {
            fill();
        }
        count--;
        return (int) (bits >>> count) & 1;
    }

    private int readBits(int length) throws CodecException {
        if (count < length) {
            fill();
        }
        count -= length;
        return (int) (bits >>> count) & ((1 << length) - 1);
    }

    /** Tops the buffer up beyond 56 bits, honouring bit stuffing after 0xFF; feeds zeros after a marker. */
    private void fill() throws CodecException {
        if (!afterFF && pos + 4 <= end && count <= 32) {
            int word = (int) BIG_ENDIAN_INT.get(data, pos);
            int inverted = ~word;
            if (((inverted - 0x01010101) & ~inverted & 0x80808080) == 0) {
                bits = (bits << 32) | (word & 0xFFFFFFFFL);
                count += 32;
                pos += 4;
                return;
            }
        }
        fillBytewise();
    }

    private void fillBytewise() throws CodecException {
        while (count <= 56) {
            if (zeroBitsFed == 0 && pos < end) {
                int value = data[pos] & 0xFF;
                if (afterFF && value >= 0x80) {
                    // A marker: the 0xFF already loaded was its first byte, not data. Unload it and feed zeros.
                    if (count < 8) {
                        throw new CodecException(CODEC, pos, "scan data ends before the last sample");
                    }
                    bits >>>= 8;
                    count -= 8;
                    pos--;
                    afterFF = false;
                    zeroBitsFed = 8;
                    bits <<= 8;
                    count += 8;
                    continue;
                }
                pos++;
                if (afterFF) {
                    bits = (bits << 7) | value;
                    count += 7;
                } else {
                    bits = (bits << 8) | value;
                    count += 8;
                }
                afterFF = value == 0xFF;
            } else {
                if (zeroBitsFed > count) {
                    throw new CodecException(CODEC, pos, "scan data ends before the last sample");
                }
                zeroBitsFed += 8;
                bits <<= 8;
                count += 8;
            }
        }
    }
}
