package dev.vertebra.data.codec;

/**
 * Decoder for JPEG-LS, ITU T.87 lossless and near-lossless: DICOM transfer syntaxes 1.2.840.10008.1.2.4.80 and
 * 1.2.840.10008.1.2.4.81. Precision 2–16, 1–4 components, interleave modes none, line, and sample (three
 * components), preset coding parameters from LSE segments. Mapping tables and point transforms are rejected.
 *
 * <pre>{@code
 * new JpegLsDecoder().decode(frameBytes, format, pixels, 0);
 * }</pre>
 */
public final class JpegLsDecoder implements FrameDecoder {

    private static final String CODEC = "JPEG-LS";

    /** A decoder; it holds no state, so one instance serves every thread. */
    public JpegLsDecoder() {
    }

    @Override
    public void decode(byte[] frame, FrameFormat format, int[] out, int outOffset) throws CodecException {
        if (outOffset < 0 || out.length - (long) outOffset < format.samples()) {
            throw new IllegalArgumentException("output has no room for " + format.samples() + " samples at " + outOffset);
        }
        var in = new SegmentReader(frame, CODEC);
        if (in.u8() != 0xFF || in.u8() != 0xD8) {
            throw new CodecException(CODEC, 0, "no SOI marker");
        }
        int precision = 0;
        int[] componentIds = null;
        boolean[] decoded = null;
        int maxValue = 0;
        int t1 = 0;
        int t2 = 0;
        int t3 = 0;
        int reset = 0;
        while (true) {
            int marker = in.nextMarker();
            long at = in.pos - 2;
            switch (marker) {
                case 0xF7 -> {
                    if (componentIds != null) {
                        throw new CodecException(CODEC, at, "second frame header");
                    }
                    int length = in.segmentLength();
                    precision = in.u8();
                    int rows = in.u16();
                    int cols = in.u16();
                    int count = in.u8();
                    if (length != 8 + 3 * count || count < 1 || count > 4) {
                        throw new CodecException(CODEC, at, "bad frame header: " + count + " components, length " + length);
                    }
                    if (precision < 2 || precision > 16 || precision > Math.max(8, format.bitsAllocated())) {
                        throw new CodecException(CODEC, at, "precision " + precision + " with BitsAllocated " + format.bitsAllocated());
                    }
                    if (rows != format.rows() || cols != format.columns() || count != format.samplesPerPixel()) {
                        throw new CodecException(CODEC, at, "stream holds " + rows + "x" + cols + "x" + count + " but the header says "
                                + format.rows() + "x" + format.columns() + "x" + format.samplesPerPixel());
                    }
                    componentIds = new int[count];
                    for (int k = 0; k < count; k++) {
                        componentIds[k] = in.u8();
                        int sampling = in.u8();
                        in.u8();
                        if (sampling != 0x11) {
                            throw new CodecException(CODEC, at, "subsampled components are not supported");
                        }
                    }
                    decoded = new boolean[count];
                }
                case 0xF8 -> {
                    int length = in.segmentLength();
                    int id = in.u8();
                    if (id != 1 || length != 13) {
                        throw new CodecException(CODEC, at, "LSE segment of type " + id + " (mapping tables) is not supported");
                    }
                    maxValue = in.u16();
                    t1 = in.u16();
                    t2 = in.u16();
                    t3 = in.u16();
                    reset = in.u16();
                }
                case 0xDA -> {
                    if (componentIds == null) {
                        throw new CodecException(CODEC, at, "scan before frame header");
                    }
                    decodeScan(in, frame, at, precision, componentIds, decoded, maxValue, t1, t2, t3, reset, format, out, outOffset);
                }
                case 0xD9, -1 -> {
                    if (componentIds == null) {
                        throw new CodecException(CODEC, at, "no frame header");
                    }
                    for (int k = 0; k < decoded.length; k++) {
                        if (!decoded[k]) {
                            throw new CodecException(CODEC, Math.max(0, at), "component " + componentIds[k] + " has no scan");
                        }
                    }
                    return;
                }
                case 0xD8 -> throw new CodecException(CODEC, at, "second SOI marker");
                case 0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF9 ->
                        throw new CodecException(CODEC, at, "frame type marker 0xFF" + Integer.toHexString(marker) + " is not JPEG-LS");
                default -> {
                    if ((marker & 0xF8) == 0xD0 || marker == 0x01) {
                        continue;
                    }
                    in.skip(in.segmentLength() - 2);
                }
            }
        }
    }

    private static void decodeScan(SegmentReader in, byte[] frame, long at, int precision, int[] componentIds,
                                   boolean[] decoded, int maxValue, int t1, int t2, int t3, int reset,
                                   FrameFormat format, int[] out, int outOffset) throws CodecException {
        int length = in.segmentLength();
        int count = in.u8();
        if (count < 1 || count > componentIds.length || length != 6 + 2 * count) {
            throw new CodecException(CODEC, at, "bad scan header: " + count + " components, length " + length);
        }
        int[] offsets = new int[count];
        for (int k = 0; k < count; k++) {
            int id = in.u8();
            int mappingTable = in.u8();
            int index = -1;
            for (int c = 0; c < componentIds.length; c++) {
                if (componentIds[c] == id) {
                    index = c;
                }
            }
            if (index < 0 || decoded[index] || mappingTable != 0) {
                throw new CodecException(CODEC, at, "scan names unknown, repeated or mapped component " + id);
            }
            offsets[k] = index;
        }
        int near = in.u8();
        int interleave = in.u8();
        int pointTransform = in.u8() & 15;
        int max = maxValue != 0 ? maxValue : (1 << precision) - 1;
        if (pointTransform != 0 || interleave > 2 || near > Math.min(255, max / 2)
                || (interleave == 0) != (count == 1) || (interleave == 2 && count != 3)) {
            throw new CodecException(CODEC, at, "unsupported scan: NEAR " + near + ", ILV " + interleave
                    + ", " + count + " components, point transform " + pointTransform);
        }
        if (maxValue > 65535 || (maxValue != 0 && maxValue < 1) || t1 > max || t2 > max || t3 > max
                || (t1 != 0 && t2 != 0 && t1 > t2) || (t2 != 0 && t3 != 0 && t2 > t3)) {
            throw new CodecException(CODEC, at, "inconsistent preset parameters");
        }
        var parameters = JpegLsParameters.withDefaults(precision, maxValue, t1, t2, t3, reset, near);
        var scan = new JpegLsScan(frame, in.pos, parameters);
        scan.decode(out, outOffset, componentIds.length, format.columns(), format.rows(), offsets, interleave == 2);
        for (int index : offsets) {
            decoded[index] = true;
        }
        in.pos = scan.endPosition();
    }
}
