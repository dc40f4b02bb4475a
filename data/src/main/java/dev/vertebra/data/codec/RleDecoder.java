package dev.vertebra.data.codec;

/**
 * Decoder for DICOM RLE Lossless (transfer syntax 1.2.840.10008.1.2.5, PS3.5 Annex G): a 64-byte header of
 * segment offsets, then one PackBits segment per byte plane, most significant byte of sample 0 first. Planes are
 * recombined straight into pixel-interleaved output.
 *
 * <pre>{@code
 * new RleDecoder().decode(frameBytes, format, pixels, 0);
 * }</pre>
 */
public final class RleDecoder implements FrameDecoder {

    private static final String CODEC = "RLE";
    private static final int HEADER_BYTES = 64;

    /** A decoder; it holds no state, so one instance serves every thread. */
    public RleDecoder() {
    }

    @Override
    public void decode(byte[] frame, FrameFormat format, int[] out, int outOffset) throws CodecException {
        int bytesPerSample = format.bitsAllocated() / 8;
        int samplesPerPixel = format.samplesPerPixel();
        if (format.bitsAllocated() % 8 != 0 || bytesPerSample < 1 || bytesPerSample > 4 || samplesPerPixel < 1) {
            throw new CodecException(CODEC, 0, "BitsAllocated " + format.bitsAllocated() + " cannot be RLE coded");
        }
        if (frame.length < HEADER_BYTES) {
            throw new CodecException(CODEC, frame.length, "frame shorter than the 64-byte RLE header");
        }
        int segments = readInt(frame, 0);
        int expectedSegments = bytesPerSample * samplesPerPixel;
        if (segments != expectedSegments) {
            throw new CodecException(CODEC, 0, "header lists " + segments + " segments, the pixel format needs " + expectedSegments);
        }
        int pixels = format.rows() * format.columns();
        java.util.Arrays.fill(out, outOffset, outOffset + pixels * samplesPerPixel, 0);
        long[] starts = new long[segments + 1];
        starts[segments] = frame.length;
        for (int s = 0; s < segments; s++) {
            starts[s] = readInt(frame, 4 + 4 * s) & 0xFFFFFFFFL;
            if (starts[s] < HEADER_BYTES || starts[s] > frame.length || (s > 0 && starts[s] < starts[s - 1])) {
                throw new CodecException(CODEC, 4 + 4 * s, "segment " + s + " starts at byte " + starts[s]
                        + " of a " + frame.length + "-byte frame");
            }
        }
        for (int s = 0; s < segments; s++) {
            int sample = s / bytesPerSample;
            int shift = 8 * (bytesPerSample - 1 - s % bytesPerSample);
            unpackSegment(frame, (int) starts[s], (int) starts[s + 1], out, outOffset + sample, samplesPerPixel, pixels, shift);
        }
    }

    /** PackBits: a header byte n ≥ 0 copies n + 1 literal bytes, −127..−1 repeats the next byte 1 − n times, −128 is a no-op. */
    private static void unpackSegment(byte[] in, int pos, int end, int[] out, int first, int stride, int count, int shift)
            throws CodecException {
        int written = 0;
        int o = first;
        while (written < count) {
            if (pos >= end) {
                throw new CodecException(CODEC, pos, "segment holds " + written + " of " + count + " bytes");
            }
            int n = in[pos++];
            if (n >= 0) {
                int run = Math.min(n + 1, count - written);
                if (pos + run > end) {
                    throw new CodecException(CODEC, pos, "literal run of " + (n + 1) + " passes the end of its segment");
                }
                for (int k = 0; k < run; k++, o += stride) {
                    out[o] |= (in[pos + k] & 0xFF) << shift;
                }
                pos += n + 1;
                written += run;
            } else if (n != -128) {
                if (pos >= end) {
                    throw new CodecException(CODEC, pos, "replicate run without its byte");
                }
                int value = (in[pos++] & 0xFF) << shift;
                int run = Math.min(1 - n, count - written);
                for (int k = 0; k < run; k++, o += stride) {
                    out[o] |= value;
                }
                written += run;
            }
        }
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }
}
