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

    record Sample(String name, int[] pixels, int rows, int cols, int precision, int predictor, int restartRows) {
        byte[] encode() {
            return JpegLosslessEncoder.encode(pixels, rows, cols, precision, predictor, restartRows);
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
                new Sample("extremes_p16", extremes(), 16, 16, 16, 1, 0));
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
        StringBuilder manifest = new StringBuilder("# name\trows\tcolumns\tprecision\tpredictor\n");
        for (Sample s : all()) {
            Files.write(dir.resolve(s.name() + ".jpg"), s.encode());
            manifest.append(s.name()).append('\t').append(s.rows()).append('\t').append(s.cols()).append('\t')
                    .append(s.precision()).append('\t').append(s.predictor()).append('\n');
        }
        Files.writeString(dir.resolve("samples.tsv"), manifest);
    }
}
