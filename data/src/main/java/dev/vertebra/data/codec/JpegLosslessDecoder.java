package dev.vertebra.data.codec;

/**
 * Decoder for lossless JPEG, ITU T.81 process 14 (Huffman coded, predictors 1–7, point transform, precision
 * 2–16, 1–4 components, interleaved or one scan per component, restart markers): DICOM transfer syntaxes
 * 1.2.840.10008.1.2.4.57 and 1.2.840.10008.1.2.4.70 (selection value 1 only).
 *
 * <pre>{@code
 * int[] pixels = new int[format.samples()];
 * new JpegLosslessDecoder().decode(frameBytes, format, pixels, 0);
 * }</pre>
 *
 * <p>Stateless and thread-safe.
 */
public final class JpegLosslessDecoder implements FrameDecoder {

    private static final String CODEC = "JPEG lossless";
    private static final int MAX_COMPONENTS = 4;

    /** One frame component from SOF3. */
    private record Component(int id, int horizontal, int vertical) {
    }

    /** A decoder; it holds no state, so one instance serves every thread. */
    public JpegLosslessDecoder() {
    }

    @Override
    public void decode(byte[] frame, FrameFormat format, int[] out, int outOffset) throws CodecException {
        if (out.length - (long) outOffset < format.samples() || outOffset < 0) {
            throw new IllegalArgumentException("output has no room for " + format.samples() + " samples at " + outOffset);
        }
        var in = new SegmentReader(frame, CODEC);
        if (in.u8() != 0xFF || in.u8() != 0xD8) {
            throw new CodecException(CODEC, 0, "no SOI marker");
        }
        HuffmanTable[] tables = new HuffmanTable[4];
        Component[] components = null;
        int precision = 0;
        int restartInterval = 0;
        boolean[] decoded = null;
        int[] pointTransform = null;
        while (true) {
            int marker = in.nextMarker();
            long markerAt = in.pos - 2;
            switch (marker) {
                case 0xD8 -> throw new CodecException(CODEC, markerAt, "second SOI marker");
                case 0xD9 -> {
                    finish(components, decoded, pointTransform, out, outOffset, format, markerAt);
                    return;
                }
                case 0xC3 -> {
                    if (components != null) {
                        throw new CodecException(CODEC, markerAt, "second frame header");
                    }
                    int length = in.segmentLength();
                    precision = in.u8();
                    int rows = in.u16();
                    int cols = in.u16();
                    int count = in.u8();
                    if (length != 8 + 3 * count || count < 1 || count > MAX_COMPONENTS) {
                        throw new CodecException(CODEC, markerAt, "bad frame header: " + count + " components, length " + length);
                    }
                    checkFormat(format, precision, rows, cols, count, markerAt);
                    components = new Component[count];
                    for (int c = 0; c < count; c++) {
                        int id = in.u8();
                        int sampling = in.u8();
                        in.u8();
                        components[c] = new Component(id, sampling >> 4, sampling & 15);
                        if (count > 1 && sampling != 0x11) {
                            throw new CodecException(CODEC, markerAt, "subsampled components are not supported in lossless JPEG");
                        }
                    }
                    decoded = new boolean[count];
                    pointTransform = new int[count];
                }
                case 0xC4 -> readHuffmanTables(in, tables);
                case 0xDD -> {
                    if (in.segmentLength() != 4) {
                        throw new CodecException(CODEC, markerAt, "bad DRI length");
                    }
                    restartInterval = in.u16();
                }
                case 0xDA -> {
                    if (components == null) {
                        throw new CodecException(CODEC, markerAt, "scan before frame header");
                    }
                    decodeScan(in, frame, components, tables, precision, restartInterval, decoded, pointTransform,
                            format, out, outOffset, markerAt);
                }
                case 0xC0, 0xC1, 0xC2, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF ->
                        throw new CodecException(CODEC, markerAt, String.format("frame type SOF%d is not lossless Huffman (SOF3)", marker - 0xC0));
                case -1 -> {
                    // Some writers drop EOI; accept the frame if every component was decoded.
                    finish(components, decoded, pointTransform, out, outOffset, format, frame.length);
                    return;
                }
                default -> {
                    if ((marker & 0xF8) == 0xD0 || marker == 0x01) {
                        continue;
                    }
                    in.skip(in.segmentLength() - 2);
                }
            }
        }
    }

    private static void checkFormat(FrameFormat format, int precision, int rows, int cols, int count, long at)
            throws CodecException {
        if (precision < 2 || precision > 16) {
            throw new CodecException(CODEC, at, "precision " + precision + " is outside 2..16");
        }
        if (rows != format.rows() || cols != format.columns() || count != format.samplesPerPixel()) {
            throw new CodecException(CODEC, at, "stream holds " + rows + "x" + cols + "x" + count
                    + " but the header says " + format.rows() + "x" + format.columns() + "x" + format.samplesPerPixel());
        }
        if (precision > Math.max(format.bitsAllocated(), 8)) {
            throw new CodecException(CODEC, at, "precision " + precision + " exceeds BitsAllocated " + format.bitsAllocated());
        }
    }

    private static void readHuffmanTables(SegmentReader in, HuffmanTable[] tables) throws CodecException {
        int segment = in.segmentLength();
        int end = in.pos + segment - 2;
        while (in.pos < end) {
            long at = in.pos;
            int classAndId = in.u8();
            if ((classAndId >> 4) != 0 || (classAndId & 15) > 3) {
                throw new CodecException(CODEC, at, "Huffman table class/id " + Integer.toHexString(classAndId) + " is not a lossless table");
            }
            int[] counts = new int[17];
            int total = 0;
            for (int length = 1; length <= 16; length++) {
                counts[length] = in.u8();
                total += counts[length];
            }
            if (total > 256 || in.pos + total > end) {
                throw new CodecException(CODEC, at, "Huffman table claims " + total + " symbols");
            }
            int[] symbols = new int[total];
            for (int k = 0; k < total; k++) {
                symbols[k] = in.u8();
            }
            tables[classAndId & 15] = new HuffmanTable(counts, symbols, at);
        }
        if (in.pos != end) {
            throw new CodecException(CODEC, in.pos, "DHT segment length disagrees with its tables");
        }
    }

    private static void decodeScan(SegmentReader in, byte[] frame, Component[] components, HuffmanTable[] tables,
                                   int precision, int restartInterval, boolean[] decoded, int[] pointTransform,
                                   FrameFormat format, int[] out, int outOffset, long at) throws CodecException {
        int length = in.segmentLength();
        int count = in.u8();
        if (count < 1 || count > components.length || length != 6 + 2 * count) {
            throw new CodecException(CODEC, at, "bad scan header: " + count + " components, length " + length);
        }
        int[] offsets = new int[count];
        HuffmanTable[] scanTables = new HuffmanTable[count];
        for (int k = 0; k < count; k++) {
            int id = in.u8();
            int tableIds = in.u8();
            int index = indexOf(components, id);
            if (index < 0 || decoded[index]) {
                throw new CodecException(CODEC, at, "scan names unknown or already decoded component " + id);
            }
            scanTables[k] = tables[tableIds >> 4 & 3];
            if (scanTables[k] == null || (tableIds >> 4) > 3) {
                throw new CodecException(CODEC, at, "scan uses undefined Huffman table " + (tableIds >> 4));
            }
            offsets[k] = index;
        }
        int predictor = in.u8();
        in.u8();
        int shift = in.u8() & 15;
        if (predictor < 1 || predictor > 7 || shift >= precision) {
            throw new CodecException(CODEC, at, "bad predictor " + predictor + " or point transform " + shift);
        }
        int rows = format.rows();
        int cols = format.columns();
        int rowsPerRestart = 0;
        if (restartInterval > 0) {
            if (restartInterval % cols != 0) {
                throw new CodecException(CODEC, at, "restart interval " + restartInterval + " is not a whole number of rows");
            }
            rowsPerRestart = restartInterval / cols;
        }
        var scan = new LosslessScan(frame, in.pos);
        scan.decode(out, outOffset, components.length, rows, cols, offsets, scanTables, predictor,
                1 << (precision - shift - 1), rowsPerRestart);
        for (int index : offsets) {
            decoded[index] = true;
            pointTransform[index] = shift;
        }
        in.pos = scan.position();
    }

    private static int indexOf(Component[] components, int id) {
        for (int c = 0; c < components.length; c++) {
            if (components[c].id() == id) {
                return c;
            }
        }
        return -1;
    }

    /** Checks every component was decoded and undoes the point transform. */
    private static void finish(Component[] components, boolean[] decoded, int[] pointTransform, int[] out,
                               int outOffset, FrameFormat format, long at) throws CodecException {
        if (components == null) {
            throw new CodecException(CODEC, at, "no frame header");
        }
        for (int c = 0; c < components.length; c++) {
            if (!decoded[c]) {
                throw new CodecException(CODEC, at, "component " + components[c].id() + " has no scan");
            }
            int shift = pointTransform[c];
            if (shift != 0) {
                for (int i = outOffset + c, stop = outOffset + format.samples(); i < stop; i += components.length) {
                    out[i] <<= shift;
                }
            }
        }
    }
}
