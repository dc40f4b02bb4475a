package dev.vertebra.data.dicom;

import dev.vertebra.data.codec.FrameFormat;

/** Native (uncompressed) pixel data to stored values, and the BitsStored masking every path shares. */
final class NativePixels {
    private NativePixels() {
    }

    /**
     * Bytes the header promises: frames × rows × columns × samples × BitsAllocated / 8, rounded up; YBR_FULL_422
     * stores two samples per pixel instead of three.
     */
    static long requiredBytes(FrameFormat format, int frames, String photometric) {
        long values = (long) frames * format.samples();
        if (isYbr422(format, photometric)) {
            values = values / 3 * 2;
        }
        return (values * format.bitsAllocated() + 7) / 8;
    }

    private static boolean isYbr422(FrameFormat format, String photometric) {
        return "YBR_FULL_422".equals(photometric) && format.samplesPerPixel() == 3 && format.bitsAllocated() >= 8;
    }

    /**
     * Unpacks {@code data} (exactly {@link #requiredBytes} long) to pixel-interleaved values.
     *
     * @return values: [frames, rows, columns, samples]
     */
    static int[] decode(byte[] data, FrameFormat format, int frames, String photometric, boolean bigEndian) {
        int count = frames * format.samples();
        int bits = format.bitsAllocated();
        if (isYbr422(format, photometric)) {
            return upsample422(unpack(data, count / 3 * 2, bits, bigEndian));
        }
        int[] values = unpack(data, count, bits, bigEndian);
        if (format.samplesPerPixel() > 1 && format.planarConfiguration() == 1) {
            return interleave(values, frames, format.rows() * format.columns(), format.samplesPerPixel());
        }
        return values;
    }

    private static int[] unpack(byte[] data, int count, int bits, boolean bigEndian) {
        int[] out = new int[count];
        switch (bits) {
            case 1 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = (data[i >>> 3] >>> (i & 7)) & 1; // least significant bit first (PS3.5 §D)
                }
            }
            case 8 -> {
                for (int i = 0; i < count; i++) {
                    out[i] = data[i] & 0xFF;
                }
            }
            default -> {
                int size = bits / 8;
                for (int i = 0; i < count; i++) {
                    out[i] = (int) ValueCodec.integer(data, i * size, size, bigEndian);
                }
            }
        }
        return out;
    }

    /** Plane-by-plane samples of each frame to pixel-interleaved order. */
    private static int[] interleave(int[] planar, int frames, int pixels, int samples) {
        int[] out = new int[planar.length];
        for (int f = 0; f < frames; f++) {
            int base = f * pixels * samples;
            for (int s = 0; s < samples; s++) {
                for (int p = 0; p < pixels; p++) {
                    out[base + p * samples + s] = planar[base + s * pixels + p];
                }
            }
        }
        return out;
    }

    /** YBR_FULL_422 as stored (Y1 Y2 Cb Cr per pixel pair) to full Y Cb Cr per pixel, as pydicom gives it. */
    private static int[] upsample422(int[] pairs) {
        int[] out = new int[pairs.length / 2 * 3];
        for (int q = 0, o = 0; q + 3 < pairs.length; q += 4, o += 6) {
            out[o] = pairs[q];
            out[o + 3] = pairs[q + 1];
            out[o + 1] = pairs[q + 2];
            out[o + 4] = pairs[q + 2];
            out[o + 2] = pairs[q + 3];
            out[o + 5] = pairs[q + 3];
        }
        return out;
    }

    /** Keeps the low BitsStored bits and, for signed pixels, extends their sign (PS3.5 §8.1.1). */
    static void maskAndExtend(int[] values, FrameFormat format) {
        int bits = format.bitsStored();
        if (bits >= 32) {
            return;
        }
        int shift = 32 - bits;
        for (int i = 0; i < values.length; i++) {
            int v = values[i] << shift;
            values[i] = format.signed() ? v >> shift : v >>> shift;
        }
    }
}
