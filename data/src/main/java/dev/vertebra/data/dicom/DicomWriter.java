package dev.vertebra.data.dicom;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A minimal DICOM Part 10 writer: explicit VR little endian data sets, native 16-bit or encapsulated
 * (one fragment per frame) pixel data. It writes what it is given, in tag order, padded to even lengths; it
 * knows no IODs, so the caller supplies the attributes its files need.
 *
 * <pre>{@code
 * var ds = new DicomWriter.Dataset()
 *         .string(0x00080060, "CS", "CT")
 *         .uint16(Tags.ROWS, 128);
 * DicomWriter.write(path, ds, sopClassUid, sopInstanceUid, DicomWriter.EXPLICIT_VR_LITTLE_ENDIAN);
 * }</pre>
 */
public final class DicomWriter {
    public static final String EXPLICIT_VR_LITTLE_ENDIAN = DicomReader.EXPLICIT_VR_LITTLE_ENDIAN;
    /** JPEG lossless, process 14, selection value 1. */
    public static final String JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70";
    /** The implementation class UID written into the file meta group (a 2.25 UUID-derived root). */
    public static final String IMPLEMENTATION_CLASS_UID = "2.25.302691812836219874609373612871209571811";

    private static final List<String> LONG_LENGTH_VRS = List.of("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV",
            "UC", "UN", "UR", "UT", "UV");

    private DicomWriter() {
    }

    /** Elements to write, kept in tag order. Values are already encoded little-endian bytes. */
    public static final class Dataset {
        private final Map<Integer, Element> elements = new TreeMap<>(Integer::compareUnsigned);

        /** An empty data set. */
        public Dataset() {
        }

        private record Element(int tag, String vr, byte[] value, boolean undefinedLength) {
        }

        /** A text value (any string VR); UI values are padded with NUL, others with a space. */
        public Dataset string(int tag, String vr, String value) {
            byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
            if (bytes.length % 2 == 1) {
                byte[] padded = java.util.Arrays.copyOf(bytes, bytes.length + 1);
                padded[bytes.length] = (byte) (vr.equals("UI") ? 0 : ' ');
                bytes = padded;
            }
            return put(tag, vr, bytes, false);
        }

        /** A decimal string of several values, e.g. ImagePositionPatient. */
        public Dataset decimals(int tag, double... values) {
            StringBuilder text = new StringBuilder();
            for (double v : values) {
                if (!text.isEmpty()) {
                    text.append('\\');
                }
                text.append(decimalString(v));
            }
            return string(tag, "DS", text.toString());
        }

        /** One US value. */
        public Dataset uint16(int tag, int value) {
            return put(tag, "US", new byte[] {(byte) value, (byte) (value >>> 8)}, false);
        }

        /** Native pixel data, 16 bits per sample. */
        public Dataset pixels16(short[] samples) {
            byte[] bytes = new byte[samples.length * 2];
            for (int i = 0; i < samples.length; i++) {
                bytes[2 * i] = (byte) samples[i];
                bytes[2 * i + 1] = (byte) (samples[i] >>> 8);
            }
            return put(Tags.PIXEL_DATA, "OW", bytes, false);
        }

        /** Encapsulated pixel data: an empty basic offset table, then one fragment per frame. */
        public Dataset encapsulated(List<byte[]> frames) {
            var out = new ByteArrayOutputStream();
            item(out, Tags.ITEM, new byte[0]);
            for (byte[] frame : frames) {
                byte[] even = frame.length % 2 == 0 ? frame : java.util.Arrays.copyOf(frame, frame.length + 1);
                item(out, Tags.ITEM, even);
            }
            item(out, Tags.SEQUENCE_DELIMITATION, new byte[0]);
            return put(Tags.PIXEL_DATA, "OB", out.toByteArray(), true);
        }

        private Dataset put(int tag, String vr, byte[] value, boolean undefinedLength) {
            if (value.length % 2 != 0) {
                throw new IllegalArgumentException("odd value length for " + Tags.format(tag));
            }
            elements.put(tag, new Element(tag, vr, value, undefinedLength));
            return this;
        }

        private void writeTo(ByteArrayOutputStream out) {
            for (Element e : elements.values()) {
                u16(out, e.tag >>> 16);
                u16(out, e.tag & 0xFFFF);
                out.writeBytes(e.vr.getBytes(StandardCharsets.US_ASCII));
                if (LONG_LENGTH_VRS.contains(e.vr)) {
                    u16(out, 0);
                    u32(out, e.undefinedLength ? 0xFFFFFFFFL : e.value.length);
                } else {
                    if (e.value.length > 0xFFFF) {
                        throw new IllegalArgumentException(Tags.format(e.tag) + " " + e.vr + " value of "
                                + e.value.length + " bytes does not fit a 16-bit length");
                    }
                    u16(out, e.value.length);
                }
                out.writeBytes(e.value);
            }
        }
    }

    /**
     * Writes a Part 10 file: 128-byte preamble, "DICM", the file meta group, then the data set in the given
     * transfer syntax (explicit VR little endian, or an encapsulated syntax whose data set is encoded so).
     */
    public static void write(Path file, Dataset dataset, String sopClassUid, String sopInstanceUid,
                             String transferSyntaxUid) throws IOException {
        Files.write(file, toBytes(dataset, sopClassUid, sopInstanceUid, transferSyntaxUid));
    }

    /** The bytes {@link #write} writes. */
    public static byte[] toBytes(Dataset dataset, String sopClassUid, String sopInstanceUid,
                                 String transferSyntaxUid) {
        var meta = new Dataset()
                .put(0x00020001, "OB", new byte[] {0, 1}, false)
                .string(0x00020002, "UI", sopClassUid)
                .string(0x00020003, "UI", sopInstanceUid)
                .string(Tags.TRANSFER_SYNTAX_UID, "UI", transferSyntaxUid)
                .string(0x00020012, "UI", IMPLEMENTATION_CLASS_UID)
                .string(0x00020013, "SH", "VERTEBRA_01");
        var metaBytes = new ByteArrayOutputStream();
        meta.writeTo(metaBytes);
        var out = new ByteArrayOutputStream();
        out.writeBytes(new byte[128]);
        out.writeBytes("DICM".getBytes(StandardCharsets.US_ASCII));
        var groupLength = new Dataset();
        groupLength.put(0x00020000, "UL", le32(metaBytes.size()), false);
        groupLength.writeTo(out);
        out.writeBytes(metaBytes.toByteArray());
        dataset.writeTo(out);
        return out.toByteArray();
    }

    /** A DS value of at most 16 characters that reads back as the same double to the precision it holds. */
    static String decimalString(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        for (int digits = 10; digits >= 1; digits--) {
            String s = java.math.BigDecimal.valueOf(v).setScale(digits, java.math.RoundingMode.HALF_EVEN)
                    .stripTrailingZeros().toPlainString();
            if (s.length() <= 16) {
                return s;
            }
        }
        throw new IllegalArgumentException("no 16-character decimal string for " + v);
    }

    private static void item(ByteArrayOutputStream out, int tag, byte[] value) {
        u16(out, tag >>> 16);
        u16(out, tag & 0xFFFF);
        u32(out, value.length);
        out.writeBytes(value);
    }

    private static byte[] le32(long v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    private static void u16(ByteArrayOutputStream out, int v) {
        out.write(v & 0xFF);
        out.write((v >>> 8) & 0xFF);
    }

    private static void u32(ByteArrayOutputStream out, long v) {
        out.writeBytes(le32(v));
    }
}
