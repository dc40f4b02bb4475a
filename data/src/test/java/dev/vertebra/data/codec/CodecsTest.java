package dev.vertebra.data.codec;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CodecsTest {

    @Test
    void everyFixtureSyntaxHasADecoder() {
        for (CodecFixture fixture : CodecFixture.all()) {
            // streams to refuse may carry a syntax no decoder claims (progressive DCT, .55)
            assertTrue(fixture.tolerance() < 0 || Codecs.decoderFor(fixture.transferSyntax()).isPresent(), fixture.name());
        }
        assertTrue(Codecs.decoderFor("1.2.840.10008.1.2.4.55").isEmpty(), "progressive DCT is not decoded");
    }

    @Test
    void syntaxesMapToTheirDecoders() {
        assertInstanceOf(JpegLosslessDecoder.class, Codecs.decoderFor("1.2.840.10008.1.2.4.70").orElseThrow());
        assertInstanceOf(JpegLosslessDecoder.class, Codecs.decoderFor("1.2.840.10008.1.2.4.57").orElseThrow());
        assertInstanceOf(JpegLsDecoder.class, Codecs.decoderFor("1.2.840.10008.1.2.4.80").orElseThrow());
        assertInstanceOf(JpegLsDecoder.class, Codecs.decoderFor("1.2.840.10008.1.2.4.81").orElseThrow());
        assertInstanceOf(RleDecoder.class, Codecs.decoderFor("1.2.840.10008.1.2.5").orElseThrow());
        assertInstanceOf(Jpeg2000Decoder.class, Codecs.decoderFor("1.2.840.10008.1.2.4.90").orElseThrow());
        assertInstanceOf(JpegDctDecoder.class, Codecs.decoderFor("1.2.840.10008.1.2.4.50").orElseThrow());
    }

    @Test
    void nativeAndUnknownSyntaxesHaveNone() {
        for (String uid : new String[] {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
                "1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.201", "not a uid"}) {
            assertTrue(Codecs.decoderFor(uid).isEmpty(), uid);
        }
    }
}
