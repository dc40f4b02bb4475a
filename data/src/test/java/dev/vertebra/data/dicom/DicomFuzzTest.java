package dev.vertebra.data.dicom;

import dev.vertebra.data.codec.Jpeg2000Decoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutated real files (byte flips, truncations, corrupted length fields, spliced chunks) must read, decode and
 * dump cleanly or fail with a {@link DicomException} — never another exception, never a hang.
 *
 * <p>Compressed files are mutated like the others, so corrupt streams reach every codec, JPEG 2000 included; no
 * mutation class is left out or capped. JPEG 2000 goes to a third-party library that can loop for ever on corrupt
 * packet headers: the codestream check in front of it must refuse such streams, and the decoder's watchdog is
 * only a safety net, so a decode that ran out of time fails this test too.
 */
class DicomFuzzTest {
    private static final int CASES = 10_000;
    private static final long SEED = 0x5EED_D1C0L;

    @Test
    // A guard against hangs, not a performance assertion: it runs in 10 to 30 s on two shared cores.
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void mutatedFilesFailOnlyWithDicomException() throws IOException {
        List<byte[]> corpus = new ArrayList<>();
        try (Stream<Path> files = Files.list(Golden.resources().resolve("files"))) {
            for (Path p : files.sorted().toList()) {
                corpus.add(Files.readAllBytes(p));
            }
        }
        var random = new SplittableRandom(SEED);
        int succeeded = 0;
        int refused = 0;
        for (int c = 0; c < CASES; c++) {
            long caseSeed = random.nextLong();
            byte[] original = corpus.get(Math.floorMod(caseSeed, corpus.size()));
            byte[] mutated = mutate(original, new SplittableRandom(caseSeed));
            try {
                DicomObject ds = DicomReader.read(mutated, "case-" + Long.toHexString(caseSeed));
                DicomDump.format(ds);
                if (ds.contains(Tags.PIXEL_DATA)) {
                    DicomPixels pixels = DicomPixels.read(ds);
                    pixels.modalityLut();
                }
                succeeded++;
            } catch (DicomException e) {
                refused++;
            } catch (RuntimeException | Error e) {
                throw new AssertionError("case seed " + Long.toHexString(caseSeed) + " threw " + e, e);
            }
        }
        // both outcomes must occur, or the mutations are too weak or too destructive to test anything
        assertTrue(succeeded > CASES / 20 && refused > CASES / 20, succeeded + " read, " + refused + " refused");
        assertEquals(0, Jpeg2000Decoder.abandonedDecodes(),
                "JPEG 2000 decodes ran out of time: a corrupt stream got past the codestream check");
    }

    /** One to three mutations of a copy of {@code original}. */
    private static byte[] mutate(byte[] original, SplittableRandom r) {
        byte[] b = original.clone();
        int mutations = 1 + r.nextInt(3);
        for (int m = 0; m < mutations && b.length > 8; m++) {
            int at = r.nextInt(b.length);
            switch (r.nextInt(6)) {
                case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b = Arrays.copyOf(b, at);
                case 2 -> writeLength(b, at & ~1, r.nextBoolean() ? -1 : r.nextInt());
                case 3 -> writeLength(b, at & ~1, r.nextInt(1 << 16) | (r.nextBoolean() ? 0 : r.nextInt(64) << 16));
                case 4 -> {
                    int from = r.nextInt(b.length);
                    int length = Math.min(r.nextInt(64), b.length - Math.max(at, from));
                    System.arraycopy(b, from, b, at, length);
                }
                default -> b[at] = (byte) r.nextInt(256);
            }
        }
        return b;
    }

    private static void writeLength(byte[] b, int at, int value) {
        for (int k = 0; k < 4 && at + k < b.length; k++) {
            b[at + k] = (byte) (value >>> (8 * k));
        }
    }
}
