package dev.vertebra.data.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class JpegLosslessEncoderTest {

    static List<EncoderSamples.Sample> samples() {
        return EncoderSamples.all();
    }

    /** The committed codestreams were judged by dcmtk and GDCM; the encoder must still write exactly those bytes. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void dcmtkDecodesTheEncoderOutputToTheInput(EncoderSamples.Sample sample) {
        byte[] committed = CodecFixture.resource("encoder/" + sample.name() + ".jpg");
        assertArrayEquals(committed, sample.encode(),
                "encoder output changed: rerun EncoderSamples and check_encoder_with_dcmtk.py (see EncoderSamples)");
        ByteBuffer raw = ByteBuffer.wrap(CodecFixture.resource("encoder/" + sample.name() + ".dcmdjpeg.raw"))
                .order(ByteOrder.LITTLE_ENDIAN);
        int mask = (1 << sample.precision()) - 1;
        for (int i = 0; i < sample.rows() * sample.cols() * sample.components(); i++) {
            assertEquals(sample.pixels()[i] & mask, Short.toUnsignedInt(raw.getShort()), "sample " + i);
        }
    }

    /** The decoder on the dcmtk-checked frames, including one scan per component and codes beyond the lookahead. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void decoderReadsTheDcmtkCheckedFrames(EncoderSamples.Sample sample) throws CodecException {
        byte[] committed = CodecFixture.resource("encoder/" + sample.name() + ".jpg");
        var format = new FrameFormat(sample.rows(), sample.cols(), sample.components(), sample.precision() > 8 ? 16 : 8,
                sample.precision(), false, 0);
        int[] decoded = new int[format.samples()];
        new JpegLosslessDecoder().decode(committed, format, decoded, 0);
        ByteBuffer raw = ByteBuffer.wrap(CodecFixture.resource("encoder/" + sample.name() + ".dcmdjpeg.raw"))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < decoded.length; i++) {
            assertEquals(Short.toUnsignedInt(raw.getShort()), decoded[i], "sample " + i);
        }
    }

    @Test
    void everyPrecisionPredictorAndRestartIntervalRoundTrips() throws CodecException {
        var random = new SplittableRandom(7);
        int rows = 13;
        int cols = 11;
        for (int precision = 2; precision <= 16; precision++) {
            for (int predictor = 1; predictor <= 7; predictor++) {
                int[] pixels = smoothNoise(random, rows, cols, precision);
                int restart = predictor % 3;
                byte[] stream = JpegLosslessEncoder.encode(pixels, rows, cols, precision, predictor, restart);
                var format = new FrameFormat(rows, cols, 1, precision > 8 ? 16 : 8, precision, false, 0);
                int[] decoded = new int[pixels.length];
                new JpegLosslessDecoder().decode(stream, format, decoded, 0);
                assertArrayEquals(pixels, decoded, "precision " + precision + " predictor " + predictor);
            }
        }
    }

    @Test
    void signedValuesAreEncodedAsTheirStoredBitPattern() throws CodecException {
        int[] hu = {-1024, -1000, 0, 40, 1200, 3071, -2048, 5};
        byte[] stream = JpegLosslessEncoder.encode(hu, 2, 4, 16);
        int[] decoded = new int[hu.length];
        new JpegLosslessDecoder().decode(stream, new FrameFormat(2, 4, 1, 16, 16, true, 0), decoded, 0);
        for (int i = 0; i < hu.length; i++) {
            assertEquals(hu[i], (short) decoded[i]);
        }
    }

    @Test
    void optimalTableIsShorterThanTwoBytesPerSampleOnCt() {
        int[] ct = CodecFixture.named("jpll_sv1_ct128").expected();
        byte[] stream = JpegLosslessEncoder.encode(ct, 128, 128, 16);
        assertTrue(stream.length < ct.length * 2 * 0.7, "compressed to " + stream.length + " bytes");
        assertTrue(stream.length <= CodecFixture.named("jpll_sv1_ct128").codestream().length + 64,
                "no worse than dcmtk's optimised table");
    }

    @Test
    void codeLengthsStayWithinSixteenBitsForSkewedHistograms() {
        long[] frequencies = new long[17];
        for (int s = 0; s <= 16; s++) {
            frequencies[s] = 1L << (s * 2);
        }
        int[] counts = new int[17];
        int[] symbols = JpegLosslessEncoder.optimalTable(frequencies, counts);
        assertEquals(17, symbols.length);
        long kraft = 0;
        for (int length = 1; length <= 16; length++) {
            kraft += (long) counts[length] << (16 - length);
        }
        assertTrue(kraft < 1 << 16, "a prefix code leaving the all-ones code free");
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> JpegLosslessEncoder.encode(new int[3], 2, 2, 16));
        assertThrows(IllegalArgumentException.class, () -> JpegLosslessEncoder.encode(new int[4], 2, 2, 17));
        assertThrows(IllegalArgumentException.class, () -> JpegLosslessEncoder.encode(new int[4], 2, 2, 8, 8, 0));
    }

    private static int[] smoothNoise(SplittableRandom random, int rows, int cols, int precision) {
        int max = (1 << precision) - 1;
        int[] v = new int[rows * cols];
        int level = random.nextInt(max + 1);
        for (int i = 0; i < v.length; i++) {
            level = Math.clamp(level + random.nextInt(-max / 4 - 1, max / 4 + 2), 0, max);
            v[i] = i % 17 == 0 ? random.nextInt(max + 1) : level;
        }
        return v;
    }
}
