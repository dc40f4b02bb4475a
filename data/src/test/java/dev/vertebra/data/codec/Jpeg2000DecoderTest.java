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

class Jpeg2000DecoderTest {

    static List<CodecFixture> j2kStreams() {
        return CodecFixture.withSyntax(Codecs.JPEG_2000_LOSSLESS, Codecs.JPEG_2000);
    }

    @Test
    void theReaderIsOnTheTestClassPath() {
        assertTrue(Jpeg2000Decoder.available(), "jai-imageio-jpeg2000 is a run-time dependency of the data module");
        assertEquals(3, j2kStreams().size());
    }

    /** GDCM (OpenJPEG) streams of signed 16-bit and unsigned 12-bit CT, and pydicom's lossless MR. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("j2kStreams")
    void decodesGdcmStreamsExactly(CodecFixture fixture) throws CodecException {
        int[] out = new int[fixture.format().samples()];
        Codecs.decoderFor(fixture.transferSyntax()).orElseThrow().decode(fixture.codestream(), fixture.format(), out, 0);
        assertArrayEquals(fixture.expected(), out);
    }

    @Test
    void headerDisagreementAndTruncationAreRejectedBeforeDecoding() {
        CodecFixture fixture = CodecFixture.named("j2k_gdcm_ct64");
        byte[] stream = fixture.codestream();
        int[] out = new int[64 * 65];
        var wider = new FrameFormat(64, 65, 1, 16, 16, true, 0);
        var e = assertThrows(CodecException.class, () -> new Jpeg2000Decoder().decode(stream, wider, out, 0));
        assertTrue(e.getMessage().contains("64x64x1"), e.getMessage());
        for (int length : new int[] {0, 1, 10, 45, stream.length / 2, stream.length - 3}) {
            byte[] cut = Arrays.copyOf(stream, length);
            assertThrows(CodecException.class, () -> new Jpeg2000Decoder().decode(cut, fixture.format(), out, 0), "cut at " + length);
        }
    }
}
