package dev.vertebra.data.codec;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Entropy decoding and prediction of one lossless-JPEG scan (ITU T.81 Annex H, Huffman coded).
 *
 * <p>Samples are written straight into the caller's pixel-interleaved output so that the neighbours a predictor
 * needs (Ra left, Rb above, Rc above-left) are plain array reads at fixed strides; the point transform is applied
 * by the caller after every scan is decoded.
 */
final class LosslessScan {

    private static final VarHandle BIG_ENDIAN_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    private static final String CODEC = "JPEG lossless";

    private final byte[] data;
    private final int end;
    /** Next stream byte to load into {@link #bits}. */
    private int pos;
    /** Bit buffer: the {@link #count} low bits are unread stream bits, oldest first (most significant). */
    private long bits;
    private int count;
    /** Zero bits fed in place of data after the scan's terminating marker (or the end of the frame). */
    private int zeroBitsFed;

    LosslessScan(byte[] data, int start) {
        this.data = data;
        this.end = data.length;
        this.pos = start;
    }

    /** Position of the marker (or end of data) that ended the scan. */
    int position() {
        return pos;
    }

    /**
     * Decodes the scan.
     *
     * @param out        output; sample (row, col) of scan component k goes to out[base + (row * cols + col) * stride + offsets[k]]
     * @param tables     Huffman table of each scan component
     * @param initial    prediction for the first sample of the frame and of each restart interval: 2^(P − Pt − 1)
     * @param rowsPerRestart rows between restart markers, 0 for none
     */
    void decode(int[] out, int base, int stride, int rows, int cols, int[] offsets, HuffmanTable[] tables,
                int predictor, int initial, int rowsPerRestart) throws CodecException {
        int rowStride = cols * stride;
        int rowsLeftInInterval = rowsPerRestart;
        boolean firstRowOfInterval = true;
        for (int row = 0; row < rows; row++) {
            if (rowsPerRestart > 0 && rowsLeftInInterval == 0) {
                restart();
                rowsLeftInInterval = rowsPerRestart;
                firstRowOfInterval = true;
            }
            int rowStart = base + row * rowStride;
            if (offsets.length == 1) {
                decodeRow(out, rowStart + offsets[0], stride, rowStride, cols, tables[0], predictor, initial, firstRowOfInterval);
            } else {
                decodeInterleavedRow(out, rowStart, stride, rowStride, cols, offsets, tables, predictor, initial, firstRowOfInterval);
            }
            firstRowOfInterval = false;
            rowsLeftInInterval--;
        }
        if (zeroBitsFed > count) {
            throw new CodecException(CODEC, pos, "scan data ends before the last sample");
        }
    }

    /**
     * One row of a single-component scan: the hot loop for CT. The bit buffer lives in locals here (written back
     * before any slow path) and is refilled four bytes at a time whenever none of them is 0xFF.
     */
    private void decodeRow(int[] out, int start, int stride, int rowStride, int cols, HuffmanTable table,
                           int predictor, int initial, boolean firstRow) throws CodecException {
        int[] lookahead = table.lookahead;
        byte[] data = this.data;
        long bits = this.bits;
        int count = this.count;
        int pos = this.pos;
        int safeEnd = end - 4;
        int stop = start + cols * stride;
        for (int i = start; i < stop; i += stride) {
            int prediction;
            if (i == start) {
                prediction = firstRow ? initial : out[i - rowStride];
            } else if (firstRow || predictor == 1) {
                prediction = out[i - stride];
            } else {
                prediction = predict(predictor, out[i - stride], out[i - rowStride], out[i - rowStride - stride]);
            }
            if (count < 32) {
                int word;
                if (pos <= safeEnd && !hasFFByte(word = (int) BIG_ENDIAN_INT.get(data, pos))) {
                    bits = (bits << 32) | (word & 0xFFFFFFFFL);
                    count += 32;
                    pos += 4;
                } else {
                    this.bits = bits;
                    this.count = count;
                    this.pos = pos;
                    fill();
                    bits = this.bits;
                    count = this.count;
                    pos = this.pos;
                }
            }
            int entry = lookahead[(int) (bits >>> (count - HuffmanTable.LOOKAHEAD_BITS)) & ((1 << HuffmanTable.LOOKAHEAD_BITS) - 1)];
            int difference;
            if ((entry & HuffmanTable.FULLY_DECODED) != 0) {
                count -= entry & 31;
                difference = entry >> 8;
            } else {
                this.bits = bits;
                this.count = count;
                difference = slowDifference(table, entry);
                count = this.count;
            }
            out[i] = (prediction + difference) & 0xFFFF;
        }
        this.bits = bits;
        this.count = count;
        this.pos = pos;
    }

    /** True when any byte of {@code word} is 0xFF (a stuffed byte or a marker needs the careful path). */
    private static boolean hasFFByte(int word) {
        int inverted = ~word;
        return ((inverted - 0x01010101) & ~inverted & 0x80808080) != 0;
    }

    /** One row of an interleaved scan: every component with sampling factors 1×1, one sample each per MCU. */
    private void decodeInterleavedRow(int[] out, int start, int stride, int rowStride, int cols, int[] offsets,
                                      HuffmanTable[] tables, int predictor, int initial, boolean firstRow)
            throws CodecException {
        for (int col = 0; col < cols; col++) {
            for (int k = 0; k < offsets.length; k++) {
                int i = start + col * stride + offsets[k];
                int prediction;
                if (col == 0) {
                    prediction = firstRow ? initial : out[i - rowStride];
                } else if (firstRow) {
                    prediction = out[i - stride];
                } else {
                    prediction = predict(predictor, out[i - stride], out[i - rowStride], out[i - rowStride - stride]);
                }
                out[i] = (prediction + nextDifference(tables[k], tables[k].lookahead)) & 0xFFFF;
            }
        }
    }

    /** Predictors of T.81 Table H.1; arithmetic on the 16-bit stored domain, so ints never overflow. */
    private static int predict(int predictor, int ra, int rb, int rc) {
        return switch (predictor) {
            case 1 -> ra;
            case 2 -> rb;
            case 3 -> rc;
            case 4 -> ra + rb - rc;
            case 5 -> ra + ((rb - rc) >> 1);
            case 6 -> rb + ((ra - rc) >> 1);
            default -> (ra + rb) >>> 1;
        };
    }

    private int nextDifference(HuffmanTable table, int[] lookahead) throws CodecException {
        if (count < 32) {
            fill();
        }
        int entry = lookahead[(int) (bits >>> (count - HuffmanTable.LOOKAHEAD_BITS)) & ((1 << HuffmanTable.LOOKAHEAD_BITS) - 1)];
        if ((entry & HuffmanTable.FULLY_DECODED) != 0) {
            count -= entry & 31;
            return entry >> 8;
        }
        return slowDifference(table, entry);
    }

    private int slowDifference(HuffmanTable table, int entry) throws CodecException {
        if (entry == 0) {
            entry = table.decodeLong((int) (bits >>> (count - 16)) & 0xFFFF);
            if (entry < 0) {
                throw new CodecException(CODEC, pos, "bit pattern matches no Huffman code");
            }
        }
        count -= entry & 31;
        int symbol = entry >>> 8;
        if (symbol == 16) {
            return 32768;
        }
        if (symbol == 0) {
            return 0;
        }
        count -= symbol;
        int extra = (int) (bits >>> count) & ((1 << symbol) - 1);
        return HuffmanTable.difference(symbol, extra);
    }

    /** Tops the buffer up to more than 56 bits; after a marker or the end of data it feeds zeros. */
    private void fill() throws CodecException {
        while (count <= 56) {
            int b = 0;
            if (zeroBitsFed == 0 && pos < end) {
                b = data[pos] & 0xFF;
                if (b != 0xFF) {
                    pos++;
                } else if (pos + 1 < end && data[pos + 1] == 0) {
                    pos += 2;
                } else {
                    b = 0;
                    zeroBitsFed = 8;
                }
            } else if (zeroBitsFed > count) {
                throw new CodecException(CODEC, pos, "scan data ends before the last sample");
            } else {
                zeroBitsFed += 8;
            }
            bits = (bits << 8) | b;
            count += 8;
        }
    }

    /** Skips to just past the RSTn marker that must end a restart interval, and empties the bit buffer. */
    private void restart() throws CodecException {
        if (zeroBitsFed > count) {
            throw new CodecException(CODEC, pos, "restart interval ends before its last sample");
        }
        bits = 0;
        count = 0;
        zeroBitsFed = 0;
        if (pos >= end || data[pos] != (byte) 0xFF) {
            throw new CodecException(CODEC, pos, "expected a restart marker");
        }
        while (pos < end && data[pos] == (byte) 0xFF) {
            pos++;
        }
        if (pos >= end || (data[pos] & 0xF8) != 0xD0) {
            throw new CodecException(CODEC, pos, "expected a restart marker");
        }
        pos++;
    }
}
