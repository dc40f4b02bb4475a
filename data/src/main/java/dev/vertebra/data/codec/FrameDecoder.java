package dev.vertebra.data.codec;

/**
 * Decodes one compressed frame of encapsulated pixel data.
 *
 * <p>Output contract, the same for every codec: {@code format.samples()} values written to {@code out} from
 * {@code outOffset}, pixel-interleaved (sample index fastest, then column, then row) whatever order the stream
 * used, each value the stored bit pattern as an unsigned integer (at most 16 significant bits for the codecs
 * CT archives use). Masking to BitsStored and sign extension are the caller's job, as for native pixel data.
 */
@FunctionalInterface
public interface FrameDecoder {

    /**
     * @param frame     the frame's bytes: all its fragments concatenated, item headers removed
     * @param format    what the DICOM header says the frame holds
     * @param out       destination; must have room for {@code format.samples()} values from {@code outOffset}
     * @param outOffset first index written
     * @throws CodecException when the stream is malformed or disagrees with {@code format}
     */
    void decode(byte[] frame, FrameFormat format, int[] out, int outOffset) throws CodecException;
}
