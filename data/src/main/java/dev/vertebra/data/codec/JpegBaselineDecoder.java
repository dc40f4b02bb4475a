package dev.vertebra.data.codec;

import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decoder for 8-bit DCT JPEG (DICOM transfer syntaxes 1.2.840.10008.1.2.4.50 baseline and the 8-bit subset of
 * .51 extended), delegating to the JDK's javax.imageio JPEG reader. Colour comes back as stored, without colour
 * conversion (YCbCr stays YCbCr, as the DICOM PhotometricInterpretation says). 12-bit DCT JPEG, which the JDK
 * reader cannot decode, is refused with a {@link CodecException}.
 */
public final class JpegBaselineDecoder implements FrameDecoder {

    private static final String CODEC = "JPEG baseline";

    /** A decoder; it holds no state, so one instance serves every thread. */
    public JpegBaselineDecoder() {
    }

    @Override
    public void decode(byte[] frame, FrameFormat format, int[] out, int outOffset) throws CodecException {
        if (outOffset < 0 || out.length - (long) outOffset < format.samples()) {
            throw new IllegalArgumentException("output has no room for " + format.samples() + " samples at " + outOffset);
        }
        checkFrameHeader(frame, format);
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("jpeg");
        if (!readers.hasNext()) {
            throw new CodecException(CODEC, 0, "no javax.imageio JPEG reader");
        }
        ImageReader reader = readers.next();
        Raster raster;
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(frame))) {
            reader.setInput(in);
            raster = reader.readRaster(0, null);
        } catch (IOException | RuntimeException e) {
            throw new CodecException(CODEC, 0, "the JPEG reader rejected the stream: " + e, e);
        } finally {
            reader.dispose();
        }
        if (raster.getWidth() != format.columns() || raster.getHeight() != format.rows()
                || raster.getNumBands() != format.samplesPerPixel()) {
            throw new CodecException(CODEC, 0, "decoded image is " + raster.getHeight() + "x" + raster.getWidth()
                    + "x" + raster.getNumBands() + ", not what the header says");
        }
        int[] pixels = raster.getPixels(0, 0, format.columns(), format.rows(), (int[]) null);
        System.arraycopy(pixels, 0, out, outOffset, pixels.length);
    }

    /** Finds SOFn and checks it against the header before the library allocates anything. */
    private static void checkFrameHeader(byte[] b, FrameFormat format) throws CodecException {
        var in = new SegmentReader(b, CODEC);
        if (in.u8() != 0xFF || in.u8() != 0xD8) {
            throw new CodecException(CODEC, 0, "no SOI marker");
        }
        while (true) {
            int marker = in.nextMarker();
            long at = in.pos - 2;
            if (marker < 0 || marker == 0xD9 || marker == 0xDA) {
                throw new CodecException(CODEC, Math.max(0, at), "no frame header before the scan");
            }
            if (marker == 0xC0 || marker == 0xC1 || marker == 0xC2) {
                in.segmentLength();
                int precision = in.u8();
                int rows = in.u16();
                int cols = in.u16();
                int components = in.u8();
                if (precision != 8) {
                    throw new CodecException(CODEC, at, precision + "-bit DCT JPEG is not supported (8-bit only)");
                }
                if (rows != format.rows() || cols != format.columns() || components != format.samplesPerPixel()) {
                    throw new CodecException(CODEC, at, "stream holds " + rows + "x" + cols + "x" + components
                            + " but the header says " + format.rows() + "x" + format.columns() + "x" + format.samplesPerPixel());
                }
                return;
            }
            if ((marker >= 0xC3 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)) {
                throw new CodecException(CODEC, at, "frame type SOF" + (marker - 0xC0) + " is not baseline, extended or progressive Huffman");
            }
            if ((marker & 0xF8) != 0xD0 && marker != 0x01) {
                in.skip(in.segmentLength() - 2);
            }
        }
    }
}
