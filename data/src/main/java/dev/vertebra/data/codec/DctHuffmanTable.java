package dev.vertebra.data.codec;

/**
 * A Huffman table of DCT JPEG (ITU T.81 Annex C, decoded as in F.2.2.3), with a lookahead table for short codes.
 *
 * <p>Indexing the next {@link #LOOKAHEAD_BITS} bits of the stream gives (symbol << 8) | code length, or 0 when the
 * code is longer than the lookahead and the canonical slow path ({@link #decodeLong}) must run.
 */
final class DctHuffmanTable {

    static final int LOOKAHEAD_BITS = 9;

    final int[] lookahead = new int[1 << LOOKAHEAD_BITS];

    /** Largest code of each length (−1 when none) and the offset from a code to its symbol index. */
    private final int[] maxCode = new int[17];
    private final int[] valueOffset = new int[17];
    private final int[] symbols;

    /**
     * @param counts    BITS: number of codes of each length 1..16 (index 0 unused)
     * @param symbols   HUFFVAL: symbols in order of increasing code length
     * @param maxSymbol largest symbol allowed (DC tables: the largest difference category of the precision)
     * @param codec     codec name for error messages
     * @param offset    byte offset of the table in the frame, for error messages
     */
    DctHuffmanTable(int[] counts, int[] symbols, int maxSymbol, String codec, long offset) throws CodecException {
        this.symbols = symbols.clone();
        int code = 0;
        int k = 0;
        for (int length = 1; length <= 16; length++) {
            valueOffset[length] = k - code;
            for (int i = 0; i < counts[length]; i++) {
                if (code >= (1 << length)) {
                    throw new CodecException(codec, offset, "Huffman table has more codes of length " + length + " than fit");
                }
                int symbol = symbols[k++];
                if (symbol > maxSymbol) {
                    throw new CodecException(codec, offset, "Huffman symbol " + symbol + " is out of range (at most " + maxSymbol + ")");
                }
                if (length <= LOOKAHEAD_BITS) {
                    int free = LOOKAHEAD_BITS - length;
                    int first = code << free;
                    for (int suffix = 0; suffix < (1 << free); suffix++) {
                        lookahead[first | suffix] = (symbol << 8) | length;
                    }
                }
                code++;
            }
            maxCode[length] = counts[length] == 0 ? -1 : code - 1;
            code <<= 1;
        }
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
