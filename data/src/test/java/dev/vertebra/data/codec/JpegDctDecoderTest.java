package dev.vertebra.data.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class JpegDctDecoderTest {

    static List<CodecFixture> dctFixtures() {
        return CodecFixture.withSyntax(Codecs.JPEG_BASELINE, Codecs.JPEG_EXTENDED);
    }

    /**
     * dcmtk-encoded grey (8- and 12-bit) and YCbCr colour (4:4:4, 4:2:2, 4:2:0) streams, against dcmdjpeg's pixels
     * (±1 for IDCT rounding).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dctFixtures")
    void matchesDcmdjpegWithinOne(CodecFixture fixture) throws CodecException {
        int[] out = new int[fixture.format().samples() + 5];
        Codecs.decoderFor(fixture.transferSyntax()).orElseThrow().decode(fixture.codestream(), fixture.format(), out, 5);
        int[] expected = fixture.expected();
        int worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - out[i + 5]));
        }
        assertTrue(worst <= fixture.tolerance(), "largest difference " + worst);
        assertTrue(Arrays.stream(expected).distinct().count() > 20, "a real image, not a flat one");
        if (fixture.format().bitsStored() == 12) {
            assertTrue(Arrays.stream(expected).max().orElseThrow() > 255, "12-bit values");
        }
    }

    @Test
    void fixturesCoverTwelveBitAndSubsampledColour() {
        List<String> names = dctFixtures().stream().map(CodecFixture::name).toList();
        assertTrue(names.containsAll(List.of("jpeg_extended12_ct64", "jpeg_extended12_ct128", "jpeg_baseline_ybr422",
                "jpeg_baseline_ybr420", "jpeg_extended8_mr8")), names.toString());
    }

    @Test
    void progressiveIsRefusedWithCodecException() {
        CodecFixture fixture = CodecFixture.named("jpeg_progressive12_unsupported");
        assertEquals(-1, fixture.tolerance());
        var e = assertThrows(CodecException.class, () -> new JpegDctDecoder()
                .decode(fixture.codestream(), fixture.format(), new int[fixture.format().samples()], 0));
        assertTrue(e.getMessage().contains("progressive"), e.getMessage());
    }

    @Test
    void truncatedOrMismatchedStreamsGiveCodecException() {
        for (String name : List.of("jpeg_baseline_mr8", "jpeg_extended12_ct64", "jpeg_baseline_ybr420")) {
            CodecFixture fixture = CodecFixture.named(name);
            byte[] stream = fixture.codestream();
            int[] out = new int[fixture.format().samples()];
            // every cut that loses scan data, except the last bytes (padding and EOI)
            for (int length = 0; length < stream.length - 4; length++) {
                byte[] cut = Arrays.copyOf(stream, length);
                assertThrows(CodecException.class, () -> new JpegDctDecoder().decode(cut, fixture.format(), out, 0),
                        name + " cut at " + length);
            }
        }
        byte[] stream = CodecFixture.named("jpeg_baseline_mr8").codestream();
        var tall = new FrameFormat(65, 64, 1, 8, 8, false, 0);
        assertThrows(CodecException.class, () -> new JpegDctDecoder().decode(stream, tall, new int[65 * 64], 0));
        byte[] twelve = CodecFixture.named("jpeg_extended12_ct64").codestream();
        var eightBit = new FrameFormat(64, 64, 1, 8, 8, false, 0);
        var e = assertThrows(CodecException.class, () -> new JpegDctDecoder().decode(twelve, eightBit, new int[64 * 64], 0));
        assertTrue(e.getMessage().contains("12-bit"), e.getMessage());
    }

    /** Random byte changes, insertions and deletions: a decoded image or a CodecException, nothing else. */
    @Test
    void mutatedStreamsGiveImagesOrCodecExceptionOnly() {
        var random = new SplittableRandom(20240512);
        List<CodecFixture> fixtures = List.of(CodecFixture.named("jpeg_extended12_ct64"),
                CodecFixture.named("jpeg_baseline_ybr422"), CodecFixture.named("jpeg_baseline_mr8"));
        for (int trial = 0; trial < 3000; trial++) {
            CodecFixture fixture = fixtures.get(trial % fixtures.size());
            byte[] stream = fixture.codestream();
            byte[] mutated = stream.clone();
            int edits = 1 + random.nextInt(4);
            for (int k = 0; k < edits; k++) {
                // header bytes are where the checks live: hit them as often as the scan data
                int at = random.nextBoolean() ? random.nextInt(Math.min(700, mutated.length)) : random.nextInt(mutated.length);
                mutated[at] = (byte) random.nextInt(256);
            }
            int[] out = new int[fixture.format().samples()];
            try {
                new JpegDctDecoder().decode(mutated, fixture.format(), out, 0);
            } catch (CodecException e) {
                assertTrue(e.offset() >= 0 && e.offset() <= mutated.length, e.getMessage());
            }
        }
    }

    /** Restart intervals (not produced by dcmtk): a hand-built stream of flat blocks, DC predictions reset at each RSTn. */
    @Test
    void restartIntervalsResetThePrediction() throws CodecException {
        for (int precision : new int[] {8, 12}) {
            int rows = 24;
            int cols = 40;
            int[] blockValues = new int[15];
            var random = new SplittableRandom(precision);
            for (int i = 0; i < blockValues.length; i++) {
                blockValues[i] = random.nextInt(1 << precision);
            }
            byte[] stream = flatBlocksWithRestarts(precision, rows, cols, blockValues, 4);
            var format = new FrameFormat(rows, cols, 1, 16, precision, false, 0);
            int[] out = new int[rows * cols];
            new JpegDctDecoder().decode(stream, format, out, 0);
            int[] expected = new int[rows * cols];
            for (int y = 0; y < rows; y++) {
                for (int x = 0; x < cols; x++) {
                    expected[y * cols + x] = blockValues[(y / 8) * (cols / 8) + x / 8];
                }
            }
            assertArrayEquals(expected, out, precision + "-bit");
        }
    }

    /**
     * A minimal sequential DCT stream: one component, quantisation all ones, every block flat (DC only), a DC table
     * of 16 five-bit codes for categories 0–15, an AC table holding only EOB, and a restart marker every
     * {@code interval} blocks.
     */
    private static byte[] flatBlocksWithRestarts(int precision, int rows, int cols, int[] blockValues, int interval) {
        var out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD8});
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xDB, 0, 67, 0});
        for (int k = 0; k < 64; k++) {
            out.write(1);
        }
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xC4, 0, 19 + 16, 0x00, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        for (int s = 0; s < 16; s++) {
            out.write(s);
        }
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xC4, 0, 20, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00});
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xDD, 0, 4, 0, (byte) interval});
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) (precision == 8 ? 0xC0 : 0xC1), 0, 11, (byte) precision,
                0, (byte) rows, 0, (byte) cols, 1, 1, 0x11, 0});
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xDA, 0, 8, 1, 1, 0x00, 0, 63, 0});
        var bits = new BitWriter(out);
        int pred = 0;
        for (int b = 0; b < blockValues.length; b++) {
            if (b > 0 && b % interval == 0) {
                bits.flush();
                out.writeBytes(new byte[] {(byte) 0xFF, (byte) (0xD0 + (b / interval - 1) % 8)});
                pred = 0;
            }
            // a flat block of value V has DC coefficient 8 (V − 2^(P−1)) after the level shift
            int dc = 8 * (blockValues[b] - (1 << (precision - 1)));
            int diff = dc - pred;
            pred = dc;
            int category = diff == 0 ? 0 : 32 - Integer.numberOfLeadingZeros(Math.abs(diff));
            bits.write(category, 5);
            if (category > 0) {
                bits.write(diff > 0 ? diff : diff + (1 << category) - 1, category);
            }
            bits.write(0, 1); // EOB
        }
        bits.flush();
        out.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD9});
        return out.toByteArray();
    }

    /** Entropy-coded bits, most significant first, with 0xFF byte stuffing and one-bit padding (T.81 F.1.2.3). */
    private static final class BitWriter {
        private final ByteArrayOutputStream out;
        private int current;
        private int filled;

        BitWriter(ByteArrayOutputStream out) {
            this.out = out;
        }

        void write(int value, int length) {
            for (int i = length - 1; i >= 0; i--) {
                current = current << 1 | (value >>> i & 1);
                if (++filled == 8) {
                    emit();
                }
            }
        }

        void flush() {
            while (filled != 0) {
                write(1, 1);
            }
        }

        private void emit() {
            out.write(current);
            if (current == 0xFF) {
                out.write(0);
            }
            current = 0;
            filled = 0;
        }
    }
}
