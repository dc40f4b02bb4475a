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

class RleDecoderTest {

    static List<CodecFixture> rleStreams() {
        return CodecFixture.withSyntax(Codecs.RLE_LOSSLESS);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rleStreams")
    void decodesDcmtkGdcmAndPydicomStreamsExactly(CodecFixture fixture) throws CodecException {
        int[] out = new int[fixture.format().samples()];
        Codecs.decoderFor(fixture.transferSyntax()).orElseThrow().decode(fixture.codestream(), fixture.format(), out, 0);
        assertArrayEquals(fixture.expected(), out);
    }

    @Test
    void fixturesCover8And16And32BitsAndThreeSamples() {
        assertEquals(8, rleStreams().size());
    }

    @Test
    void truncationAndBadOffsetsGiveCodecException() {
        CodecFixture fixture = CodecFixture.named("rle_rgb16");
        byte[] stream = fixture.codestream();
        int[] out = new int[fixture.format().samples()];
        for (int length = 0; length < stream.length - 1; length += 5) {
            byte[] cut = Arrays.copyOf(stream, length);
            assertThrows(CodecException.class, () -> new RleDecoder().decode(cut, fixture.format(), out, 0), "cut at " + length);
        }
        byte[] badOffset = stream.clone();
        badOffset[11] = 0x7F; // second segment offset far past the end
        var e = assertThrows(CodecException.class, () -> new RleDecoder().decode(badOffset, fixture.format(), out, 0));
        assertEquals(8, e.offset());
        var wrongFormat = new FrameFormat(32, 32, 1, 16, 16, false, 0);
        assertThrows(CodecException.class, () -> new RleDecoder().decode(stream, wrongFormat, out, 0));
    }

    @Test
    void mutatedStreamsNeverEscapeAsRuntimeExceptions() {
        CodecFixture fixture = CodecFixture.named("rle_ct64");
        byte[] stream = fixture.codestream();
        int[] out = new int[fixture.format().samples()];
        var random = new java.util.Random(3);
        int detected = 0;
        for (int trial = 0; trial < 2000; trial++) {
            byte[] mutated = stream.clone();
            for (int k = 0; k < 4; k++) {
                mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
            }
            try {
                new RleDecoder().decode(mutated, fixture.format(), out, 0);
            } catch (CodecException expected) {
                detected++;
            }
        }
        assertTrue(detected > 0);
    }
}
