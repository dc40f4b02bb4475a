package dev.vertebra.data.dicom;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * Sequential reading over a {@link ByteSource} with a bounded window, so a file is parsed without loading it.
 * Every read is checked against the end of the source before any allocation.
 */
final class Cursor implements AutoCloseable {
    private static final int WINDOW = 1 << 16;

    private final ByteSource source;
    private final FileChannel channel;
    private final byte[] window;
    private long windowStart;
    private int windowLength;
    private long position;
    private boolean bigEndian;

    Cursor(ByteSource source) throws DicomException {
        this.source = source;
        switch (source) {
            case ByteSource.InMemory memory -> {
                channel = null;
                window = memory.bytes();
                windowLength = window.length;
            }
            case ByteSource.InFile file -> {
                try {
                    channel = FileChannel.open(file.path(), StandardOpenOption.READ);
                } catch (IOException e) {
                    throw new DicomException(file.name(), 0, "cannot open: " + DicomException.reason(e), e);
                }
                window = new byte[WINDOW];
            }
        }
    }

    ByteSource source() {
        return source;
    }

    String name() {
        return source.name();
    }

    long position() {
        return position;
    }

    long size() {
        return source.size();
    }

    long remaining() {
        return source.size() - position;
    }

    void seek(long newPosition) {
        position = newPosition;
    }

    boolean bigEndian() {
        return bigEndian;
    }

    void bigEndian(boolean value) {
        bigEndian = value;
    }

    DicomException error(long at, String message) {
        return new DicomException(source.name(), at, message);
    }

    private int index(int n) throws DicomException {
        if (n > remaining()) {
            throw error(position, "file ends " + remaining() + " bytes after this point, " + n + " bytes needed");
        }
        if (position < windowStart || position + n > windowStart + windowLength) {
            fill();
        }
        return (int) (position - windowStart);
    }

    private void fill() throws DicomException {
        int length = (int) Math.min(window.length, remaining());
        try {
            ((ByteSource.InFile) source).readFrom(channel, position, window, 0, length);
        } catch (IOException e) {
            throw e instanceof DicomException d ? d : new DicomException(name(), position, "cannot read", e);
        }
        windowStart = position;
        windowLength = length;
    }

    int u8() throws DicomException {
        int i = index(1);
        position += 1;
        return window[i] & 0xFF;
    }

    int u16() throws DicomException {
        int i = index(2);
        position += 2;
        int a = window[i] & 0xFF;
        int b = window[i + 1] & 0xFF;
        return bigEndian ? a << 8 | b : b << 8 | a;
    }

    long u32() throws DicomException {
        int i = index(4);
        position += 4;
        long v = 0;
        for (int k = 0; k < 4; k++) {
            int b = window[i + (bigEndian ? k : 3 - k)] & 0xFF;
            v = v << 8 | b;
        }
        return v;
    }

    /** Reads a tag: group then element, each 16 bits in the current byte order. */
    int tag() throws DicomException {
        int group = u16();
        return group << 16 | u16();
    }

    /** The byte at {@code position + ahead} without moving, or -1 past the end. */
    int peek(int ahead) throws DicomException {
        if (ahead >= remaining()) {
            return -1;
        }
        long saved = position;
        position += ahead;
        int b = u8();
        position = saved;
        return b;
    }

    /** Reads {@code n} bytes; refuses before allocating when fewer remain. */
    byte[] bytes(long n) throws DicomException {
        if (n < 0 || n > remaining()) {
            throw error(position, "value of " + n + " bytes runs past the end of the file (" + remaining()
                    + " bytes left)");
        }
        byte[] out;
        if (channel == null) {
            out = new byte[(int) n];
            System.arraycopy(window, (int) position, out, 0, (int) n);
        } else {
            out = new byte[(int) n];
            try {
                ((ByteSource.InFile) source).readFrom(channel, position, out, 0, out.length);
            } catch (IOException e) {
                throw e instanceof DicomException d ? d : new DicomException(name(), position, "cannot read", e);
            }
        }
        position += n;
        return out;
    }

    void skip(long n) throws DicomException {
        if (n < 0 || n > remaining()) {
            throw error(position, "cannot skip " + n + " bytes: " + remaining() + " left");
        }
        position += n;
    }

    @Override
    public void close() throws DicomException {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                throw new DicomException(name(), position, "cannot close", e);
            }
        }
    }
}
