package dev.vertebra.data.dicom;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A tiny compressed file whose header claims a giant image is refused before anything that size is allocated. */
class DecodedSizeLimitTest {

    @Test
    void encapsulatedImageLargerThanTheLimitIsRefused() throws Exception {
        DicomWriter.Dataset ds = new DicomWriter.Dataset()
                .uint16(Tags.ROWS, 46_000)
                .uint16(Tags.COLUMNS, 46_000)
                .uint16(0x00280002, 1)
                .string(0x00280004, "CS", "MONOCHROME2")
                .uint16(0x00280100, 16)
                .uint16(0x00280101, 16)
                .uint16(0x00280102, 15)
                .uint16(0x00280103, 0)
                .encapsulated(List.of(new byte[]{(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xD9}));
        byte[] file = DicomWriter.toBytes(ds, "1.2.840.10008.5.1.4.1.1.2", "2.25.1", DicomWriter.JPEG_LOSSLESS_SV1);
        DicomObject read = DicomReader.read(file, "giant.dcm");
        DicomException e = assertThrows(DicomException.class, () -> DicomPixels.read(read));
        assertTrue(e.getMessage().contains("giant.dcm") && e.getMessage().contains("exceed"), e.getMessage());
    }
}
