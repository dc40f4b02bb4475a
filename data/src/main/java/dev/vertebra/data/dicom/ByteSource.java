package dev.vertebra.data.dicom;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Where a dataset's bytes live, so that large values can be read after parsing. */
sealed interface ByteSource {

    /** Names the source in error messages. */
    String name();

    long size();

    /** Copies {@code length} bytes from {@code position}; the caller has checked the range. */
    void read(long position, byte[] destination, int offset, int length) throws DicomException;

    /** Reads {@code length} bytes from {@code position}, refusing ranges outside the source before allocating. */
    default byte[] read(long position, long length) throws DicomException {
        if (position < 0 || length < 0 || length > size() - position) {
            throw new DicomException(name(), position,
                    "value of " + length + " bytes runs past the end of the data (" + size() + " bytes)");
        }
        if (length > Integer.MAX_VALUE - 8) {
            throw new DicomException(name(), position, "value of " + length + " bytes is too large for one array");
        }
        byte[] bytes = new byte[(int) length];
        read(position, bytes, 0, bytes.length);
        return bytes;
    }

    /** Bytes in memory. */
    record InMemory(String name, byte[] bytes) implements ByteSource {
        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public void read(long position, byte[] destination, int offset, int length) {
            System.arraycopy(bytes, (int) position, destination, offset, length);
        }
    }

    /** A file, opened for each read so that a parsed dataset holds no open handle. */
    record InFile(Path path, long size) implements ByteSource {
        @Override
        public String name() {
            return path.toString();
        }

        @Override
        public void read(long position, byte[] destination, int offset, int length) throws DicomException {
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                readFrom(channel, position, destination, offset, length);
            } catch (IOException e) {
                throw e instanceof DicomException d ? d
                        : new DicomException(name(), position, "cannot read: " + DicomException.reason(e), e);
            }
        }

        void readFrom(FileChannel channel, long position, byte[] destination, int offset, int length)
                throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(destination, offset, length);
            long at = position;
            while (buffer.hasRemaining()) {
                int n = channel.read(buffer, at);
                if (n < 0) {
                    throw new DicomException(name(), at, "file shrank while reading");
                }
                at += n;
            }
        }
    }
}
