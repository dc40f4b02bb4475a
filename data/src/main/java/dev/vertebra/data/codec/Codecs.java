package dev.vertebra.data.codec;

import java.util.Optional;

/** Finds the decoder for a transfer syntax of encapsulated pixel data. */
public final class Codecs {

    private Codecs() {
    }

    /**
     * The decoder for a transfer syntax UID, or empty when Vertebra cannot decode it (the caller reports which
     * syntax is unsupported). Native (uncompressed) syntaxes are not codecs and are never returned here.
     */
    public static Optional<FrameDecoder> decoderFor(String transferSyntaxUid) {
        return switch (transferSyntaxUid) {
            default -> Optional.empty();
        };
    }
}
