package dev.vertebra.data.codec;

/**
 * Geometry and sample format of one image frame, as the DICOM Image Pixel module describes it.
 *
 * @param rows                 Rows (0028,0010)
 * @param columns              Columns (0028,0011)
 * @param samplesPerPixel      SamplesPerPixel (0028,0002): 1 for grey, 3 for colour
 * @param bitsAllocated        BitsAllocated (0028,0100)
 * @param bitsStored           BitsStored (0028,0101)
 * @param signed               PixelRepresentation (0028,0103) is 1
 * @param planarConfiguration  PlanarConfiguration (0028,0006): 0 pixel-interleaved, 1 plane by plane
 */
public record FrameFormat(int rows, int columns, int samplesPerPixel, int bitsAllocated, int bitsStored,
                          boolean signed, int planarConfiguration) {

    /** Samples in one frame: rows × columns × samples per pixel. */
    public int samples() {
        return rows * columns * samplesPerPixel;
    }
}
