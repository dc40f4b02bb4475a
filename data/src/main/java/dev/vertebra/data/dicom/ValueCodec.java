package dev.vertebra.data.dicom;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/** Decoding of binary values and character sets. */
final class ValueCodec {
    private ValueCodec() {
    }

    /** Binary values of an element as doubles (unsigned VRs read unsigned); a trailing partial value is ignored. */
    static double[] numbers(DicomElement e, byte[] bytes, boolean bigEndian) {
        Vr vr = e.vr();
        int size = vr.bytesPerValue();
        double[] out = new double[bytes.length / size];
        for (int i = 0; i < out.length; i++) {
            long raw = vr == Vr.AT // group then element, each a 16-bit word
                    ? integer(bytes, i * size, 2, bigEndian) << 16 | integer(bytes, i * size + 2, 2, bigEndian)
                    : integer(bytes, i * size, size, bigEndian);
            out[i] = switch (vr) {
                case US, OW, OB, UL, OL, AT, UN -> raw;
                case SS -> (short) raw;
                case SL -> (int) raw;
                case FL, OF -> Float.intBitsToFloat((int) raw);
                case FD, OD -> Double.longBitsToDouble(raw);
                case UV, OV -> unsignedToDouble(raw);
                default -> raw;
            };
        }
        return out;
    }

    private static double unsignedToDouble(long v) {
        return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
    }

    /** {@code size} bytes from {@code at} as an unsigned integer in the given byte order (size ≤ 8). */
    static long integer(byte[] bytes, int at, int size, boolean bigEndian) {
        long v = 0;
        for (int k = 0; k < size; k++) {
            int b = bytes[at + (bigEndian ? k : size - 1 - k)] & 0xFF;
            v = v << 8 | b;
        }
        return v;
    }

    /** The Java charset for a Specific Character Set value; Latin-1 for the default and unknown repertoires. */
    static Charset charset(String specificCharacterSet) {
        return switch (specificCharacterSet.strip()) {
            case "ISO_IR 192" -> StandardCharsets.UTF_8;
            default -> StandardCharsets.ISO_8859_1;
        };
    }
}
