package dev.vertebra.bench;

import dev.vertebra.data.codec.Codecs;
import dev.vertebra.data.codec.FrameDecoder;
import dev.vertebra.data.codec.FrameFormat;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@link DecodeBench} work (decode a 512×512 16-bit CT frame and rescale to float HU) timed in this thread's
 * CPU time rather than wall time: on a machine shared with other jobs, wall-clock throughput mostly measures the
 * neighbours. Pair with bench/scripts/pydicom_decode_cpu.py.
 * <pre>
 *   java -cp CLASSPATH dev.vertebra.bench.DecodeCpuTime /tmp/vertebra-decode-bench
 * </pre>
 */
public final class DecodeCpuTime {

    private DecodeCpuTime() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/vertebra-decode-bench");
        var format = new FrameFormat(512, 512, 1, 16, 16, true, 0);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        String[][] cases = {{"jpeg_lossless_sv1", "1.2.840.10008.1.2.4.70"}, {"jpeg_ls", "1.2.840.10008.1.2.4.80"},
                {"rle", "1.2.840.10008.1.2.5"}, {"j2k", "1.2.840.10008.1.2.4.90"}};
        int[] stored = new int[format.samples()];
        float[] hu = new float[format.samples()];
        for (String[] c : cases) {
            byte[] frame = Files.readAllBytes(dir.resolve(c[0] + ".bin"));
            FrameDecoder decoder = Codecs.decoderFor(c[1]).orElseThrow();
            double best = Double.MAX_VALUE;
            // Warm up for 2 s of CPU, then take the best of five 1-second windows.
            for (int window = 0; window < 7; window++) {
                long start = threads.getCurrentThreadCpuTime();
                int slices = 0;
                while (threads.getCurrentThreadCpuTime() - start < 1_000_000_000L) {
                    decoder.decode(frame, format, stored, 0);
                    for (int i = 0; i < stored.length; i++) {
                        hu[i] = (short) stored[i] - 1024f;
                    }
                    slices++;
                }
                double seconds = (threads.getCurrentThreadCpuTime() - start) / 1e9 / slices;
                if (window >= 2) {
                    best = Math.min(best, seconds);
                }
            }
            System.out.printf("%s: %.1f slices/s of CPU time (hu[0] = %.0f)%n", c[0], 1 / best, hu[0]);
        }
    }
}
