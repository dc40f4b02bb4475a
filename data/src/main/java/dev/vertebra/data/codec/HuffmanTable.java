package dev.vertebra.data.codec;

/**
 * A lossless-JPEG Huffman table (ITU T.81 Annex C) with a lookahead table for fast decoding.
 *
 * <p>Indexing the next {@link #LOOKAHEAD_BITS} bits of the stream gives, in one load, either the whole
 * difference (code and extra bits both fit: the common case for CT), or the category symbol and its code length,
 * or 0 when the code is longer than the lookahead and the canonical slow path must run.
 */
final class HuffmanTable {

    /** Bits examined by one table lookup; 2^12 entries keep the table in L1 while covering most CT codes. */
    static final int LOOKAHEAD_BITS = 12;

    /** Flag in a lookahead entry: bits 0–4 hold the total bits consumed and bits 8+ the signed difference. */
    static final int FULLY_DECODED = 32;

    /** lookahead[next 12 bits]: see {@link #FULLY_DECODED}; otherwise (symbol << 8) | code length, or 0. */
    final int[] lookahead = new int[1 << LOOKAHEAD_BITS];

    /** Canonical decoding for long codes: largest code of each length (−1 when none), and the symbol index base. */
    private final int[] maxCode = new int[18];
    private final int[] valueOffset = new int[17];
    private final int[] symbols;

    /**
     * @param counts  BITS: number of codes of each length 1..16 (index 0 unused)
     * @param symbols HUFFVAL: symbols in order of increasing code length
     * @param offset  byte offset of the table in the frame, for error messages
     */
    HuffmanTable(int[] counts, int[] symbols, long offset) throws CodecException {
        this.symbols = symbols.clone();
        int code = 0;
        int k = 0;
        for (int length = 1; length <= 16; length++) {
            valueOffset[length] = k - code;
            for (int i = 0; i < counts[length]; i++) {
                if (code >= (1 << length)) {
                    throw new CodecException("JPEG lossless", offset, "Huffman table has more codes of length " + length + " than fit");
                }
                int symbol = symbols[k++];
                if (symbol > 16) {
                    throw new CodecException("JPEG lossless", offset, "Huffman symbol " + symbol + " is not a lossless difference category");
                }
                if (length <= LOOKAHEAD_BITS) {
                    fillLookahead(code, length, symbol);
                }
                code++;
            }
            maxCode[length] = counts[length] == 0 ? -1 : code - 1;
            code <<= 1;
        }
        maxCode[17] = Integer.MAX_VALUE;
    }

    private void fillLookahead(int code, int length, int symbol) {
        int free = LOOKAHEAD_BITS - length;
        int first = code << free;
        for (int suffix = 0; suffix < (1 << free); suffix++) {
            int entry;
            int extraBits = symbol == 16 ? 0 : symbol;
            if (extraBits <= free) {
                int extra = suffix >>> (free - extraBits) & ((1 << extraBits) - 1);
                entry = (difference(symbol, extra) << 8) | FULLY_DECODED | (length + extraBits);
            } else {
                entry = (symbol << 8) | length;
            }
            lookahead[first | suffix] = entry;
        }
    }

    /** The difference encoded by category {@code symbol} and its {@code symbol} extra bits (T.81 H.1.2.2, F.2.2.1). */
    static int difference(int symbol, int extra) {
        if (symbol == 16) {
            return 32768;
        }
        if (symbol == 0) {
            return 0;
        }
        return extra < (1 << (symbol - 1)) ? extra - (1 << symbol) + 1 : extra;
    }

    /**
     * Slow path: decodes a code longer than the lookahead from the 16 bits {@code next16}.
     *
     * @return (symbol << 8) | code length, or −1 when no code matches (a corrupt stream)
     */
    int decodeLong(int next16) {
        for (int length = LOOKAHEAD_BITS + 1; length <= 16; length++) {
            int code = next16 >>> (16 - length);
            if (code <= maxCode[length]) {
                return (symbols[valueOffset[length] + code] << 8) | length;
            }
        }
        return -1;
    }
}
