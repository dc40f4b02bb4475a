package dev.vertebra.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Objects;

/**
 * Random access to the bytes of a file or an in-memory array whose size is known up front, so readers can
 * check every length a file claims against what is really there before allocating anything.
 */
sealed interface ByteSource permits ByteSource.OfChannel, ByteSource.OfBytes {

    /** Name used in error messages. */
    String name();

    /** Total number of bytes. */
    long size();

    /** Reads exactly {@code length} bytes at {@code position}, or fails with a {@link TensorFormatException}. */
    void readFully(long position, byte[] destination, int destinationOffset, int length) throws IOException;

    /** Reads {@code length} bytes at {@code position} into a new array (the caller checked the length). */
    default byte[] readBytes(long position, int length) throws IOException {
        if (position < 0 || length < 0 || position > size() - length) {
            throw new TensorFormatException(name(), position, "needs " + length + " bytes but the source has only "
                    + Math.max(0, size() - position) + " left (truncated?)");
        }
        byte[] bytes = new byte[length];
        readFully(position, bytes, 0, length);
        return bytes;
    }

    /** A file read with positional reads, so several tensors can be read without re-opening it. */
    record OfChannel(FileChannel channel, String name, long size) implements ByteSource {

        public OfChannel {
            Objects.requireNonNull(channel, "channel");
        }

        @Override
        public void readFully(long position, byte[] destination, int destinationOffset, int length)
                throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(destination, destinationOffset, length);
            long at = position;
            while (buffer.hasRemaining()) {
                int read = channel.read(buffer, at);
                if (read < 0) {
                    // The size was checked when the file was opened: it shrank while we were reading.
                    throw new TensorFormatException(name, at, "unexpected end of file (was it truncated?)");
                }
                at += read;
            }
        }
    }

    /** An in-memory byte array. */
    record OfBytes(byte[] bytes, String name) implements ByteSource {

        public OfBytes {
            Objects.requireNonNull(bytes, "bytes");
        }

        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public void readFully(long position, byte[] destination, int destinationOffset, int length)
                throws IOException {
            if (position < 0 || position > bytes.length - (long) length) {
                throw new TensorFormatException(name, position, "unexpected end of data");
            }
            System.arraycopy(bytes, (int) position, destination, destinationOffset, length);
        }
    }
}
