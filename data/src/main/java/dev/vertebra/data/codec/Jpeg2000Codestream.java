package dev.vertebra.data.codec;

import java.util.BitSet;

/**
 * Structural check of a JPEG 2000 codestream (ISO/IEC 15444-1 Annex A) before it reaches the decoding library,
 * which trusts its input: it loops for ever on some corrupt packet headers and sizes its work and memory by
 * counts read from the stream. Everything the library will act on is checked here against the frame's length and
 * against the DICOM header, so what is left for it to meet is entropy-coded data of a well-formed stream.
 *
 * <p>Checked: SOC then SIZ; SIZ geometry equal to the {@link FrameFormat}, one component per sample, no
 * subsampling, precision at most 16 bits and within BitsAllocated, at most 65535 tiles; main-header COD and QCD
 * present; every COD, COC, QCD and QCC segment within the limits of the standard (at most 32 decomposition levels,
 * code-blocks of at most 4096 samples with sides of 4 to 1024, known styles) and of a length that agrees with its
 * content; every tile-part (SOT) of a tile that exists, with a length (Psot) that ends inside the stream and an SOD
 * marker; every tile present; the whole stream closed by EOC; no marker code FF90–FFFF inside tile-part data other
 * than SOP and EPH (the standard's bit stuffing rules them out, and they are what sends the library's packet-header
 * reader into an endless loop); and at least one byte of tile-part data for every packet the highest resolution
 * must have, so a claimed count of quality layers cannot exceed what the stream can hold.
 */
final class Jpeg2000Codestream {
    private static final String CODEC = "JPEG 2000";

    private static final int SOC = 0xFF4F;
    private static final int SIZ = 0xFF51;
    private static final int COD = 0xFF52;
    private static final int COC = 0xFF53;
    private static final int TLM = 0xFF55;
    private static final int PLM = 0xFF57;
    private static final int PLT = 0xFF58;
    private static final int QCD = 0xFF5C;
    private static final int QCC = 0xFF5D;
    private static final int RGN = 0xFF5E;
    private static final int POC = 0xFF5F;
    private static final int PPM = 0xFF60;
    private static final int PPT = 0xFF61;
    private static final int CRG = 0xFF63;
    private static final int COM = 0xFF64;
    private static final int SOT = 0xFF90;
    private static final int SOP = 0xFF91;
    private static final int EPH = 0xFF92;
    private static final int SOD = 0xFF93;
    private static final int EOC = 0xFFD9;

    /** Largest precision accepted: DICOM frames of the codecs CT archives use hold at most 16 bits. */
    static final int MAX_PRECISION = 16;
    /** The standard's limit on decomposition levels. */
    static final int MAX_LEVELS = 32;

    private final byte[] b;
    private final int eoc;
    private int components;
    private int levels = -1;
    private int minLayers = Integer.MAX_VALUE;

    private Jpeg2000Codestream(byte[] b, int eoc) {
        this.b = b;
        this.eoc = eoc;
    }

    /**
     * Checks the codestream that starts with SOC at {@code soc} against {@code format}.
     *
     * @return the offset just past its EOC marker
     */
    static int check(byte[] frame, int soc, FrameFormat format) throws CodecException {
        int end = frame.length;
        while (end > soc + 2 && frame[end - 1] == 0) {
            end--; // DICOM pads odd-length fragments with a zero byte
        }
        if (end - soc < 4 || u16(frame, end - 2) != EOC) {
            throw new CodecException(CODEC, end, "no EOC marker: the codestream is truncated");
        }
        var stream = new Jpeg2000Codestream(frame, end - 2);
        stream.walk(soc, format);
        return end;
    }

    private void walk(int soc, FrameFormat format) throws CodecException {
        if (u16(b, soc) != SOC) {
            throw fail(soc, "no SOC marker");
        }
        int siz = soc + 2;
        if (siz + 4 > eoc || u16(b, siz) != SIZ) {
            throw fail(siz, "SIZ marker segment missing after SOC");
        }
        int tiles = readSiz(siz, format);
        // main header: up to the first SOT
        int at = siz + 2 + u16(b, siz + 2);
        boolean cod = false;
        boolean qcd = false;
        boolean perComponent = false;
        int qcdBands = -1;
        while (true) {
            int marker = marker(at);
            if (marker == SOT) {
                break;
            }
            int length = segmentLength(at, eoc);
            switch (marker) {
                case COD -> {
                    readCod(at, length, true);
                    cod = true;
                }
                case COC -> {
                    readCoc(at, length);
                    perComponent = true;
                }
                case QCD -> {
                    qcdBands = readQuantization(at, length, 0);
                    qcd = true;
                }
                case QCC -> {
                    readQuantization(at, length, componentIndexBytes());
                    perComponent = true;
                }
                case RGN, POC, PPM, TLM, PLM, CRG, COM -> { }
                default -> throw fail(at, "unexpected marker " + hex(marker) + " in the main header");
            }
            at += 2 + length;
        }
        if (!cod || !qcd) {
            throw fail(at, "main header lacks its " + (cod ? "QCD" : "COD") + " marker segment");
        }
        if (!perComponent && qcdBands >= 0 && qcdBands != 3 * levels + 1) {
            throw fail(at, "QCD has " + qcdBands + " subband entries for " + levels + " decomposition levels");
        }
        BitSet seen = new BitSet(tiles);
        long dataBytes = 0;
        while (at < eoc) {
            if (marker(at) != SOT || segmentLength(at, eoc) != 10) {
                throw fail(at, "expected a 10-byte SOT marker segment, found " + hex(u16(b, at)));
            }
            int tile = u16(b, at + 4);
            long psot = u32(b, at + 6);
            if (tile >= tiles) {
                throw fail(at, "tile-part of tile " + tile + " of " + tiles);
            }
            long tilePartEnd = psot == 0 ? eoc : at + psot;
            if (psot != 0 && psot < 14 || tilePartEnd > eoc) {
                throw fail(at + 6, "tile-part length Psot " + psot + " does not fit the " + (eoc - at)
                        + " bytes left before EOC");
            }
            int end = (int) tilePartEnd;
            int sod = readTilePartHeader(at + 12, end);
            scanData(sod + 2, end);
            dataBytes += end - (sod + 2);
            seen.set(tile);
            at = end;
        }
        if (seen.cardinality() != tiles) {
            throw fail(eoc, "tile " + seen.nextClearBit(0) + " of " + tiles + " has no tile-part");
        }
        // Each packet header is at least one byte, and the highest resolution of every tile-component has at
        // least one precinct, hence one packet per quality layer.
        long packets = (long) tiles * components * minLayers;
        if (packets > dataBytes) {
            throw fail(eoc, minLayers + " quality layers need at least " + packets + " packets, more than the "
                    + dataBytes + " bytes of tile-part data");
        }
    }

    private int readSiz(int at, FrameFormat format) throws CodecException {
        int length = segmentLength(at, eoc);
        if (length < 41) {
            throw fail(at, "SIZ marker segment of " + length + " bytes");
        }
        long xsiz = u32(b, at + 6);
        long ysiz = u32(b, at + 10);
        long xo = u32(b, at + 14);
        long yo = u32(b, at + 18);
        long xt = u32(b, at + 22);
        long yt = u32(b, at + 26);
        long xto = u32(b, at + 30);
        long yto = u32(b, at + 34);
        components = u16(b, at + 38);
        long width = xsiz - xo;
        long height = ysiz - yo;
        if (width != format.columns() || height != format.rows() || components != format.samplesPerPixel()) {
            throw fail(at, "stream holds " + height + "x" + width + "x" + components + " but the header says "
                    + format.rows() + "x" + format.columns() + "x" + format.samplesPerPixel());
        }
        if (length != 38 + 3 * components) {
            throw fail(at, "SIZ length " + length + " disagrees with " + components + " components");
        }
        if (xt == 0 || yt == 0 || xto > xo || yto > yo || xto + xt <= xo || yto + yt <= yo) {
            throw fail(at, "tile grid " + xt + "x" + yt + " at " + xto + "," + yto + " does not cover the image origin");
        }
        long tiles = ((xsiz - xto + xt - 1) / xt) * ((ysiz - yto + yt - 1) / yt);
        if (tiles > 65535) {
            throw fail(at, tiles + " tiles, more than a tile-part can index");
        }
        for (int c = 0; c < components; c++) {
            int p = at + 40 + 3 * c;
            int depth = (b[p] & 0x7F) + 1;
            if (depth > MAX_PRECISION || depth > format.bitsAllocated()) {
                throw fail(p, "component " + c + " has " + depth + " bits, more than "
                        + Math.min(MAX_PRECISION, format.bitsAllocated()) + " (BitsAllocated " + format.bitsAllocated() + ")");
            }
            if ((b[p + 1] & 0xFF) != 1 || (b[p + 2] & 0xFF) != 1) {
                throw fail(p, "component " + c + " is subsampled, which a DICOM frame cannot describe");
            }
        }
        return (int) tiles;
    }

    /** Tile-part header markers from {@code at} up to SOD; returns the offset of SOD. */
    private int readTilePartHeader(int at, int end) throws CodecException {
        while (true) {
            if (at + 2 > end) {
                throw fail(at, "tile-part ends without an SOD marker");
            }
            int marker = marker(at);
            if (marker == SOD) {
                return at;
            }
            int length = segmentLength(at, end);
            switch (marker) {
                case COD -> readCod(at, length, false);
                case COC -> readCoc(at, length);
                case QCD -> readQuantization(at, length, 0);
                case QCC -> readQuantization(at, length, componentIndexBytes());
                case RGN, POC, PPT, PLT, COM -> { }
                default -> throw fail(at, "unexpected marker " + hex(marker) + " in a tile-part header");
            }
            at += 2 + length;
        }
    }

    /** Bit stuffing keeps FF90–FFFF out of packet headers and bodies; SOP and EPH are the only markers there. */
    private void scanData(int from, int end) throws CodecException {
        for (int i = from; i < end - 1; i++) {
            if (b[i] == (byte) 0xFF) {
                int next = b[i + 1] & 0xFF;
                if (next >= 0x90 && next != 0x91 && next != 0x92) {
                    throw fail(i, "marker code FF" + Integer.toHexString(next).toUpperCase()
                            + " inside tile-part data: the stream is corrupt");
                }
            }
        }
    }

    private void readCod(int at, int length, boolean main) throws CodecException {
        int style = b[at + 4] & 0xFF;
        if ((style & ~0x07) != 0 || length < 12) {
            throw fail(at, "COD style " + hex(style) + ", length " + length);
        }
        int progression = b[at + 5] & 0xFF;
        int layers = u16(b, at + 6);
        int mct = b[at + 8] & 0xFF;
        if (progression > 4 || layers == 0 || mct > 1 || (mct == 1 && components < 3)) {
            throw fail(at, "COD progression order " + progression + ", " + layers + " layers, colour transform "
                    + mct + " for " + components + " components");
        }
        int nl = readCodingStyle(at + 9, at, length, 12, (style & 1) != 0);
        if (main) {
            levels = nl;
        }
        minLayers = Math.min(minLayers, layers);
    }

    private void readCoc(int at, int length) throws CodecException {
        int n = componentIndexBytes();
        int c = n == 1 ? b[at + 4] & 0xFF : u16(b, at + 4);
        int style = b[at + 4 + n] & 0xFF;
        if (c >= components || (style & ~0x01) != 0 || length < 8 + n) {
            throw fail(at, "COC for component " + c + " of " + components + ", style " + hex(style));
        }
        readCodingStyle(at + 5 + n, at, length, 8 + n, (style & 1) != 0);
    }

    /** SPcod/SPcoc at {@code p}; returns the number of decomposition levels. */
    private int readCodingStyle(int p, int at, int length, int fixedLength, boolean precincts) throws CodecException {
        int nl = b[p] & 0xFF;
        int xcb = b[p + 1] & 0xFF;
        int ycb = b[p + 2] & 0xFF;
        int cbStyle = b[p + 3] & 0xFF;
        int transform = b[p + 4] & 0xFF;
        if (nl > MAX_LEVELS) {
            throw fail(p, nl + " decomposition levels, more than the standard's " + MAX_LEVELS);
        }
        if (xcb > 8 || ycb > 8 || xcb + ycb > 8) {
            throw fail(p + 1, "code-blocks of 2^" + (xcb + 2) + "x2^" + (ycb + 2) + " samples exceed the standard's limits");
        }
        if ((cbStyle & ~0x3F) != 0 || transform > 1) {
            throw fail(p + 3, "code-block style " + hex(cbStyle) + ", wavelet transform " + transform);
        }
        int expected = fixedLength + (precincts ? nl + 1 : 0);
        if (length != expected) {
            throw fail(at, "coding style segment of " + length + " bytes, " + expected + " expected");
        }
        if (precincts) {
            for (int r = 1; r <= nl; r++) {
                int size = b[p + 5 + r] & 0xFF;
                if ((size & 0x0F) == 0 || (size >> 4) == 0) {
                    throw fail(p + 5 + r, "precinct size 2^0 at resolution " + r);
                }
            }
        }
        return nl;
    }

    /** QCD ({@code indexBytes} 0) or QCC; returns the number of subband entries, -1 for derived quantisation. */
    private int readQuantization(int at, int length, int indexBytes) throws CodecException {
        if (length < 4 + indexBytes) {
            throw fail(at, "quantisation segment of " + length + " bytes");
        }
        if (indexBytes > 0) {
            int c = indexBytes == 1 ? b[at + 4] & 0xFF : u16(b, at + 4);
            if (c >= components) {
                throw fail(at, "QCC for component " + c + " of " + components);
            }
        }
        int style = b[at + 4 + indexBytes] & 0x1F;
        int payload = length - 3 - indexBytes;
        int bands = switch (style) {
            case 0 -> payload;
            case 1 -> payload == 2 ? -1 : -2;
            case 2 -> payload % 2 == 0 ? payload / 2 : -2;
            default -> -2;
        };
        if (bands == -2 || (bands >= 0 && ((bands - 1) % 3 != 0 || (bands - 1) / 3 > MAX_LEVELS))) {
            throw fail(at, "quantisation style " + style + " with " + payload + " bytes of step sizes");
        }
        return bands;
    }

    private int componentIndexBytes() {
        return components < 257 ? 1 : 2;
    }

    private int marker(int at) throws CodecException {
        if (at + 2 > eoc || (b[at] & 0xFF) != 0xFF) {
            throw fail(at, "expected a marker");
        }
        return u16(b, at);
    }

    /** Length field of the marker segment at {@code at}, checked to end by {@code end}. */
    private int segmentLength(int at, int end) throws CodecException {
        if (at + 4 > end) {
            throw fail(at, "marker segment " + hex(u16(b, at)) + " is cut off");
        }
        int length = u16(b, at + 2);
        if (length < 2 || at + 2L + length > end) {
            throw fail(at, "marker segment " + hex(u16(b, at)) + " of " + length + " bytes does not fit the "
                    + (end - at - 2) + " bytes left");
        }
        return length;
    }

    private static CodecException fail(long at, String message) {
        return new CodecException(CODEC, at, message);
    }

    private static String hex(int v) {
        return String.format("%04X", v);
    }

    private static int u16(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
    }

    private static long u32(byte[] b, int at) {
        return ((long) (b[at] & 0xFF) << 24) | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }
}
