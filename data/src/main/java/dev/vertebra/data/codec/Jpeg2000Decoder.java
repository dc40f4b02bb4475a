package dev.vertebra.data.codec;

import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decoder for JPEG 2000 (DICOM transfer syntaxes 1.2.840.10008.1.2.4.90 lossless-only and .91), delegating the
 * wavelet decoding to a javax.imageio JPEG 2000 reader (jai-imageio-jpeg2000 at run time).
 *
 * <p>Before handing bytes to the library, the SIZ marker segment is checked against the DICOM header, so a
 * stream claiming a huge image never reaches an allocation, and a stream without its end-of-codestream marker is
 * rejected (JPEG 2000 readers otherwise decode a truncated stream into a silently degraded image).
 */
public final class Jpeg2000Decoder implements FrameDecoder {

    private static final String CODEC = "JPEG 2000";

    /** A decoder; it holds no state, so one instance serves every thread. */
    public Jpeg2000Decoder() {
    }

    /** Whether a javax.imageio JPEG 2000 reader is present at run time. */
    public static boolean available() {
        return ImageIO.getImageReadersByFormatName("jpeg2000").hasNext();
    }

    @Override
    public void decode(byte[] frame, FrameFormat format, int[] out, int outOffset) throws CodecException {
        if (outOffset < 0 || out.length - (long) outOffset < format.samples()) {
            throw new IllegalArgumentException("output has no room for " + format.samples() + " samples at " + outOffset);
        }
        checkHeader(frame, codestreamStart(frame), format);
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("jpeg2000");
        if (!readers.hasNext()) {
            throw new CodecException(CODEC, 0, "no javax.imageio JPEG 2000 reader on the class or module path");
        }
        ImageReader reader = readers.next();
        Raster raster;
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(frame))) {
            reader.setInput(in);
            raster = reader.readRaster(0, null);
        } catch (IOException | RuntimeException e) {
            throw new CodecException(CODEC, 0, "the JPEG 2000 reader rejected the stream: " + e, e);
        } finally {
            reader.dispose();
        }
        if (raster.getWidth() != format.columns() || raster.getHeight() != format.rows()
                || raster.getNumBands() != format.samplesPerPixel()) {
            throw new CodecException(CODEC, 0, "decoded image is " + raster.getHeight() + "x" + raster.getWidth()
                    + "x" + raster.getNumBands() + ", not what the header says");
        }
        int[] pixels = raster.getPixels(0, 0, format.columns(), format.rows(), (int[]) null);
        // Signed components come back sign-extended; the contract is the stored bit pattern.
        int mask = format.bitsAllocated() >= 32 ? -1 : (1 << format.bitsAllocated()) - 1;
        for (int i = 0; i < pixels.length; i++) {
            out[outOffset + i] = pixels[i] & mask;
        }
    }

    /** Offset of the SOC marker: 0 for a bare codestream, or inside the 'jp2c' box of a JP2 file. */
    private static int codestreamStart(byte[] b) throws CodecException {
        if (b.length >= 2 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0x4F) {
            return 0;
        }
        int at = 0;
        while (at + 8 <= b.length) {
            long length = readInt(b, at) & 0xFFFFFFFFL;
            int type = readInt(b, at + 4);
            int header = 8;
            if (length == 1 && at + 16 <= b.length) {
                length = ((long) readInt(b, at + 8) << 32) | (readInt(b, at + 12) & 0xFFFFFFFFL);
                header = 16;
            } else if (length == 0) {
                length = b.length - at;
            }
            if (type == 0x6A703263) { // 'jp2c'
                return at + header;
            }
            if (length < header || at + length > b.length) {
                break;
            }
            at += (int) length;
        }
        throw new CodecException(CODEC, at, "neither a JPEG 2000 codestream nor a JP2 file with one");
    }

    private static void checkHeader(byte[] b, int soc, FrameFormat format) throws CodecException {
        int siz = soc + 2;
        if (siz + 40 > b.length || (b[siz] & 0xFF) != 0xFF || (b[siz + 1] & 0xFF) != 0x51) {
            throw new CodecException(CODEC, siz, "SIZ marker segment missing after SOC");
        }
        long width = (readInt(b, siz + 6) & 0xFFFFFFFFL) - (readInt(b, siz + 14) & 0xFFFFFFFFL);
        long height = (readInt(b, siz + 10) & 0xFFFFFFFFL) - (readInt(b, siz + 18) & 0xFFFFFFFFL);
        int components = (b[siz + 38] & 0xFF) << 8 | (b[siz + 39] & 0xFF);
        if (width != format.columns() || height != format.rows() || components != format.samplesPerPixel()) {
            throw new CodecException(CODEC, siz, "stream holds " + height + "x" + width + "x" + components
                    + " but the header says " + format.rows() + "x" + format.columns() + "x" + format.samplesPerPixel());
        }
        for (int c = 0; c < components; c++) {
            int at = siz + 40 + 3 * c;
            if (at >= b.length || (b[at] & 0x7F) + 1 > format.bitsAllocated()) {
                throw new CodecException(CODEC, at, "component " + c + " depth exceeds BitsAllocated " + format.bitsAllocated());
            }
        }
        int end = b.length;
        while (end > soc + 2 && b[end - 1] == 0) {
            end--; // DICOM pads odd-length fragments with a zero byte
        }
        if (end < 2 || (b[end - 2] & 0xFF) != 0xFF || (b[end - 1] & 0xFF) != 0xD9) {
            throw new CodecException(CODEC, end, "no EOC marker: the codestream is truncated");
        }
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }
}
