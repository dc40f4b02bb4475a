package dev.vertebra.data.codec;

/** Bounds-checked big-endian reads of JPEG / JPEG-LS marker segments; every overrun is a {@link CodecException}. */
final class SegmentReader {

    private final byte[] data;
    private final String codec;
    int pos;

    SegmentReader(byte[] data, String codec) {
        this.data = data;
        this.codec = codec;
    }

    int u8() throws CodecException {
        if (pos >= data.length) {
            throw new CodecException(codec, pos, "stream ends inside a marker segment");
        }
        return data[pos++] & 0xFF;
    }

    int u16() throws CodecException {
        return u8() << 8 | u8();
    }

    /** Reads a segment's length field and checks the segment fits in the stream. */
    int segmentLength() throws CodecException {
        int length = u16();
        if (length < 2 || pos - 2L + length > data.length) {
            throw new CodecException(codec, pos - 2, "segment length " + length + " runs past the end of the stream");
        }
        return length;
    }

    void skip(int bytes) {
        pos += bytes;
    }

    /**
     * Advances to the next marker and returns its code (the byte after 0xFF), or −1 at the end of the data.
     * Bytes between segments that are not markers are skipped, as decoders commonly tolerate.
     */
    int nextMarker() {
        while (pos < data.length) {
            if (data[pos] == (byte) 0xFF) {
                while (pos < data.length && data[pos] == (byte) 0xFF) {
                    pos++;
                }
                if (pos >= data.length) {
                    return -1;
                }
                int code = data[pos++] & 0xFF;
                if (code != 0) {
                    return code;
                }
            } else {
                pos++;
            }
        }
        return -1;
    }
}
