package dev.vertebra.data.dicom;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads DICOM files: Part 10 (preamble, "DICM", File Meta Information) or bare data sets, in implicit VR little
 * endian, explicit VR little/big endian, deflated explicit VR little endian, and the encapsulated syntaxes.
 * Pixel data and other large binary values stay in the file until asked for.
 *
 * <pre>{@code
 * DicomObject ds = DicomReader.read(Path.of("CT_small.dcm"));
 * System.out.println(ds.getString("PatientName") + " " + ds.transferSyntaxUid());
 * DicomPixels pixels = DicomPixels.read(ds);
 * }</pre>
 *
 * <p>A malformed file gives a {@link DicomException} naming the file and the byte offset; every length is
 * checked against what is left of its parent and of the file before anything is allocated, and sequences nest
 * at most {@value #MAX_DEPTH} deep.
 */
public final class DicomReader {
    /** Deepest sequence nesting accepted. */
    public static final int MAX_DEPTH = 64;

    public static final String IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2";
    public static final String EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1";
    public static final String DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1.99";
    public static final String EXPLICIT_VR_BIG_ENDIAN = "1.2.840.10008.1.2.2";

    /** Values of bulk VRs longer than this stay in the source until asked for. */
    private static final long BULK_THRESHOLD = 1024;
    private static final long UNDEFINED = 0xFFFFFFFFL;

    private final Cursor cursor;
    private String transferSyntaxUid = "";
    private boolean explicit = true;

    private DicomReader(Cursor cursor) {
        this.cursor = cursor;
    }

    /** Reads a file; pixel data is read from it later, when asked for. */
    public static DicomObject read(Path file) throws DicomException {
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new DicomException(file.toString(), 0, "cannot read: " + DicomException.reason(e), e);
        }
        try (Cursor cursor = new Cursor(new ByteSource.InFile(file, size))) {
            return new DicomReader(cursor).readFile();
        }
    }

    /** Reads a file held in memory; {@code name} names it in error messages. */
    public static DicomObject read(byte[] bytes, String name) throws DicomException {
        try (Cursor cursor = new Cursor(new ByteSource.InMemory(name, bytes))) {
            return new DicomReader(cursor).readFile();
        }
    }

    /** Reads a whole stream (it is read to its end, not closed); {@code name} names it in error messages. */
    public static DicomObject read(InputStream in, String name) throws DicomException {
        byte[] bytes;
        try {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new DicomException(name, 0, "cannot read: " + e, e);
        }
        return read(bytes, name);
    }

    // ---- file structure

    private DicomObject readFile() throws DicomException {
        DicomObject meta = null;
        if (cursor.size() >= 132 && hasMagic(128)) {
            cursor.seek(132);
            meta = readMeta();
        } else if (startsWithMetaGroup()) {
            meta = readMeta();
        }
        long datasetStart = cursor.position();
        if (meta != null && meta.contains(Tags.TRANSFER_SYNTAX_UID)) {
            transferSyntaxUid = meta.getString(Tags.TRANSFER_SYNTAX_UID, "").strip();
            explicit = !transferSyntaxUid.equals(IMPLICIT_VR_LITTLE_ENDIAN);
            cursor.bigEndian(transferSyntaxUid.equals(EXPLICIT_VR_BIG_ENDIAN));
            if (cursor.remaining() >= 6 && !transferSyntaxUid.equals(DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN)) {
                // like pydicom, trust the bytes over a meta header that names the wrong VR encoding
                explicit = looksExplicit();
            }
        } else {
            guessEncoding(meta != null);
        }
        Cursor body = cursor;
        if (transferSyntaxUid.equals(DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN)) {
            body = new Cursor(inflate(datasetStart));
            body.seek(datasetStart);
        }
        DicomReader bodyReader = body == cursor ? this : new DicomReader(body);
        bodyReader.transferSyntaxUid = transferSyntaxUid;
        bodyReader.explicit = explicit;
        var dataset = new DicomObject(body.source(), body.bigEndian(), transferSyntaxUid,
                StandardCharsets.ISO_8859_1, meta);
        bodyReader.readItemBody(dataset, body.size(), false, 0);
        return dataset;
    }

    private boolean hasMagic(int at) throws DicomException {
        return cursor.peek(at) == 'D' && cursor.peek(at + 1) == 'I' && cursor.peek(at + 2) == 'C'
                && cursor.peek(at + 3) == 'M';
    }

    private boolean startsWithMetaGroup() throws DicomException {
        return cursor.peek(0) == 0x02 && cursor.peek(1) == 0 && Vr.of(cursor.peek(4), cursor.peek(5)) != null;
    }

    /** Group 0002, always explicit VR little endian, read until the group changes. */
    private DicomObject readMeta() throws DicomException {
        var meta = new DicomObject(cursor.source(), false, EXPLICIT_VR_LITTLE_ENDIAN,
                StandardCharsets.ISO_8859_1, null);
        explicit = true;
        cursor.bigEndian(false);
        while (cursor.remaining() >= 8 && cursor.peek(0) == 0x02 && cursor.peek(1) == 0) {
            meta.put(readElement(meta, cursor.size(), 0));
        }
        return meta;
    }

    private boolean looksExplicit() throws DicomException {
        return Vr.of(cursor.peek(4), cursor.peek(5)) != null;
    }

    /** No transfer syntax given: guess the VR encoding and byte order from the first element's header. */
    private void guessEncoding(boolean hadMeta) throws DicomException {
        if (cursor.remaining() < 8) {
            throw cursor.error(cursor.position(), "not a DICOM file: too short for one element");
        }
        int b0 = cursor.peek(0);
        int b1 = cursor.peek(1);
        int littleGroup = b1 << 8 | b0;
        int bigGroup = b0 << 8 | b1;
        explicit = looksExplicit();
        boolean big = explicit && bigGroup < littleGroup;
        int group = big ? bigGroup : littleGroup;
        // a bare data set starts with its lowest groups: file meta, identification, patient
        boolean plausible = group >= 0x0002 && group <= 0x0010 && (group & 1) == 0;
        if (!plausible && !hadMeta) {
            throw cursor.error(cursor.position(),
                    "not a DICOM file: no preamble, no meta information and no recognisable first element");
        }
        cursor.bigEndian(big);
        transferSyntaxUid = !explicit ? IMPLICIT_VR_LITTLE_ENDIAN
                : big ? EXPLICIT_VR_BIG_ENDIAN : EXPLICIT_VR_LITTLE_ENDIAN;
    }

    /** The file with its deflated data set inflated in place, so offsets before the data set stay the same. */
    private ByteSource inflate(long datasetStart) throws DicomException {
        byte[] head = cursor.source().read(0, datasetStart);
        byte[] compressed = cursor.source().read(datasetStart, cursor.size() - datasetStart);
        var out = new ByteArrayOutputStream(Math.max(64, compressed.length * 4));
        out.write(head, 0, head.length);
        var inflater = new Inflater(true);
        try {
            inflater.setInput(compressed);
            byte[] chunk = new byte[1 << 16];
            while (!inflater.finished()) {
                int n = inflater.inflate(chunk);
                if (n == 0) {
                    break; // truncated stream: parse what came out; the data set parser reports where it ends
                }
                if ((long) out.size() + n > Integer.MAX_VALUE - 8) {
                    throw cursor.error(datasetStart, "deflated data set inflates beyond 2 GiB");
                }
                out.write(chunk, 0, n);
            }
        } catch (DataFormatException e) {
            throw new DicomException(cursor.name(), datasetStart, "bad deflate stream: " + e.getMessage(), e);
        } finally {
            inflater.end();
        }
        return new ByteSource.InMemory(cursor.name() + " (inflated)", out.toByteArray());
    }

    // ---- data sets, elements, sequences

    /**
     * Reads elements into {@code target} until {@code end} (defined length) or an item delimiter (undefined).
     */
    private void readItemBody(DicomObject target, long end, boolean undefinedLength, int depth)
            throws DicomException {
        while (true) {
            long at = cursor.position();
            if (!undefinedLength && at >= end) {
                return;
            }
            if (undefinedLength && cursor.remaining() == 0) {
                throw cursor.error(at, "file ends inside an item of undefined length");
            }
            if (!undefinedLength && end - at < 8) {
                throw cursor.error(at, "only " + (end - at) + " bytes left in the parent, too few for an element");
            }
            int tag = peekTag();
            if (tag == Tags.ITEM_DELIMITATION) {
                cursor.skip(8);
                return;
            }
            if (tag == Tags.SEQUENCE_DELIMITATION) {
                if (depth > 0 && undefinedLength) {
                    return; // an unterminated item: the sequence reader consumes the delimiter
                }
                cursor.skip(Math.min(8, cursor.remaining())); // stray delimiter at the end of some data sets
                continue;
            }
            DicomElement element = readElement(target, undefinedLength ? cursor.size() : end, depth);
            if (element.tag() == Tags.SPECIFIC_CHARACTER_SET) {
                target.put(element);
                target.charset(ValueCodec.charset(target.getString(Tags.SPECIFIC_CHARACTER_SET, "")));
            }
            target.put(element);
        }
    }

    private int peekTag() throws DicomException {
        long at = cursor.position();
        int tag = cursor.tag();
        cursor.seek(at);
        return tag;
    }

    private DicomElement readElement(DicomObject owner, long end, int depth) throws DicomException {
        long at = cursor.position();
        int tag = cursor.tag();
        if (Tags.group(tag) == 0xFFFE) {
            throw cursor.error(at, "unexpected " + Tags.format(tag) + " item tag outside a sequence");
        }
        Vr vr;
        long length;
        if (explicit) {
            int c1 = cursor.u8();
            int c2 = cursor.u8();
            vr = Vr.of(c1, c2);
            boolean unknownVr = vr == null;
            if (unknownVr) {
                if (c1 < 'A' || c1 > 'Z' || c2 < 'A' || c2 > 'Z') {
                    throw cursor.error(at + 4, String.format("invalid VR bytes 0x%02X 0x%02X for element %s",
                            c1, c2, Tags.format(tag)));
                }
                vr = Vr.UN; // a VR newer than this reader: PS3.5 §6.2 says it has the long header form
            }
            if (unknownVr || vr.hasLongLength()) {
                cursor.skip(2);
                length = cursor.u32();
            } else {
                length = cursor.u16();
            }
        } else {
            vr = DicomDictionary.implicitVr(tag, signedPixels(owner));
            length = cursor.u32();
        }
        boolean readAsUn = vr == Vr.UN;
        if (readAsUn) {
            Vr known = DicomDictionary.implicitVr(tag, signedPixels(owner));
            if (known != Vr.UN) {
                vr = known; // like pydicom: an element the dictionary knows is read with its VR
            }
        }
        long valueStart = cursor.position();
        boolean undefined = length == UNDEFINED;
        if (!undefined && length > end - valueStart) {
            throw cursor.error(at, "element " + Tags.format(tag) + " claims " + length + " bytes but only "
                    + Math.max(0, end - valueStart) + " are left in its parent");
        }
        long reportedLength = undefined ? DicomElement.UNDEFINED_LENGTH : length;
        DicomValue value;
        if (undefined && vr != Vr.SQ && (tag == Tags.PIXEL_DATA || vr != Vr.UN)) {
            value = readFragments(at);
            if (!explicit || readAsUn) {
                vr = Vr.OB; // a guessed VR: encapsulated data is a byte stream (PS3.5 §A.4)
            }
        } else if (vr == Vr.SQ || undefined) {
            value = readSequenceIn(undefined ? end : valueStart + length, undefined, depth, readAsUn,
                    owner.charset());
            vr = Vr.SQ;
        } else if (isBulk(tag, vr, length)) {
            value = new DicomValue.Bulk(valueStart, length);
            cursor.skip(length);
        } else {
            value = new DicomValue.Bytes(cursor.bytes(length));
        }
        return new DicomElement(tag, vr, at, reportedLength, value);
    }

    private static boolean isBulk(int tag, Vr vr, long length) {
        return tag == Tags.PIXEL_DATA || tag == Tags.FLOAT_PIXEL_DATA || tag == Tags.DOUBLE_FLOAT_PIXEL_DATA
                || (vr.kind() == Vr.Kind.BULK && length > BULK_THRESHOLD);
    }

    private static boolean signedPixels(DicomObject owner) {
        return owner.element(Tags.PIXEL_REPRESENTATION)
                .map(e -> e.value() instanceof DicomValue.Bytes(byte[] b) && b.length == 2 && (b[0] | b[1]) == 1)
                .orElse(false);
    }

    /** A sequence value; {@code asImplicit} reads an undefined-length UN as implicit VR little endian. */
    private DicomValue readSequenceIn(long end, boolean undefinedLength, int depth, boolean asImplicit,
                                      Charset charset) throws DicomException {
        if (depth + 1 > MAX_DEPTH) {
            throw cursor.error(cursor.position(), "sequences nest deeper than " + MAX_DEPTH);
        }
        boolean savedExplicit = explicit;
        boolean savedBigEndian = cursor.bigEndian();
        if (asImplicit) {
            explicit = false;
            cursor.bigEndian(false);
        }
        List<DicomObject> items = new ArrayList<>();
        try {
            while (true) {
                long at = cursor.position();
                if (!undefinedLength && at >= end) {
                    break;
                }
                if (end - at < 8) {
                    throw cursor.error(at, "sequence ends inside an item header");
                }
                int tag = cursor.tag();
                long length = cursor.u32();
                if (tag == Tags.SEQUENCE_DELIMITATION) {
                    break;
                }
                if (tag != Tags.ITEM) {
                    throw cursor.error(at, "expected an item (FFFE,E000) in a sequence, found " + Tags.format(tag));
                }
                var item = new DicomObject(cursor.source(), cursor.bigEndian(), transferSyntaxUid, charset, null);
                boolean itemExplicit = explicit;
                if (explicit && cursor.remaining() >= 6 && Tags.group(peekTag()) != 0xFFFE && !looksExplicit()) {
                    explicit = false; // like pydicom: some writers encode items of explicit files implicitly
                }
                if (length == UNDEFINED) {
                    readItemBody(item, end, true, depth + 1);
                } else {
                    item.itemLength(length);
                    long itemEnd = cursor.position() + length;
                    if (length > end - cursor.position()) {
                        throw cursor.error(at, "item claims " + length + " bytes but only "
                                + (end - cursor.position()) + " are left in its sequence");
                    }
                    readItemBody(item, itemEnd, false, depth + 1);
                    cursor.seek(itemEnd);
                }
                explicit = itemExplicit;
                items.add(item);
            }
        } finally {
            explicit = savedExplicit;
            cursor.bigEndian(savedBigEndian);
        }
        return new DicomValue.Sequence(items);
    }

    /** Encapsulated pixel data: the Basic Offset Table item, then fragment items up to a sequence delimiter. */
    private DicomValue readFragments(long elementOffset) throws DicomException {
        long[] offsetTable = null;
        List<DicomValue.Fragment> fragments = new ArrayList<>();
        while (true) {
            long at = cursor.position();
            if (cursor.remaining() < 8) {
                throw cursor.error(at, "file ends inside encapsulated data that starts at byte " + elementOffset);
            }
            int tag = cursor.tag();
            long length = cursor.u32();
            if (tag == Tags.SEQUENCE_DELIMITATION) {
                break;
            }
            if (tag != Tags.ITEM) {
                throw cursor.error(at, "expected a fragment item (FFFE,E000), found " + Tags.format(tag));
            }
            if (length == UNDEFINED || length > cursor.remaining() || length > Integer.MAX_VALUE - 8) {
                throw cursor.error(at, "fragment claims " + (length == UNDEFINED ? "undefined" : length)
                        + " bytes but only " + cursor.remaining() + " are left in the file");
            }
            if (offsetTable == null) {
                if (length % 4 != 0) {
                    throw cursor.error(at, "basic offset table length " + length + " is not a multiple of 4");
                }
                offsetTable = new long[(int) (length / 4)];
                for (int i = 0; i < offsetTable.length; i++) {
                    offsetTable[i] = cursor.u32();
                }
            } else {
                fragments.add(new DicomValue.Fragment(at, cursor.position(), (int) length));
                cursor.skip(length);
            }
        }
        return new DicomValue.Fragments(offsetTable == null ? new long[0] : offsetTable, fragments);
    }
}
