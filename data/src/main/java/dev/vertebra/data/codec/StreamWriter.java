package dev.vertebra.data.codec;

import java.util.Arrays;

/** Growable big-endian byte sink with a JPEG entropy-coded bit writer (0xFF bytes get a stuffed 0x00). */
final class StreamWriter {

    private byte[] buffer;
    private int size;
    private long bitBuffer;
    private int bitCount;

    StreamWriter(int initialCapacity) {
        buffer = new byte[Math.max(64, initialCapacity)];
    }

    StreamWriter u8(int value) {
        if (size == buffer.length) {
            buffer = Arrays.copyOf(buffer, buffer.length * 2);
        }
        buffer[size++] = (byte) value;
        return this;
    }

    StreamWriter u16(int value) {
        return u8(value >>> 8).u8(value);
    }

    /** Appends the {@code length} low bits of {@code value}, most significant first. */
    void bits(int value, int length) {
        bitBuffer = (bitBuffer << length) | (value & ((1L << length) - 1));
        bitCount += length;
        while (bitCount >= 8) {
            bitCount -= 8;
            int b = (int) (bitBuffer >>> bitCount) & 0xFF;
            u8(b);
            if (b == 0xFF) {
                u8(0);
            }
        }
    }

    /** Pads the last partial byte with one bits, as T.81 F.1.2.3 requires before a marker. */
    void flushBits() {
        if (bitCount > 0) {
            bits(0x7F, 8 - bitCount);
        }
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buffer, size);
    }
}
