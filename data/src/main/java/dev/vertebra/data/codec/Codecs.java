package dev.vertebra.data.codec;

import java.util.Optional;

/**
 * Finds the decoder for a transfer syntax of encapsulated pixel data: JPEG lossless process 14 (.57, .70), JPEG-LS
 * (.80, .81), RLE (.5) and 8/12-bit JPEG baseline/extended (.50, .51) are Vertebra's own; JPEG 2000
 * (.90, .91) needs jai-imageio-jpeg2000 at run time. Decoders are stateless and shared between threads.
 */
public final class Codecs {

    /** JPEG Lossless, Non-Hierarchical (Process 14). */
    public static final String JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57";
    /** JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, selection value 1). */
    public static final String JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70";

    /** RLE Lossless. */
    public static final String RLE_LOSSLESS = "1.2.840.10008.1.2.5";

    /** JPEG-LS Lossless Image Compression. */
    public static final String JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80";
    /** JPEG-LS Lossy (Near-Lossless) Image Compression. */
    public static final String JPEG_LS_NEAR_LOSSLESS = "1.2.840.10008.1.2.4.81";

    /** JPEG 2000 Image Compression (Lossless Only). */
    public static final String JPEG_2000_LOSSLESS = "1.2.840.10008.1.2.4.90";
    /** JPEG 2000 Image Compression (lossless or lossy). */
    public static final String JPEG_2000 = "1.2.840.10008.1.2.4.91";

    /** JPEG Baseline (Process 1), 8-bit lossy. */
    public static final String JPEG_BASELINE = "1.2.840.10008.1.2.4.50";
    /** JPEG Extended (Process 2 and 4), 8- or 12-bit lossy. */
    public static final String JPEG_EXTENDED = "1.2.840.10008.1.2.4.51";

    private static final FrameDecoder JPEG_BASELINE_DECODER = new JpegDctDecoder();
    private static final FrameDecoder JPEG_LS_DECODER = new JpegLsDecoder();
    private static final FrameDecoder JPEG_LOSSLESS_DECODER = new JpegLosslessDecoder();
    private static final FrameDecoder RLE_DECODER = new RleDecoder();

    /** Looks for a JPEG 2000 reader once, on first use of a JPEG 2000 syntax. */
    private static final class Jpeg2000 {
        static final Optional<FrameDecoder> DECODER =
                Jpeg2000Decoder.available() ? Optional.of(new Jpeg2000Decoder()) : Optional.empty();
    }

    private Codecs() {
    }

    /**
     * The decoder for a transfer syntax UID, or empty when Vertebra cannot decode it (the caller reports which
     * syntax is unsupported). Native (uncompressed) syntaxes are not codecs and are never returned here.
     *
     * <pre>{@code
     * FrameDecoder decoder = Codecs.decoderFor(tsUid).orElseThrow(() -> new IOException("unsupported " + tsUid));
     * }</pre>
     */
    public static Optional<FrameDecoder> decoderFor(String transferSyntaxUid) {
        return switch (transferSyntaxUid) {
            case JPEG_LOSSLESS, JPEG_LOSSLESS_SV1 -> Optional.of(JPEG_LOSSLESS_DECODER);
            case JPEG_LS_LOSSLESS, JPEG_LS_NEAR_LOSSLESS -> Optional.of(JPEG_LS_DECODER);
            case JPEG_2000_LOSSLESS, JPEG_2000 -> Jpeg2000.DECODER;
            case JPEG_BASELINE, JPEG_EXTENDED -> Optional.of(JPEG_BASELINE_DECODER);
            case RLE_LOSSLESS -> Optional.of(RLE_DECODER);
            default -> Optional.empty();
        };
    }
}
