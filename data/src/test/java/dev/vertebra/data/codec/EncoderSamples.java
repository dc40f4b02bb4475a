package dev.vertebra.data.codec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Images the lossless-JPEG encoder is checked on, and a main that writes their codestreams for the external
 * decoders (data/src/test/scripts/check_encoder_with_dcmtk.py) to judge:
 * <pre>
 *   java -cp data/target/classes:data/target/test-classes dev.vertebra.data.codec.EncoderSamples data/src/test/resources/codec/encoder
 *   /usr/bin/python3 data/src/test/scripts/check_encoder_with_dcmtk.py data/src/test/resources/codec/encoder
 * </pre>
 */
final class EncoderSamples {

    /**
     * One image; with {@code components} > 1 the pixels are interleaved and each component is encoded on its
     * own, the scans joined into one frame with one scan per component (a non-interleaved frame).
     */
    record Sample(String name, int[] pixels, int rows, int cols, int components, int precision, int predictor,
                  int restartRows) {
        Sample(String name, int[] pixels, int rows, int cols, int precision, int predictor, int restartRows) {
            this(name, pixels, rows, cols, 1, precision, predictor, restartRows);
        }

        byte[] encode() {
            if (components == 1) {
                return JpegLosslessEncoder.encode(pixels, rows, cols, precision, predictor, restartRows);
            }
            byte[][] planes = new byte[components][];
            for (int c = 0; c < components; c++) {
                int[] plane = new int[rows * cols];
                for (int i = 0; i < plane.length; i++) {
                    plane[i] = pixels[i * components + c];
                }
                planes[c] = JpegLosslessEncoder.encode(plane, rows, cols, precision, predictor, restartRows);
            }
            return nonInterleaved(planes, components);
        }
    }

    private EncoderSamples() {
    }

    static List<Sample> all() {
        int[] ct = CodecFixture.named("jpll_sv1_ct64").expected();
        int[] ct12 = CodecFixture.named("jpll_sv1_ct12").expected();
        int[] mr8 = CodecFixture.named("jpll_sv1_mr8").expected();
        return List.of(
                new Sample("ct64_p16", ct, 64, 64, 16, 1, 0),
                new Sample("ct64_p16_sv7", ct, 64, 64, 16, 7, 0),
                new Sample("ct64_p16_restart8", ct, 64, 64, 16, 1, 8),
                new Sample("ct12_p12", ct12, 64, 64, 12, 1, 0),
                new Sample("mr8_p8", mr8, 64, 64, 8, 1, 0),
                new Sample("mr8_p5", map(mr8, v -> v >> 3), 64, 64, 5, 1, 0),
                new Sample("ct64_p2", map(ct, v -> v & 3), 64, 64, 2, 1, 0),
                new Sample("extremes_p16", extremes(), 16, 16, 16, 1, 0),
                new Sample("skewed_p16", skewed(), 64, 64, 16, 1, 0),
                new Sample("planes_rgb16_sv6", CodecFixture.named("jpll_sv5_rgb16").expected(), 32, 32, 3, 16, 6, 0));
    }

    /**
     * Differences of category c occur about 2^(11 − c) times, so code lengths grow with the category up to 16 bits,
     * well past the decoder's 12-bit lookahead. Built by undoing selection value 1's prediction (T.81 H.1.2.1).
     */
    private static int[] skewed() {
        int rows = 64;
        int cols = 64;
        int[] categories = new int[rows * cols];
        int at = 0;
        for (int category = 1; category <= 16; category++) {
            for (int k = 0; k < Math.max(1, 2048 >> category); k++) {
                categories[(at++ * 2 + 1) % categories.length] = category;
            }
        }
        int[] v = new int[rows * cols];
        for (int i = 0; i < v.length; i++) {
            int prediction = i == 0 ? 32768 : i < cols ? v[i - 1] : i % cols == 0 ? v[i - cols] : v[i - 1];
            int c = categories[i];
            int difference = c == 0 ? 0 : c == 16 ? 32768 : (i % 3 == 0 ? -1 : 1) * ((1 << (c - 1)) + i % (1 << (c - 1)));
            v[i] = (prediction + difference) & 0xFFFF;
        }
        return v;
    }

    /**
     * Joins single-component frames (SOI, SOF3, DHT, SOS, data, EOI) into one frame of several components with one
     * scan each: the first frame header is widened to all components, then each stream's DHT, SOS and data follow,
     * with the scan's component id set to its component.
     */
    static byte[] nonInterleaved(byte[][] streams, int components) {
        var out = new java.io.ByteArrayOutputStream();
        byte[] first = streams[0];
        int sof = indexOf(first, 0xC3);
        int precisionRowsCols = sof + 4;
        out.write(first, 0, sof);
        out.write(0xFF);
        out.write(0xC3);
        int length = 8 + 3 * components;
        out.write(length >> 8);
        out.write(length);
        out.write(first, precisionRowsCols, 5);
        out.write(components);
        for (int c = 1; c <= components; c++) {
            out.write(c);
            out.write(0x11);
            out.write(0);
        }
        for (int c = 0; c < components; c++) {
            byte[] s = streams[c];
            int dht = indexOf(s, 0xC4);
            int eoi = s.length - 2;
            byte[] tail = java.util.Arrays.copyOfRange(s, dht, eoi);
            int sos = indexOf(tail, 0xDA);
            tail[sos + 5] = (byte) (c + 1); // Cs: this scan's component
            out.write(tail, 0, tail.length);
        }
        out.write(0xFF);
        out.write(0xD9);
        return out.toByteArray();
    }

    private static int indexOf(byte[] stream, int marker) {
        for (int i = 0; i + 1 < stream.length; i++) {
            if (stream[i] == (byte) 0xFF && (stream[i + 1] & 0xFF) == marker) {
                return i;
            }
        }
        throw new IllegalArgumentException("no marker " + Integer.toHexString(marker));
    }

    /** Neighbours 0 / 32768 / 65535 apart: differences of category 16 and the largest category-15 values. */
    private static int[] extremes() {
        int[] v = new int[16 * 16];
        int[] levels = {0, 65535, 32768, 0, 32767, 65535, 1, 32769};
        for (int i = 0; i < v.length; i++) {
            v[i] = levels[(i * 7 + i / 16) % levels.length];
        }
        return v;
    }

    private static int[] map(int[] values, java.util.function.IntUnaryOperator f) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = f.applyAsInt(values[i]);
        }
        return out;
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        StringBuilder manifest = new StringBuilder("# name\trows\tcolumns\tcomponents\tprecision\tpredictor\n");
        for (Sample s : all()) {
            Files.write(dir.resolve(s.name() + ".jpg"), s.encode());
            manifest.append(s.name()).append('\t').append(s.rows()).append('\t').append(s.cols()).append('\t')
                    .append(s.components()).append('\t').append(s.precision()).append('\t').append(s.predictor()).append('\n');
        }
        Files.writeString(dir.resolve("samples.tsv"), manifest);
    }
}
