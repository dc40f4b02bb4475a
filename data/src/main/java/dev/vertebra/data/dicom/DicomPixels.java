package dev.vertebra.data.dicom;

import dev.vertebra.data.codec.CodecException;
import dev.vertebra.data.codec.Codecs;
import dev.vertebra.data.codec.FrameDecoder;
import dev.vertebra.data.codec.FrameFormat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The decoded pixels of an image: stored values after BitsStored masking and sign extension, frame by frame,
 * pixel-interleaved, plus the Modality LUT that maps them to modality units.
 *
 * <pre>{@code
 * DicomPixels px = DicomPixels.read(DicomReader.read(Path.of("ct.dcm")));
 * int[] shape = px.shape();            // pydicom's pixel_array shape, e.g. [512, 512]
 * float[] hu = px.modalityLut();       // apply_modality_lut(ds.pixel_array, ds)
 * }</pre>
 *
 * <p>Layout of {@code stored}: {@code [frames, rows, columns, samplesPerPixel]}, row-major. For unsigned 32-bit
 * data, values of 2^31 and above are held as negative ints; {@link #value(int)} reads them back unsigned.
 * MONOCHROME1 inversion and VOI windowing are not applied.
 *
 * @param frames                    NumberOfFrames (1 when absent)
 * @param format                    geometry and sample format of every frame
 * @param photometricInterpretation e.g. "MONOCHROME2", "RGB", "YBR_FULL"
 * @param stored                    stored values, see above
 * @param modality                  the Modality LUT
 */
public record DicomPixels(int frames, FrameFormat format, String photometricInterpretation, int[] stored,
                          ModalityLut modality) {

    public int rows() {
        return format.rows();
    }

    public int columns() {
        return format.columns();
    }

    public int samplesPerPixel() {
        return format.samplesPerPixel();
    }

    /** The shape pydicom gives {@code pixel_array}: [rows, cols], with a leading frames and a trailing samples
     * axis when there are several. */
    public int[] shape() {
        int[] full = {frames, rows(), columns(), samplesPerPixel()};
        int from = frames > 1 ? 0 : 1;
        int to = samplesPerPixel() > 1 ? 4 : 3;
        return Arrays.copyOfRange(full, from, to);
    }

    /** The shape of {@link #stored()} with every axis: [frames, rows, columns, samples]. */
    public int[] fullShape() {
        return new int[]{frames, rows(), columns(), samplesPerPixel()};
    }

    /** Stored value {@code index} as a number (unsigned 32-bit values read back unsigned). */
    public long value(int index) {
        int v = stored[index];
        return format.signed() ? v : Integer.toUnsignedLong(v);
    }

    /** Stored values through the Modality LUT (HU for CT); raw stored values when the image has none. */
    public float[] modalityLut() {
        float[] out = new float[stored.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) modality.apply(value(i));
        }
        return out;
    }

    /** Reads and decodes the pixel data of a dataset. */
    public static DicomPixels read(DicomObject ds) throws DicomException {
        String name = ds.sourceName();
        DicomElement pixelData = ds.element(Tags.PIXEL_DATA).orElseThrow(() -> new DicomException(name, 0,
                ds.contains(Tags.FLOAT_PIXEL_DATA) || ds.contains(Tags.DOUBLE_FLOAT_PIXEL_DATA)
                        ? "float pixel data is not supported" : "no Pixel Data (7FE0,0010)"));
        FrameFormat format;
        int frames;
        String photometric;
        try {
            int bitsAllocated = ds.getInt(Tags.BITS_ALLOCATED);
            format = new FrameFormat(ds.getInt(Tags.ROWS), ds.getInt(Tags.COLUMNS),
                    ds.getInt(Tags.SAMPLES_PER_PIXEL, 1), bitsAllocated,
                    ds.getInt(Tags.BITS_STORED, bitsAllocated), ds.getInt(Tags.PIXEL_REPRESENTATION, 0) == 1,
                    ds.getInt(Tags.PLANAR_CONFIGURATION, 0));
            frames = ds.getInt(Tags.NUMBER_OF_FRAMES, 1);
            photometric = ds.getString(Tags.PHOTOMETRIC_INTERPRETATION, "");
        } catch (DicomValueException e) {
            throw e.toChecked();
        }
        long at = pixelData.offset();
        check(format.rows() >= 1 && format.rows() <= 0xFFFF && format.columns() >= 1 && format.columns() <= 0xFFFF,
                name, at, "implausible image size " + format.rows() + "×" + format.columns());
        check(format.samplesPerPixel() >= 1 && format.samplesPerPixel() <= 4, name, at,
                "SamplesPerPixel " + format.samplesPerPixel() + " is not 1 to 4");
        check(List.of(1, 8, 16, 32).contains(format.bitsAllocated()), name, at,
                "BitsAllocated " + format.bitsAllocated() + " is not 1, 8, 16 or 32");
        check(format.bitsStored() >= 1 && format.bitsStored() <= format.bitsAllocated(), name, at,
                "BitsStored " + format.bitsStored() + " does not fit BitsAllocated " + format.bitsAllocated());
        check(frames >= 1, name, at, "NumberOfFrames " + frames + " is not positive");
        long values = (long) frames * format.samples();
        check(values <= Integer.MAX_VALUE - 8, name, at, values + " pixel values do not fit one array");
        int[] stored = switch (pixelData.value()) {
            case DicomValue.Fragments f -> decodeEncapsulated(ds, pixelData, f, format, frames);
            case DicomValue.Bulk b -> {
                long needed = NativePixels.requiredBytes(format, frames, photometric);
                check(needed <= b.length(), name, at, "Pixel Data holds " + b.length() + " bytes, the header needs "
                        + needed);
                yield NativePixels.decode(ds.source().read(b.offset(), needed), format, frames, photometric,
                        ds.isBigEndian());
            }
            case DicomValue.Bytes b -> {
                long needed = NativePixels.requiredBytes(format, frames, photometric);
                check(needed <= b.bytes().length, name, at, "Pixel Data holds " + b.bytes().length
                        + " bytes, the header needs " + needed);
                yield NativePixels.decode(b.bytes(), format, frames, photometric, ds.isBigEndian());
            }
            case DicomValue.Sequence s -> throw new DicomException(name, at, "Pixel Data is a sequence");
        };
        NativePixels.maskAndExtend(stored, format);
        return new DicomPixels(frames, format, photometric, stored, ModalityLut.of(ds, format.signed()));
    }

    /** Upper bound on the values one encapsulated image may decode to. */
    public static final int MAX_DECODED_SAMPLES = 1 << 28;

    private static int[] decodeEncapsulated(DicomObject ds, DicomElement pixelData, DicomValue.Fragments value,
                                            FrameFormat format, int frames) throws DicomException {
        String name = ds.sourceName();
        String syntax = ds.transferSyntaxUid();
        FrameDecoder decoder = Codecs.decoderFor(syntax).orElseThrow(() -> new DicomException(name,
                pixelData.offset(), "unsupported transfer syntax " + syntax + " for encapsulated pixel data"));
        List<List<DicomValue.Fragment>> perFrame = FrameFragments.split(ds, pixelData, value, frames, name);
        // Compressed data says nothing about its decoded size before it is decoded, so the header's claim is
        // bounded here: no encapsulated image may need more than MAX_DECODED_SAMPLES values (1 GiB of ints).
        long samples = (long) frames * format.samples();
        if (samples > MAX_DECODED_SAMPLES) {
            throw new DicomException(name, pixelData.offset(), frames + " frame(s) of " + format.rows() + "×"
                    + format.columns() + "×" + format.samplesPerPixel() + " samples exceed the limit of "
                    + MAX_DECODED_SAMPLES + " decoded samples");
        }
        int[] out = new int[(int) samples];
        for (int frame = 0; frame < frames; frame++) {
            List<DicomValue.Fragment> fragments = perFrame.get(frame);
            try {
                decoder.decode(concatenate(ds, fragments), format, out, frame * format.samples());
            } catch (CodecException e) {
                throw new DicomException(name, fragments.getFirst().offset(),
                        "frame " + frame + " cannot be decoded: " + e.getMessage(), e);
            }
        }
        return out;
    }

    /**
     * The compressed bytes of each frame of encapsulated pixel data: its fragments concatenated, item headers
     * removed — what a {@link FrameDecoder} receives.
     */
    public static List<byte[]> encapsulatedFrames(DicomObject ds) throws DicomException {
        DicomElement pixelData = ds.element(Tags.PIXEL_DATA).orElseThrow(
                () -> new DicomException(ds.sourceName(), 0, "no Pixel Data (7FE0,0010)"));
        if (!(pixelData.value() instanceof DicomValue.Fragments fragments)) {
            throw new DicomException(ds.sourceName(), pixelData.offset(), "pixel data is not encapsulated");
        }
        int frames;
        try {
            frames = ds.getInt(Tags.NUMBER_OF_FRAMES, 1);
        } catch (DicomValueException e) {
            throw e.toChecked();
        }
        check(frames >= 1, ds.sourceName(), pixelData.offset(), "NumberOfFrames " + frames + " is not positive");
        List<byte[]> out = new ArrayList<>();
        for (List<DicomValue.Fragment> frame : FrameFragments.split(ds, pixelData, fragments, frames,
                ds.sourceName())) {
            out.add(concatenate(ds, frame));
        }
        return out;
    }

    private static byte[] concatenate(DicomObject ds, List<DicomValue.Fragment> fragments) throws DicomException {
        long total = 0;
        for (DicomValue.Fragment f : fragments) {
            total += f.length();
        }
        check(total <= Integer.MAX_VALUE - 8, ds.sourceName(), fragments.getFirst().itemOffset(), "frame too large");
        byte[] bytes = new byte[(int) total];
        int filled = 0;
        for (DicomValue.Fragment f : fragments) {
            ds.source().read(f.offset(), bytes, filled, f.length());
            filled += f.length();
        }
        return bytes;
    }

    private static void check(boolean ok, String name, long at, String message) throws DicomException {
        if (!ok) {
            throw new DicomException(name, at, message);
        }
    }
}
