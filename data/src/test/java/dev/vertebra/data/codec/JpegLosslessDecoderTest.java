package dev.vertebra.data.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class JpegLosslessDecoderTest {

    static List<CodecFixture> dcmtkStreams() {
        return CodecFixture.withSyntax(Codecs.JPEG_LOSSLESS, Codecs.JPEG_LOSSLESS_SV1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dcmtkStreams")
    void decodesDcmtkStreamsExactly(CodecFixture fixture) throws CodecException {
        FrameDecoder decoder = Codecs.decoderFor(fixture.transferSyntax()).orElseThrow();
        int[] out = new int[fixture.format().samples() + 3];
        Arrays.fill(out, -7);
        decoder.decode(fixture.codestream(), fixture.format(), out, 3);
        assertArrayEquals(fixture.expected(), Arrays.copyOfRange(out, 3, out.length));
        assertEquals(-7, out[0], "nothing written before the offset");
    }

    @Test
    void fixturesCoverEverySelectionValueAndSeveralPrecisions() {
        assertEquals(15, dcmtkStreams().size());
    }

    @Test
    void rejectsDimensionsThatDisagreeWithTheHeader() {
        CodecFixture fixture = CodecFixture.named("jpll_sv1_ct64");
        FrameFormat f = fixture.format();
        var wrong = new FrameFormat(f.rows(), f.columns() + 1, 1, 16, 16, true, 0);
        var e = assertThrows(CodecException.class,
                () -> new JpegLosslessDecoder().decode(fixture.codestream(), wrong, new int[wrong.samples()], 0));
        assertTrue(e.getMessage().contains("64x64x1"), e.getMessage());
    }

    @Test
    void everyTruncationFailsWithCodecException() {
        CodecFixture fixture = CodecFixture.named("jpll_sv7_ct64");
        byte[] stream = fixture.codestream();
        int[] out = new int[fixture.format().samples()];
        // Cutting before the last few bytes loses entropy-coded data; the final bytes are EOI and padding.
        for (int length = 0; length < stream.length - 4; length += 7) {
            byte[] cut = Arrays.copyOf(stream, length);
            var e = assertThrows(CodecException.class, () -> new JpegLosslessDecoder().decode(cut, fixture.format(), out, 0),
                    "cut at " + length);
            assertTrue(e.offset() >= 0 && e.offset() <= length, "offset " + e.offset() + " within cut " + length);
        }
    }

    @Test
    void mutatedStreamsNeverEscapeAsRuntimeExceptions() {
        CodecFixture fixture = CodecFixture.named("jpll_sv1_rgb8");
        byte[] stream = fixture.codestream();
        int[] out = new int[fixture.format().samples()];
        var random = new java.util.Random(42);
        int failures = 0;
        for (int trial = 0; trial < 3000; trial++) {
            byte[] mutated = stream.clone();
            int at = random.nextInt(Math.min(stream.length, 400));
            mutated[at] = (byte) random.nextInt(256);
            try {
                new JpegLosslessDecoder().decode(mutated, fixture.format(), out, 0);
            } catch (CodecException expected) {
                failures++;
            }
        }
        assertTrue(failures > 100, "most header mutations are detected, saw " + failures);
    }

    @Test
    void corruptHuffmanTableIsReported() {
        CodecFixture fixture = CodecFixture.named("jpll_sv1_ct64");
        byte[] stream = fixture.codestream();
        int dht = indexOfMarker(stream, 0xC4);
        byte[] corrupt = stream.clone();
        corrupt[dht + 5] = (byte) 0xFF; // 255 codes of length 1
        var e = assertThrows(CodecException.class,
                () -> new JpegLosslessDecoder().decode(corrupt, fixture.format(), new int[fixture.format().samples()], 0));
        assertTrue(e.getMessage().contains("Huffman"), e.getMessage());
    }

    /** Two 1-bit codes leave no room for a 2-bit one: found by fuzzing, once an index past the lookahead table. */
    @Test
    void oversubscribedHuffmanTableIsReported() {
        int[] counts = new int[17];
        counts[1] = 2;
        counts[2] = 1;
        var e = assertThrows(CodecException.class, () -> new HuffmanTable(counts, new int[] {0, 1, 2}, 20));
        assertEquals(20, e.offset());
    }

    static int indexOfMarker(byte[] stream, int code) {
        for (int i = 0; i + 1 < stream.length; i++) {
            if (stream[i] == (byte) 0xFF && (stream[i + 1] & 0xFF) == code) {
                return i;
            }
        }
        throw new AssertionError("no marker " + Integer.toHexString(code));
    }
}
