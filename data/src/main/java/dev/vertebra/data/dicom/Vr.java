package dev.vertebra.data.dicom;

/**
 * DICOM value representations (PS3.5 §6.2) and what the reader needs to know about each.
 *
 * <p>Example: {@code Vr.of('U', 'S') == Vr.US}, {@code Vr.US.bytesPerValue() == 2}.
 */
public enum Vr {
    AE(Kind.TEXT, 0), AS(Kind.TEXT, 0), AT(Kind.BINARY, 4), CS(Kind.TEXT, 0), DA(Kind.TEXT, 0),
    DS(Kind.TEXT, 0), DT(Kind.TEXT, 0), FL(Kind.BINARY, 4), FD(Kind.BINARY, 8), IS(Kind.TEXT, 0),
    LO(Kind.TEXT, 0), LT(Kind.SINGLE_TEXT, 0), OB(Kind.BULK, 1), OD(Kind.BULK, 8), OF(Kind.BULK, 4),
    OL(Kind.BULK, 4), OV(Kind.BULK, 8), OW(Kind.BULK, 2), PN(Kind.TEXT, 0), SH(Kind.TEXT, 0),
    SL(Kind.BINARY, 4), SQ(Kind.SEQUENCE, 0), SS(Kind.BINARY, 2), ST(Kind.SINGLE_TEXT, 0),
    SV(Kind.BINARY, 8), TM(Kind.TEXT, 0), UC(Kind.TEXT, 0), UI(Kind.TEXT, 0), UL(Kind.BINARY, 4),
    UN(Kind.BULK, 1), UR(Kind.SINGLE_TEXT, 0), US(Kind.BINARY, 2), UT(Kind.SINGLE_TEXT, 0),
    UV(Kind.BINARY, 8);

    /** How a value of this VR is stored. */
    public enum Kind {
        /** Character string, several values separated by backslashes. */
        TEXT,
        /** Character string holding exactly one value (backslash is an ordinary character). */
        SINGLE_TEXT,
        /** Fixed-size binary numbers. */
        BINARY,
        /** Byte or word streams ("other" VRs and UN). */
        BULK,
        /** Sequence of items. */
        SEQUENCE
    }

    private final Kind kind;
    private final int bytesPerValue;

    Vr(Kind kind, int bytesPerValue) {
        this.kind = kind;
        this.bytesPerValue = bytesPerValue;
    }

    public Kind kind() {
        return kind;
    }

    /** Size of one binary value (0 for strings and sequences). */
    public int bytesPerValue() {
        return bytesPerValue;
    }

    /** True when explicit-VR encoding uses 2 reserved bytes and a 32-bit length (PS3.5 §7.1.2). */
    public boolean hasLongLength() {
        return switch (this) {
            case OB, OD, OF, OL, OV, OW, SQ, SV, UC, UN, UR, UT, UV -> true;
            default -> false;
        };
    }

    /** True for text VRs. */
    public boolean isText() {
        return kind == Kind.TEXT || kind == Kind.SINGLE_TEXT;
    }

    /** The VR spelled by two ASCII characters, or null when they name none. */
    public static Vr of(int c1, int c2) {
        if (c1 < 'A' || c1 > 'Z' || c2 < 'A' || c2 > 'Z') {
            return null;
        }
        return BY_CODE[(c1 - 'A') * 26 + (c2 - 'A')];
    }

    private static final Vr[] BY_CODE = new Vr[26 * 26];

    static {
        for (Vr vr : values()) {
            String name = vr.name();
            BY_CODE[(name.charAt(0) - 'A') * 26 + (name.charAt(1) - 'A')] = vr;
        }
    }
}
