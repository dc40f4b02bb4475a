package dev.vertebra.data.codec;

import java.util.Arrays;

/**
 * Encoder for lossless JPEG, ITU T.81 process 14, one component, with a Huffman table optimised for the image
 * (T.81 Annex K.2). With the default first-order predictor the output is what DICOM transfer syntax
 * 1.2.840.10008.1.2.4.70 expects.
 *
 * <pre>{@code
 * byte[] frame = JpegLosslessEncoder.encode(storedValues, 512, 512, 16); // one DICOM fragment
 * }</pre>
 */
public final class JpegLosslessEncoder {

    private JpegLosslessEncoder() {
    }

    /**
     * Encodes one grey image with selection value 1 and no restart markers.
     *
     * @param samples   row-major stored values; taken modulo 2^precision, so signed values may be passed as they are
     * @param precision bits per sample, 2..16
     */
    public static byte[] encode(int[] samples, int rows, int cols, int precision) {
        return encode(samples, rows, cols, precision, 1, 0);
    }

    /**
     * Encodes one grey image.
     *
     * @param samples      row-major stored values [rows, cols]; taken modulo 2^precision
     * @param precision    bits per sample, 2..16
     * @param predictor    selection value 1..7 (T.81 Table H.1)
     * @param restartRows  rows per restart interval, 0 for none
     */
    public static byte[] encode(int[] samples, int rows, int cols, int precision, int predictor, int restartRows) {
        if (rows < 1 || cols < 1 || rows > 65535 || cols > 65535 || samples.length < (long) rows * cols) {
            throw new IllegalArgumentException("image " + rows + "x" + cols + " with " + samples.length + " samples");
        }
        if (precision < 2 || precision > 16 || predictor < 1 || predictor > 7 || restartRows < 0
                || (long) restartRows * cols > 65535) {
            throw new IllegalArgumentException("precision " + precision + ", predictor " + predictor + ", restart rows " + restartRows);
        }
        int mask = (1 << precision) - 1;
        int[] differences = differences(samples, rows, cols, mask, predictor, restartRows);
        long[] frequencies = new long[17];
        for (int d : differences) {
            frequencies[category(d)]++;
        }
        int[] counts = new int[17];
        int[] symbols = optimalTable(frequencies, counts);
        int[] codes = new int[17];
        int[] lengths = new int[17];
        assignCodes(counts, symbols, codes, lengths);

        var out = new StreamWriter(rows * cols * 2 + 1024);
        out.u16(0xFFD8);
        out.u16(0xFFC3).u16(11).u8(precision).u16(rows).u16(cols).u8(1).u8(1).u8(0x11).u8(0);
        out.u16(0xFFC4).u16(2 + 17 + symbols.length).u8(0x00);
        for (int length = 1; length <= 16; length++) {
            out.u8(counts[length]);
        }
        for (int symbol : symbols) {
            out.u8(symbol);
        }
        if (restartRows > 0) {
            out.u16(0xFFDD).u16(4).u16(restartRows * cols);
        }
        out.u16(0xFFDA).u16(8).u8(1).u8(1).u8(0x00).u8(predictor).u8(0).u8(0);
        int restartIndex = 0;
        for (int row = 0; row < rows; row++) {
            if (restartRows > 0 && row > 0 && row % restartRows == 0) {
                out.flushBits();
                out.u16(0xFFD0 + (restartIndex++ & 7));
            }
            for (int i = row * cols, stop = i + cols; i < stop; i++) {
                int d = differences[i];
                int ssss = category(d);
                out.bits(codes[ssss], lengths[ssss]);
                if (ssss > 0 && ssss < 16) {
                    out.bits(d >= 0 ? d : d + (1 << ssss) - 1, ssss);
                }
            }
        }
        out.flushBits();
        out.u16(0xFFD9);
        return out.toByteArray();
    }

    /** Prediction differences modulo 2^16 in −32767..32768 (T.81 H.1.2.1), row-major. */
    private static int[] differences(int[] samples, int rows, int cols, int mask, int predictor, int restartRows) {
        int[] d = new int[rows * cols];
        int initial = (mask + 1) >> 1;
        for (int row = 0; row < rows; row++) {
            boolean firstRow = restartRows == 0 ? row == 0 : row % restartRows == 0;
            int base = row * cols;
            for (int col = 0; col < cols; col++) {
                int x = samples[base + col] & mask;
                int prediction;
                if (col == 0) {
                    prediction = firstRow ? initial : samples[base - cols] & mask;
                } else if (firstRow) {
                    prediction = samples[base + col - 1] & mask;
                } else {
                    int ra = samples[base + col - 1] & mask;
                    int rb = samples[base - cols + col] & mask;
                    int rc = samples[base - cols + col - 1] & mask;
                    prediction = switch (predictor) {
                        case 1 -> ra;
                        case 2 -> rb;
                        case 3 -> rc;
                        case 4 -> ra + rb - rc;
                        case 5 -> ra + ((rb - rc) >> 1);
                        case 6 -> rb + ((ra - rc) >> 1);
                        default -> (ra + rb) >>> 1;
                    };
                }
                int diff = (x - prediction) & 0xFFFF;
                d[base + col] = diff > 32768 ? diff - 65536 : diff;
            }
        }
        return d;
    }

    /** SSSS: bits needed for |d|; 16 for the single value 32768. */
    private static int category(int d) {
        return 32 - Integer.numberOfLeadingZeros(Math.abs(d));
    }

    /**
     * Code lengths limited to 16 bits by the procedure of T.81 Annex K.2, with one reserved symbol so that no code
     * is all ones. Fills {@code counts} (BITS) and returns HUFFVAL.
     */
    static int[] optimalTable(long[] frequencies, int[] counts) {
        long[] freq = Arrays.copyOf(frequencies, 18);
        freq[17] = 1;
        int[] codeSize = new int[18];
        int[] others = new int[18];
        Arrays.fill(others, -1);
        while (true) {
            int v1 = -1;
            int v2 = -1;
            for (int i = 0; i < 18; i++) {
                if (freq[i] == 0) {
                    continue;
                }
                if (v1 < 0 || freq[i] <= freq[v1]) {
                    v2 = v1;
                    v1 = i;
                } else if (v2 < 0 || freq[i] <= freq[v2]) {
                    v2 = i;
                }
            }
            if (v2 < 0) {
                break;
            }
            freq[v1] += freq[v2];
            freq[v2] = 0;
            for (int v = v1; ; v = others[v]) {
                codeSize[v]++;
                if (others[v] < 0) {
                    others[v] = v2;
                    break;
                }
            }
            for (int v = v2; v >= 0; v = others[v]) {
                codeSize[v]++;
            }
        }
        int[] bits = new int[40];
        for (int i = 0; i < 18; i++) {
            bits[codeSize[i]] += codeSize[i] > 0 ? 1 : 0;
        }
        for (int i = 39; i > 16; i--) {
            while (bits[i] > 0) {
                int j = i - 2;
                while (bits[j] == 0) {
                    j--;
                }
                bits[i] -= 2;
                bits[i - 1]++;
                bits[j + 1] += 2;
                bits[j]--;
            }
        }
        int longest = 16;
        while (bits[longest] == 0) {
            longest--;
        }
        bits[longest]--;
        System.arraycopy(bits, 1, counts, 1, 16);
        int[] symbols = new int[Arrays.stream(counts).sum()];
        int k = 0;
        for (int size = 1; size < 40 && k < symbols.length; size++) {
            for (int s = 0; s < 17; s++) {
                if (codeSize[s] == size) {
                    symbols[k++] = s;
                }
            }
        }
        return symbols;
    }

    /** Canonical codes of T.81 Annex C from BITS and HUFFVAL. */
    private static void assignCodes(int[] counts, int[] symbols, int[] codes, int[] lengths) {
        int code = 0;
        int k = 0;
        for (int length = 1; length <= 16; length++) {
            for (int i = 0; i < counts[length]; i++) {
                codes[symbols[k]] = code++;
                lengths[symbols[k]] = length;
                k++;
            }
            code <<= 1;
        }
    }
}
