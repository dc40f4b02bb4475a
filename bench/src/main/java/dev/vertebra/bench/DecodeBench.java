package dev.vertebra.bench;

import dev.vertebra.data.codec.CodecException;
import dev.vertebra.data.codec.Codecs;
import dev.vertebra.data.codec.FrameDecoder;
import dev.vertebra.data.codec.FrameFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Decode of one 512×512 16-bit signed CT frame per transfer syntax, including the rescale to float HU, the same
 * work as shared/reference/pydicom_decode.py measures (minus file parsing). Frames come from
 * bench/scripts/make_decode_bench_files.py; point {@code -Dvertebra.decodeBench.dir} at its output.
 * Throughput in operations per second is slices per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DecodeBench {

    @Param({"jpeg_lossless_sv1", "jpeg_ls", "rle", "j2k"})
    public String codec;

    private static final FrameFormat CT_SLICE = new FrameFormat(512, 512, 1, 16, 16, true, 0);
    private static final float SLOPE = 1f;
    private static final float INTERCEPT = -1024f;

    private byte[] frame;
    private FrameDecoder decoder;
    private final int[] stored = new int[CT_SLICE.samples()];
    private final float[] hu = new float[CT_SLICE.samples()];

    @Setup
    public void load() throws IOException {
        Path dir = Path.of(System.getProperty("vertebra.decodeBench.dir", "/tmp/vertebra-decode-bench"));
        frame = Files.readAllBytes(dir.resolve(codec + ".bin"));
        String syntax = switch (codec) {
            case "jpeg_lossless_sv1" -> "1.2.840.10008.1.2.4.70";
            case "jpeg_ls" -> "1.2.840.10008.1.2.4.80";
            case "rle" -> "1.2.840.10008.1.2.5";
            case "j2k" -> "1.2.840.10008.1.2.4.90";
            default -> throw new IllegalArgumentException(codec);
        };
        decoder = Codecs.decoderFor(syntax).orElseThrow(() -> new IllegalStateException("no decoder for " + syntax));
    }

    @Benchmark
    public float[] decodeToHounsfield() throws CodecException {
        decoder.decode(frame, CT_SLICE, stored, 0);
        for (int i = 0; i < stored.length; i++) {
            hu[i] = (short) stored[i] * SLOPE + INTERCEPT;
        }
        return hu;
    }
}
