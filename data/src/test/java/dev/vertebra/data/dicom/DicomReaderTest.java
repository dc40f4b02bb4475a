package dev.vertebra.data.dicom;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The attribute API on a known file, and malformed input built byte by byte. */
class DicomReaderTest {

    @Test
    void attributesByTagAndKeyword() throws IOException {
        // expected values as dcmdump prints them for CT_small.dcm (golden/CT_small.dcmdump.txt)
        DicomObject ds = DicomReader.read(Golden.file("CT_small.dcm"));
        assertEquals(128, ds.getInt("Rows"));
        assertEquals(128, ds.getInt(0x00280011));
        assertArrayEquals(new String[]{"ORIGINAL", "PRIMARY", "AXIAL"}, ds.getStrings("ImageType"));
        assertArrayEquals(new double[]{0.661468, 0.661468}, ds.getDoubles("PixelSpacing"));
        assertEquals("CT", ds.getString("Modality"));
        assertEquals(-1024.0, ds.getDouble("RescaleIntercept"));
        assertEquals(DicomReader.EXPLICIT_VR_LITTLE_ENDIAN, ds.transferSyntaxUid());
        assertTrue(ds.contains("PixelData"));
        assertFalse(ds.contains("ModalityLUTSequence"));
        assertEquals("e+1", ds.getString("StudyDescription", "fallback"));
        assertEquals("fallback", ds.getString("ProtocolName", "fallback"));
        assertEquals(1, ds.getInt(0x00200013, 7));
        assertEquals(7, ds.getInt(0x00191234, 7));
        var missing = assertThrows(DicomValueException.class, () -> ds.getInt("NumberOfFrames"));
        assertTrue(missing.getMessage().contains("(0028,0008) NumberOfFrames"), missing.getMessage());
        assertThrows(DicomValueException.class, () -> ds.getInt("PatientName"));
        List<Integer> tags = new ArrayList<>();
        ds.forEach(e -> tags.add(e.tag()));
        List<Integer> sorted = new ArrayList<>(tags);
        sorted.sort(Integer::compareUnsigned);
        assertEquals(sorted, tags, "iteration in tag order");
        assertEquals("1.2.840.10008.1.2.1", ds.fileMeta().orElseThrow().getString("TransferSyntaxUID"));
    }

    @Test
    void sequencesAsItems() throws IOException {
        // rtplan.dcm as dcmdump lists it: DoseReferenceSequence with 2 items of 7 elements
        DicomObject ds = DicomReader.read(Golden.file("rtplan.dcm"));
        List<DicomObject> items = ds.getSequence("DoseReferenceSequence");
        assertEquals(2, items.size());
        assertEquals(7, items.getFirst().size());
        assertThrows(DicomValueException.class, () -> ds.getSequence("PatientName"));
    }

    @Test
    void dictionaryKnowsRepeatingGroupsAndPrivateCreators() {
        assertEquals("OverlayData", DicomDictionary.keywordOf(0x60023000));
        assertEquals("PrivateCreator", DicomDictionary.keywordOf(0x00090010));
        assertEquals("", DicomDictionary.keywordOf(0x00091001));
        assertEquals(0x7FE00010, DicomDictionary.tagOf("PixelData").orElseThrow());
        assertEquals("US", DicomDictionary.lookup(0x00280010).orElseThrow().vr());
    }

    @Test
    void nestingDeeperThanTheLimitIsRefused() {
        var b = new Implicit();
        int depth = DicomReader.MAX_DEPTH + 10;
        for (int i = 0; i < depth; i++) {
            b.header(0x00081140, -1).header(Tags.ITEM, -1);
        }
        for (int i = 0; i < depth; i++) {
            b.header(Tags.ITEM_DELIMITATION, 0).header(Tags.SEQUENCE_DELIMITATION, 0);
        }
        var e = assertThrows(DicomException.class, () -> DicomReader.read(b.bytes(), "deep"));
        assertTrue(e.getMessage().contains("deeper than " + DicomReader.MAX_DEPTH), e.getMessage());
    }

    @Test
    void nestingWithinTheLimitIsRead() throws IOException {
        var b = new Implicit();
        for (int i = 0; i < 10; i++) {
            b.header(0x00081140, -1).header(Tags.ITEM, -1);
        }
        b.text(0x00081150, "1.2.3");
        for (int i = 0; i < 10; i++) {
            b.header(Tags.ITEM_DELIMITATION, 0).header(Tags.SEQUENCE_DELIMITATION, 0);
        }
        DicomObject item = DicomReader.read(b.bytes(), "nested");
        for (int i = 0; i < 10; i++) {
            item = item.getSequence(0x00081140).getFirst();
        }
        assertEquals("1.2.3", item.getString("ReferencedSOPClassUID"));
    }

    @Test
    void lengthBeyondTheEndIsRefusedWithItsOffset() {
        var b = new Implicit().text(0x00080060, "CT").header(0x00100010, 1_000_000_000);
        var e = assertThrows(DicomException.class, () -> DicomReader.read(b.bytes(), "lying"));
        assertEquals("lying", e.source());
        assertEquals(10, e.offset(), "offset of the lying element's header");
    }

    @Test
    void itemLongerThanItsSequenceIsRefused() {
        var b = new Implicit().header(0x00081140, 16).header(Tags.ITEM, 100).text(0x00081150, "1.2");
        var e = assertThrows(DicomException.class, () -> DicomReader.read(b.bytes(), "item"));
        assertTrue(e.getMessage().contains("item claims 100 bytes"), e.getMessage());
    }

    @Test
    void invalidVrBytesAreRefused() throws IOException {
        byte[] file = Files.readAllBytes(Golden.file("CT_small.dcm"));
        // a later element: a bad VR in the first one makes the reader fall back to implicit VR, like pydicom
        int at = indexOf(file, "CS".getBytes(StandardCharsets.US_ASCII), 400);
        file[at] = 0x01;
        var e = assertThrows(DicomException.class, () -> DicomReader.read(file, "badvr"));
        assertTrue(e.getMessage().contains("invalid VR"), e.getMessage());
        assertEquals(at, e.offset());
    }

    @Test
    void imageLargerThanItsPixelDataIsRefused() throws IOException {
        byte[] file = Files.readAllBytes(Golden.file("CT_small.dcm"));
        int rows = indexOf(file, new byte[]{0x28, 0, 0x10, 0, 'U', 'S', 2, 0}, 0) + 8;
        file[rows] = (byte) 0xFF;
        file[rows + 1] = (byte) 0xFF;
        DicomObject ds = DicomReader.read(file, "absurd");
        var e = assertThrows(DicomException.class, () -> DicomPixels.read(ds));
        assertTrue(e.getMessage().contains("the header needs"), e.getMessage());
    }

    @Test
    void frameCountDisagreeingWithTheOffsetTableIsRefused() throws IOException {
        byte[] file = Files.readAllBytes(Golden.file("synthetic_rle_bot.dcm"));
        int frames = indexOf(file, new byte[]{0x28, 0, 0x08, 0, 'I', 'S', 2, 0}, 0) + 8;
        file[frames] = '4';
        DicomObject ds = DicomReader.read(file, "frames");
        var e = assertThrows(DicomException.class, () -> DicomPixels.encapsulatedFrames(ds));
        assertTrue(e.getMessage().contains("3 entries for 4 frames"), e.getMessage());
    }

    @Test
    void bareDataSetsAreRecognisedAndGarbageIsNot() throws IOException {
        assertEquals(DicomReader.EXPLICIT_VR_BIG_ENDIAN,
                DicomReader.read(Golden.file("ExplVR_BigEndNoMeta.dcm")).transferSyntaxUid());
        assertEquals(DicomReader.EXPLICIT_VR_LITTLE_ENDIAN,
                DicomReader.read(Golden.file("ExplVR_LitEndNoMeta.dcm")).transferSyntaxUid());
        byte[] text = "This is a text file, not DICOM at all.".getBytes(StandardCharsets.US_ASCII);
        var e = assertThrows(DicomException.class, () -> DicomReader.read(text, "text"));
        assertTrue(e.getMessage().contains("not a DICOM file"), e.getMessage());
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = from; i <= haystack.length - needle.length; i++) {
            for (int k = 0; k < needle.length; k++) {
                if (haystack[i + k] != needle[k]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalArgumentException("pattern not found");
    }

    /** Builds an implicit VR little endian data set without preamble. */
    private static final class Implicit {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Implicit header(int tag, int length) {
            u16(tag >>> 16);
            u16(tag & 0xFFFF);
            u16(length & 0xFFFF);
            u16(length >>> 16);
            return this;
        }

        Implicit text(int tag, String value) {
            byte[] v = (value.length() % 2 == 0 ? value : value + "\0").getBytes(StandardCharsets.US_ASCII);
            header(tag, v.length);
            out.writeBytes(v);
            return this;
        }

        private void u16(int v) {
            out.write(v & 0xFF);
            out.write((v >>> 8) & 0xFF);
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
