package dev.vertebra.data.dicom;

import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prints a dataset the way dcmtk's {@code dcmdump} does: one line per element with tag, VR, value, length, VM
 * and keyword; sequences and items indented; pixel data and other large values summarised, never loaded.
 *
 * <pre>{@code
 * System.out.print(DicomDump.format(DicomReader.read(Path.of("ct.dcm"))));
 * // (0008,0060) CS [CT]                                     #   2, 1 Modality
 * }</pre>
 */
public final class DicomDump {
    /** Width of the "(tag) VR value" column before the '#', as dcmdump pads it. */
    private static final int VALUE_COLUMN = 56;
    /** Longest value printed in full; longer ones end with "...". */
    private static final int MAX_VALUE_CHARS = 64;
    private static final int MAX_BINARY_VALUES = 16;

    private DicomDump() {
    }

    /** The whole dump: meta information header (when present), then the data set. */
    public static String format(DicomObject ds) {
        var out = new StringBuilder("\n# Dicom-File-Format\n");
        ds.fileMeta().ifPresent(meta -> {
            out.append("\n# Dicom-Meta-Information-Header\n# Used TransferSyntax: Little Endian Explicit\n");
            elements(meta, 0, out);
        });
        out.append("\n# Dicom-Data-Set\n# Used TransferSyntax: ").append(syntaxName(ds.transferSyntaxUid()))
                .append('\n');
        elements(ds, 0, out);
        return out.toString();
    }

    private static String syntaxName(String uid) {
        return switch (uid) {
            case DicomReader.IMPLICIT_VR_LITTLE_ENDIAN -> "Little Endian Implicit";
            case DicomReader.EXPLICIT_VR_LITTLE_ENDIAN -> "Little Endian Explicit";
            case DicomReader.EXPLICIT_VR_BIG_ENDIAN -> "Big Endian Explicit";
            case DicomReader.DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN -> "Deflated Explicit VR Little Endian";
            default -> uid;
        };
    }

    private static void elements(DicomObject ds, int depth, StringBuilder out) {
        for (DicomElement e : ds) {
            element(ds, e, depth, out);
        }
    }

    private static void element(DicomObject ds, DicomElement e, int depth, StringBuilder out) {
        String vr = e.vr().name();
        switch (e.value()) {
            case DicomValue.Sequence(List<DicomObject> items) -> {
                boolean undefined = e.length() == DicomElement.UNDEFINED_LENGTH;
                line(out, depth, e.tag(), vr, "(Sequence with " + (undefined ? "undefined" : "explicit")
                        + " length #=" + items.size() + ")", e.length(), 1, keyword(e.tag()));
                for (DicomObject item : items) {
                    boolean undefinedItem = item.itemLength() == DicomElement.UNDEFINED_LENGTH;
                    line(out, depth + 1, Tags.ITEM, "na", "(Item with " + (undefinedItem ? "undefined" : "explicit")
                            + " length #=" + item.size() + ")", item.itemLength(), 1, "Item");
                    elements(item, depth + 2, out);
                    line(out, depth + 1, Tags.ITEM_DELIMITATION, "na", undefinedItem ? "(ItemDelimitationItem)"
                            : "(ItemDelimitationItem for re-encoding)", 0, 0, "ItemDelimitationItem");
                }
                line(out, depth, Tags.SEQUENCE_DELIMITATION, "na",
                        undefined ? "(SequenceDelimitationItem)" : "(SequenceDelimitationItem for re-encod.)",
                        0, 0, "SequenceDelimitationItem");
            }
            case DicomValue.Fragments f -> {
                line(out, depth, e.tag(), vr, "(PixelSequence #=" + (f.fragments().size() + 1) + ")",
                        DicomElement.UNDEFINED_LENGTH, 1, keyword(e.tag()));
                line(out, depth + 1, Tags.ITEM, "pi", "(offset table, " + f.basicOffsetTable().length
                        + " entries)", 4L * f.basicOffsetTable().length, 1, "Item");
                for (DicomValue.Fragment fragment : f.fragments()) {
                    line(out, depth + 1, Tags.ITEM, "pi", "(not loaded)", fragment.length(), 1, "Item");
                }
                line(out, depth, Tags.SEQUENCE_DELIMITATION, "na", "(SequenceDelimitationItem)", 0, 0,
                        "SequenceDelimitationItem");
            }
            case DicomValue.Bulk bulk -> line(out, depth, e.tag(), vr, "(not loaded)", bulk.length(), 1,
                    keyword(e.tag()));
            case DicomValue.Bytes(byte[] bytes) -> {
                List<String> values = values(ds.charset(), e.vr(), bytes, ds.isBigEndian());
                String text;
                if (values.isEmpty()) {
                    text = "(no value available)";
                } else if (e.vr().isText()) {
                    text = "[" + shorten(String.join("\\", values)) + "]";
                } else {
                    text = shorten(String.join("\\", values.subList(0, Math.min(values.size(),
                            MAX_BINARY_VALUES))) + (values.size() > MAX_BINARY_VALUES ? "..." : ""));
                }
                int vm = e.vr().kind() == Vr.Kind.BULK || e.vr().kind() == Vr.Kind.SINGLE_TEXT
                        ? Math.min(values.size(), 1) : values.size();
                line(out, depth, e.tag(), vr, text, bytes.length, vm, keyword(e.tag()));
            }
        }
    }

    private static String shorten(String s) {
        return s.length() <= MAX_VALUE_CHARS ? s : s.substring(0, MAX_VALUE_CHARS) + "...";
    }

    /** Values as dcmdump writes them: text with padding removed, numbers in decimal, bytes and words in hex. */
    private static List<String> values(Charset charset, Vr vr, byte[] bytes, boolean bigEndian) {
        List<String> out = new ArrayList<>();
        switch (vr.kind()) {
            case TEXT, SINGLE_TEXT -> {
                String s = stripPadding(new String(bytes, charset));
                if (!s.isEmpty()) {
                    out.addAll(vr.kind() == Vr.Kind.TEXT ? List.of(s.split("\\\\", -1)) : List.of(s));
                }
            }
            default -> {
                int size = vr.bytesPerValue();
                for (int i = 0; i + size <= bytes.length; i += size) {
                    long v = ValueCodec.integer(bytes, i, size, bigEndian && vr != Vr.OB && vr != Vr.UN);
                    out.add(switch (vr) {
                        case OB, UN -> String.format("%02x", v);
                        case OW -> String.format("%04x", v);
                        case SS -> Short.toString((short) v);
                        case SL -> Integer.toString((int) v);
                        case SV -> Long.toString(v);
                        case UV, OV -> Long.toUnsignedString(v);
                        case FL, OF -> formatFloat(Float.intBitsToFloat((int) v));
                        case FD, OD -> formatFloat(Double.longBitsToDouble(v));
                        case AT -> String.format("(%04x,%04x)",
                                ValueCodec.integer(bytes, i, 2, bigEndian), ValueCodec.integer(bytes, i + 2, 2, bigEndian));
                        default -> Long.toString(v);
                    });
                }
            }
        }
        return out;
    }

    private static String formatFloat(double v) {
        return String.format(Locale.ROOT, "%.6g", v).replaceAll("(\\.\\d*?)0+(e|$)", "$1$2").replace(".e", "e")
                .replaceAll("\\.$", "");
    }

    private static String stripPadding(String s) {
        int end = s.length();
        while (end > 0 && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == 0)) {
            end--;
        }
        return s.substring(0, end);
    }

    private static String keyword(int tag) {
        var entry = DicomDictionary.lookup(tag).filter(e -> !e.keyword().isEmpty());
        if (entry.isPresent()) {
            return (entry.get().retired() ? "RETIRED_" : "") + entry.get().keyword();
        }
        return Tags.isPrivate(tag) ? "PrivateTag" : "Unknown Tag & Data";
    }

    /** One line; {@code length} -1 prints "u/l" (undefined). */
    private static void line(StringBuilder out, int depth, int tag, String vr, String value, long length, int vm,
                             String keyword) {
        String indent = "  ".repeat(depth);
        String left = indent + String.format("(%04x,%04x) %s %s", Tags.group(tag), Tags.element(tag), vr, value);
        int width = VALUE_COLUMN + indent.length();
        out.append(left);
        out.append(" ".repeat(Math.max(1, width - left.length())));
        String len = length == DicomElement.UNDEFINED_LENGTH ? "u/l" : Long.toString(length);
        out.append(String.format("# %3s, %d %s%n", len, vm, keyword));
    }
}
