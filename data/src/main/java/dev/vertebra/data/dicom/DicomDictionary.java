package dev.vertebra.data.dicom;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/**
 * The DICOM data dictionary of PS3.6: tag ↔ keyword, VR, VM and name, including repeating groups such as
 * (60xx,3000) Overlay Data. Loaded once from a resource built from the standard's tables.
 *
 * <pre>{@code
 * int rows = DicomDictionary.tagOf("Rows").orElseThrow();          // 0x00280010
 * String vr = DicomDictionary.lookup(0x00280010).orElseThrow().vr(); // "US"
 * }</pre>
 */
public final class DicomDictionary {

    /**
     * One dictionary entry.
     *
     * @param tag     the tag (for a repeating group, the value with its 'x' digits zero)
     * @param vr      the VR as PS3.6 writes it, possibly ambiguous ("US or SS", "OB or OW")
     * @param vm      value multiplicity, e.g. "1", "1-n", "2-2n"
     * @param keyword the keyword, e.g. "PatientName"
     * @param name    the human-readable name, e.g. "Patient's Name"
     * @param retired whether the standard retired the element
     */
    public record Entry(int tag, String vr, String vm, String keyword, String name, boolean retired) {
    }

    private record Repeater(int mask, int value, Entry entry) {
    }

    private static final String RESOURCE = "dictionary.tsv.gz";
    private static final Entry GROUP_LENGTH = new Entry(0, "UL", "1", "GroupLength", "Group Length", false);
    private static final Entry PRIVATE_CREATOR =
            new Entry(0, "LO", "1", "PrivateCreator", "Private Creator", false);

    private final Map<Integer, Entry> byTag = new HashMap<>();
    private final Map<String, Integer> byKeyword = new HashMap<>();
    private final List<Repeater> repeaters = new ArrayList<>();

    private DicomDictionary() {
        try (InputStream raw = DicomDictionary.class.getResourceAsStream(RESOURCE)) {
            if (raw == null) {
                throw new IllegalStateException("missing resource " + RESOURCE);
            }
            var lines = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8));
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                add(line.split("\t", -1));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the DICOM dictionary resource", e);
        }
    }

    private void add(String[] f) {
        String hex = f[0];
        int mask = (int) Long.parseLong(hex.replaceAll("[0-9A-F]", "F").replace('x', '0'), 16);
        int value = (int) Long.parseLong(hex.replace('x', '0'), 16);
        var entry = new Entry(value, f[1], f[2], f[3], f[4], "R".equals(f[5]));
        if (mask == -1) {
            byTag.put(value, entry);
        } else {
            repeaters.add(new Repeater(mask, value, entry));
        }
        if (!entry.keyword().isEmpty()) {
            byKeyword.putIfAbsent(entry.keyword(), value);
        }
    }

    private static final class Holder {
        static final DicomDictionary INSTANCE = new DicomDictionary();
    }

    /** The entry describing a tag; group lengths and private creators get generic entries. */
    public static Optional<Entry> lookup(int tag) {
        DicomDictionary d = Holder.INSTANCE;
        Entry exact = d.byTag.get(tag);
        if (exact != null) {
            return Optional.of(exact);
        }
        if (Tags.element(tag) == 0) {
            return Optional.of(GROUP_LENGTH);
        }
        if (Tags.isPrivateCreator(tag)) {
            return Optional.of(PRIVATE_CREATOR);
        }
        if (Tags.isPrivate(tag)) {
            return Optional.empty();
        }
        for (Repeater r : d.repeaters) {
            if ((tag & r.mask()) == r.value()) {
                return Optional.of(r.entry());
            }
        }
        return Optional.empty();
    }

    /** The tag with this keyword (for repeating groups, the first group, e.g. 0x60003000 for OverlayData). */
    public static Optional<Integer> tagOf(String keyword) {
        return Optional.ofNullable(Holder.INSTANCE.byKeyword.get(keyword));
    }

    /** The keyword of a tag, or "" for private and unknown tags. */
    public static String keywordOf(int tag) {
        return lookup(tag).map(Entry::keyword).orElse("");
    }

    /**
     * The VR an implicit-VR reader assumes for a tag: the dictionary's, with ambiguous choices resolved as the
     * common case ("US or SS" → {@code signedPixels ? SS : US}, "OB or OW" → OW) and UN for unknown tags.
     */
    static Vr implicitVr(int tag, boolean signedPixels) {
        Optional<Entry> entry = lookup(tag);
        if (entry.isEmpty()) {
            return Vr.UN;
        }
        String vr = entry.get().vr();
        if (vr.startsWith("US or SS")) {
            return signedPixels ? Vr.SS : Vr.US;
        }
        if (vr.length() == 2) {
            Vr known = Vr.of(vr.charAt(0), vr.charAt(1));
            return known == null ? Vr.UN : known;
        }
        return vr.startsWith("NONE") ? Vr.UN : Vr.OW;
    }
}
