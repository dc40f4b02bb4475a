package dev.vertebra.data.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
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

    /** A corrupt byte pair of the kind that sent the library's packet-header reader into an endless loop. */
    @Test
    void markerCodesInsideTileDataAreRejectedBeforeDecoding() {
        CodecFixture fixture = CodecFixture.named("j2k_gdcm_ct64");
        byte[] stream = fixture.codestream();
        int data = indexOf(stream, 0xFF93) + 2;
        stream[data + 5] = (byte) 0xFF;
        stream[data + 6] = (byte) 0xFF;
        var e = assertThrows(CodecException.class,
                () -> new Jpeg2000Decoder().decode(stream, fixture.format(), new int[4096], 0));
        assertTrue(e.getMessage().contains("marker code FFFF inside tile-part data"), e.getMessage());
        assertEquals(data + 5, e.offset());
    }

    @Test
    void tilePartLengthsAndLayerCountsMustFitTheStream() {
        CodecFixture fixture = CodecFixture.named("j2k_gdcm_ct64");
        int[] out = new int[4096];

        byte[] longTilePart = fixture.codestream();
        int sot = indexOf(longTilePart, 0xFF90);
        longTilePart[sot + 6] = 0x7F; // Psot
        var e = assertThrows(CodecException.class,
                () -> new Jpeg2000Decoder().decode(longTilePart, fixture.format(), out, 0));
        assertTrue(e.getMessage().contains("Psot"), e.getMessage());

        byte[] manyLayers = fixture.codestream();
        int cod = indexOf(manyLayers, 0xFF52);
        manyLayers[cod + 6] = (byte) 0xFF; // SGcod layers: 65535
        manyLayers[cod + 7] = (byte) 0xFF;
        e = assertThrows(CodecException.class,
                () -> new Jpeg2000Decoder().decode(manyLayers, fixture.format(), out, 0));
        assertTrue(e.getMessage().contains("65535 quality layers"), e.getMessage());

        byte[] deep = fixture.codestream();
        deep[cod + 9] = 33; // SPcod decomposition levels
        e = assertThrows(CodecException.class, () -> new Jpeg2000Decoder().decode(deep, fixture.format(), out, 0));
        assertTrue(e.getMessage().contains("33 decomposition levels"), e.getMessage());
    }

    /** A budget of zero cannot be met: the decode fails typed, and the abandoned worker is accounted for. */
    @Test
    void aDecodeOverItsTimeBudgetFailsWithCodecException() throws InterruptedException {
        CodecFixture fixture = CodecFixture.named("j2k_gdcm_ct64");
        var impatient = new Jpeg2000Decoder(Duration.ZERO, 0);
        var e = assertThrows(CodecException.class,
                () -> impatient.decode(fixture.codestream(), fixture.format(), new int[4096], 0));
        assertTrue(e.getMessage().contains("did not finish within 0 ms"), e.getMessage());
        // the worker was not stuck, only slower than zero: once it ends, it no longer counts against the cap
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (Jpeg2000Decoder.abandonedDecodes() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, Jpeg2000Decoder.abandonedDecodes());
    }

    private static int indexOf(byte[] stream, int marker) {
        for (int i = 0; i + 1 < stream.length; i++) {
            if ((stream[i] & 0xFF) == marker >> 8 && (stream[i + 1] & 0xFF) == (marker & 0xFF)) {
                return i;
            }
        }
        throw new AssertionError("no marker " + Integer.toHexString(marker));
    }
}
