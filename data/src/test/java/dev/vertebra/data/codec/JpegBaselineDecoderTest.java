package dev.vertebra.data.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class JpegBaselineDecoderTest {

    /** dcmtk-encoded grey and YCbCr colour baseline streams, against dcmdjpeg's pixels (±1 for IDCT rounding). */
    @ParameterizedTest
    @ValueSource(strings = {"jpeg_baseline_mr8", "jpeg_baseline_ybr"})
    void matchesDcmdjpegWithinOne(String name) throws CodecException {
        CodecFixture fixture = CodecFixture.named(name);
        int[] out = new int[fixture.format().samples() + 5];
        Codecs.decoderFor(fixture.transferSyntax()).orElseThrow().decode(fixture.codestream(), fixture.format(), out, 5);
        int[] expected = fixture.expected();
        int worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - out[i + 5]));
        }
        assertTrue(worst <= fixture.tolerance(), "largest difference " + worst);
        assertTrue(Arrays.stream(expected).distinct().count() > 20, "a real image, not a flat one");
    }

    @Test
    void twelveBitExtendedIsRefusedWithCodecException() {
        CodecFixture fixture = CodecFixture.named("jpeg_extended12_unsupported");
        assertEquals(-1, fixture.tolerance());
        var e = assertThrows(CodecException.class, () -> Codecs.decoderFor(fixture.transferSyntax()).orElseThrow()
                .decode(fixture.codestream(), fixture.format(), new int[fixture.format().samples()], 0));
        assertTrue(e.getMessage().contains("12-bit"), e.getMessage());
    }

    @Test
    void truncatedOrMismatchedStreamsGiveCodecException() {
        CodecFixture fixture = CodecFixture.named("jpeg_baseline_mr8");
        byte[] stream = fixture.codestream();
        int[] out = new int[fixture.format().samples()];
        for (int length : new int[] {0, 3, 20, 150}) {
            byte[] cut = Arrays.copyOf(stream, length);
            assertThrows(CodecException.class, () -> new JpegBaselineDecoder().decode(cut, fixture.format(), out, 0), "cut at " + length);
        }
        var tall = new FrameFormat(65, 64, 1, 8, 8, false, 0);
        assertThrows(CodecException.class, () -> new JpegBaselineDecoder().decode(stream, tall, new int[65 * 64], 0));
    }
}
