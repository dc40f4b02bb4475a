package dev.vertebra.data.dicom;

/**
 * One data element as read from a file.
 *
 * @param tag    the tag, e.g. {@code 0x00280010}
 * @param vr     the value representation (explicit in the file, or from the dictionary for implicit VR)
 * @param offset byte offset of the element's header in its source
 * @param length value length as encoded, or {@link #UNDEFINED_LENGTH}
 * @param value  the value
 */
public record DicomElement(int tag, Vr vr, long offset, long length, DicomValue value) {

    /** The length field 0xFFFFFFFF: the value ends with a delimitation item. */
    public static final long UNDEFINED_LENGTH = -1;

    /** The dictionary keyword, or "" for private and unknown tags. */
    public String keyword() {
        return DicomDictionary.keywordOf(tag);
    }
}
