package dev.vertebra.data.dicom;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A DICOM dataset (a file's data set or one sequence item): elements in tag order, looked up by tag or keyword,
 * with typed getters in the spirit of pydicom's {@code Dataset}.
 *
 * <pre>{@code
 * DicomObject ds = DicomReader.read(Path.of("ct.dcm"));
 * int rows = ds.getInt("Rows");                              // or ds.getInt(0x00280010)
 * double[] spacing = ds.getDoubles("PixelSpacing");          // DS "0.66\0.66" -> [0.66, 0.66]
 * String modality = ds.getString("Modality", "");            // "CT"
 * for (DicomObject item : ds.getSequence("ReferencedImageSequence")) { ... }
 * }</pre>
 *
 * <p>Missing elements and unreadable values raise {@link DicomValueException}; the {@code fallback} overloads
 * return the fallback when the element is missing or empty. Large binary values (pixel data) stay in the file
 * until {@link #getBytes(int)} or {@link DicomPixels#read(DicomObject)} asks for them.
 */
public final class DicomObject implements Iterable<DicomElement> {
    private final TreeMap<Integer, DicomElement> elements = new TreeMap<>(Integer::compareUnsigned);
    private final ByteSource source;
    private final boolean bigEndian;
    private final String transferSyntaxUid;
    private final DicomObject fileMeta;
    private Charset charset;
    private long itemLength = DicomElement.UNDEFINED_LENGTH;

    DicomObject(ByteSource source, boolean bigEndian, String transferSyntaxUid, Charset charset,
                DicomObject fileMeta) {
        this.source = source;
        this.bigEndian = bigEndian;
        this.transferSyntaxUid = transferSyntaxUid;
        this.charset = charset;
        this.fileMeta = fileMeta;
    }

    void put(DicomElement element) {
        elements.put(element.tag(), element);
    }

    void charset(Charset value) {
        charset = value;
    }

    void itemLength(long value) {
        itemLength = value;
    }

    /** For a sequence item, its encoded length, or {@link DicomElement#UNDEFINED_LENGTH}. */
    public long itemLength() {
        return itemLength;
    }

    Charset charset() {
        return charset;
    }

    ByteSource source() {
        return source;
    }

    /** The file or stream this dataset was read from, as named in error messages. */
    public String sourceName() {
        return source.name();
    }

    /** The transfer syntax UID the data set is encoded in (items report their file's). */
    public String transferSyntaxUid() {
        return transferSyntaxUid;
    }

    /** True when binary values of this dataset are big endian (Explicit VR Big Endian). */
    public boolean isBigEndian() {
        return bigEndian;
    }

    /** The File Meta Information (group 0002) of a Part 10 file; empty for items and files without it. */
    public Optional<DicomObject> fileMeta() {
        return Optional.ofNullable(fileMeta);
    }

    public int size() {
        return elements.size();
    }

    /** Elements in ascending tag order. */
    @Override
    public Iterator<DicomElement> iterator() {
        return elementList().iterator();
    }

    public Collection<DicomElement> elementList() {
        return List.copyOf(elements.values());
    }

    public boolean contains(int tag) {
        return elements.containsKey(tag);
    }

    public boolean contains(String keyword) {
        return DicomDictionary.tagOf(keyword).map(elements::containsKey).orElse(false);
    }

    public Optional<DicomElement> element(int tag) {
        return Optional.ofNullable(elements.get(tag));
    }

    public Optional<DicomElement> element(String keyword) {
        return DicomDictionary.tagOf(keyword).map(elements::get);
    }

    private int tagOf(String keyword) {
        return DicomDictionary.tagOf(keyword).orElseThrow(
                () -> new DicomValueException(source.name(), -1, "unknown keyword " + keyword));
    }

    private DicomElement require(int tag) {
        DicomElement e = elements.get(tag);
        if (e == null) {
            throw new DicomValueException(source.name(), -1, "missing " + describe(tag));
        }
        return e;
    }

    private static String describe(int tag) {
        String keyword = DicomDictionary.keywordOf(tag);
        return Tags.format(tag) + (keyword.isEmpty() ? "" : " " + keyword);
    }

    private DicomValueException bad(DicomElement e, String message) {
        return new DicomValueException(source.name(), e.offset(), describe(e.tag()) + ": " + message);
    }

    /** The value bytes of an element, read from the file when it was left there. */
    public byte[] getBytes(int tag) throws DicomException {
        DicomElement e = require(tag);
        return switch (e.value()) {
            case DicomValue.Bytes b -> b.bytes().clone();
            case DicomValue.Bulk bulk -> source.read(bulk.offset(), bulk.length());
            default -> throw bad(e, "is a " + e.vr() + " with no plain byte value").toChecked();
        };
    }

    /** The bytes behind a text or number getter, read from the source when the value was left there. */
    private byte[] smallBytes(DicomElement e) {
        return switch (e.value()) {
            case DicomValue.Bytes b -> b.bytes();
            case DicomValue.Bulk bulk -> {
                try {
                    yield source.read(bulk.offset(), bulk.length());
                } catch (DicomException ex) {
                    throw bad(e, "cannot be read: " + ex.getMessage());
                }
            }
            default -> throw bad(e, "is not a text or numeric value");
        };
    }

    // ---- strings

    /** All values of a text element (split at backslashes, padding removed), or binary numbers as text. */
    public String[] getStrings(int tag) {
        DicomElement e = require(tag);
        return switch (e.vr().kind()) {
            case TEXT -> splitText(e);
            case SINGLE_TEXT -> {
                String text = trimEnd(decode(smallBytes(e)), false);
                yield text.isEmpty() ? new String[0] : new String[]{text};
            }
            case BINARY -> {
                double[] values = ValueCodec.numbers(e, smallBytes(e), bigEndian);
                String[] out = new String[values.length];
                for (int i = 0; i < values.length; i++) {
                    double v = values[i];
                    out[i] = v == Math.rint(v) && Math.abs(v) < 1e18 ? Long.toString((long) v) : Double.toString(v);
                }
                yield out;
            }
            default -> throw bad(e, "has VR " + e.vr() + ", not text");
        };
    }

    public String[] getStrings(String keyword) {
        return getStrings(tagOf(keyword));
    }

    /** The first value of a text element ("" when empty); see {@link #getStrings(int)}. */
    public String getString(int tag) {
        String[] values = getStrings(tag);
        return values.length == 0 ? "" : values[0];
    }

    public String getString(String keyword) {
        return getString(tagOf(keyword));
    }

    /** The first value, or {@code fallback} when the element is missing or empty. */
    public String getString(int tag, String fallback) {
        if (!contains(tag)) {
            return fallback;
        }
        String[] values = getStrings(tag);
        return values.length == 0 ? fallback : values[0];
    }

    public String getString(String keyword, String fallback) {
        return getString(tagOf(keyword), fallback);
    }

    private String[] splitText(DicomElement e) {
        String text = decode(smallBytes(e));
        if (trimEnd(text, true).isEmpty()) {
            return new String[0];
        }
        String[] parts = text.split("\\\\", -1);
        for (int i = 0; i < parts.length; i++) {
            String p = trimEnd(parts[i], true);
            parts[i] = LEADING_SPACE_SIGNIFICANT.contains(e.vr()) ? p : p.stripLeading();
        }
        return parts;
    }

    /** PS3.5 §6.2: leading spaces are padding except in these VRs. */
    private static final java.util.Set<Vr> LEADING_SPACE_SIGNIFICANT = java.util.EnumSet.of(Vr.UC, Vr.PN);

    private String decode(byte[] bytes) {
        return new String(bytes, charset);
    }

    /** Removes trailing padding: NUL and spaces (and, for multi-valued text, other trailing whitespace). */
    private static String trimEnd(String s, boolean whitespace) {
        int end = s.length();
        while (end > 0) {
            char c = s.charAt(end - 1);
            if (c == 0 || c == ' ' || (whitespace && Character.isWhitespace(c))) {
                end--;
            } else {
                break;
            }
        }
        return s.substring(0, end);
    }

    // ---- numbers

    /**
     * All values as numbers: DS/IS parsed from text, US/SS/UL/SL/FL/FD/SV/UV/AT decoded from binary, OB/OW/OF/OD/OL
     * as arrays of their unit.
     */
    public double[] getDoubles(int tag) {
        DicomElement e = require(tag);
        if (e.vr().isText()) {
            String[] parts = getStrings(tag);
            double[] out = new double[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    out[i] = Double.parseDouble(parts[i].strip());
                } catch (NumberFormatException ex) {
                    throw bad(e, "value " + (i + 1) + " '" + parts[i] + "' is not a number");
                }
            }
            return out;
        }
        if (e.vr().kind() == Vr.Kind.BINARY || e.vr().kind() == Vr.Kind.BULK) {
            return ValueCodec.numbers(e, smallBytes(e), bigEndian);
        }
        throw bad(e, "has VR " + e.vr() + ", not a number");
    }

    public double[] getDoubles(String keyword) {
        return getDoubles(tagOf(keyword));
    }

    public double getDouble(int tag) {
        double[] values = getDoubles(tag);
        if (values.length == 0) {
            throw bad(require(tag), "is empty");
        }
        return values[0];
    }

    public double getDouble(String keyword) {
        return getDouble(tagOf(keyword));
    }

    /** The first value, or {@code fallback} when the element is missing or empty. */
    public double getDouble(int tag, double fallback) {
        double[] values = contains(tag) ? getDoubles(tag) : new double[0];
        return values.length == 0 ? fallback : values[0];
    }

    /** All values as ints; IS text, integral DS text and integer binaries qualify, anything else is refused. */
    public int[] getInts(int tag) {
        DicomElement e = require(tag);
        double[] values = getDoubles(tag);
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            double v = values[i];
            if (v != Math.rint(v) || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw bad(e, "value " + (i + 1) + " (" + v + ") is not an int");
            }
            out[i] = (int) v;
        }
        return out;
    }

    public int[] getInts(String keyword) {
        return getInts(tagOf(keyword));
    }

    public int getInt(int tag) {
        int[] values = getInts(tag);
        if (values.length == 0) {
            throw bad(require(tag), "is empty");
        }
        return values[0];
    }

    public int getInt(String keyword) {
        return getInt(tagOf(keyword));
    }

    /** The first value, or {@code fallback} when the element is missing or empty. */
    public int getInt(int tag, int fallback) {
        int[] values = contains(tag) ? getInts(tag) : new int[0];
        return values.length == 0 ? fallback : values[0];
    }

    public int getInt(String keyword, int fallback) {
        return getInt(tagOf(keyword), fallback);
    }

    // ---- sequences

    /** The items of a sequence (an empty list for an empty sequence). */
    public List<DicomObject> getSequence(int tag) {
        DicomElement e = require(tag);
        if (e.value() instanceof DicomValue.Sequence(List<DicomObject> items)) {
            return items;
        }
        if (e.length() == 0) {
            return List.of();
        }
        throw bad(e, "has VR " + e.vr() + ", not a sequence");
    }

    public List<DicomObject> getSequence(String keyword) {
        return getSequence(tagOf(keyword));
    }

    @Override
    public String toString() {
        List<String> tags = new ArrayList<>();
        for (DicomElement e : elements.values()) {
            tags.add(describe(e.tag()));
        }
        return "DicomObject" + tags;
    }
}
