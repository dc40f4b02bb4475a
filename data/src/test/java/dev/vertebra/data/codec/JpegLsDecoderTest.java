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

class JpegLsDecoderTest {

    static List<CodecFixture> jlsStreams() {
        return CodecFixture.withSyntax(Codecs.JPEG_LS_LOSSLESS, Codecs.JPEG_LS_NEAR_LOSSLESS);
    }

    /** Lossless and near-lossless alike must match dcmtk's / GDCM's own decoder bit for bit. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("jlsStreams")
    void decodesDcmtkAndGdcmStreamsExactly(CodecFixture fixture) throws CodecException {
        int[] out = new int[fixture.format().samples()];
        Codecs.decoderFor(fixture.transferSyntax()).orElseThrow().decode(fixture.codestream(), fixture.format(), out, 0);
        assertArrayEquals(fixture.expected(), out);
    }

    @Test
    void fixturesCoverPrecisionsInterleaveModesAndNearLossless() {
        assertEquals(12, jlsStreams().size());
    }

    @Test
    void truncationGivesCodecException() {
        CodecFixture fixture = CodecFixture.named("jls_ct64");
        byte[] stream = fixture.codestream();
        int[] out = new int[fixture.format().samples()];
        for (int length = 0; length < stream.length - 8; length += 11) {
            byte[] cut = Arrays.copyOf(stream, length);
            assertThrows(CodecException.class, () -> new JpegLsDecoder().decode(cut, fixture.format(), out, 0), "cut at " + length);
        }
    }

    @Test
    void wrongDimensionsAreReported() {
        CodecFixture fixture = CodecFixture.named("jls_il_rgb8");
        var grey = new FrameFormat(32, 32, 1, 8, 8, false, 0);
        var e = assertThrows(CodecException.class,
                () -> new JpegLsDecoder().decode(fixture.codestream(), grey, new int[32 * 32 * 3], 0));
        assertTrue(e.getMessage().contains("32x32x3"), e.getMessage());
    }

    @Test
    void mutatedStreamsNeverEscapeAsRuntimeExceptions() {
        for (String name : List.of("jls_ct64", "jls_is_rgb8", "jls_near3_ct12")) {
            CodecFixture fixture = CodecFixture.named(name);
            byte[] stream = fixture.codestream();
            int[] out = new int[fixture.format().samples()];
            var random = new java.util.Random(11);
            for (int trial = 0; trial < 1500; trial++) {
                byte[] mutated = stream.clone();
                for (int k = 0; k < 3; k++) {
                    mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
                }
                try {
                    new JpegLsDecoder().decode(mutated, fixture.format(), out, 0);
                } catch (CodecException expected) {
                    assertTrue(expected.offset() >= 0 && expected.offset() <= stream.length, expected.getMessage());
                }
            }
        }
    }
}
