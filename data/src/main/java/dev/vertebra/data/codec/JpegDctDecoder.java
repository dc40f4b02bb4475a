package dev.vertebra.data.codec;

/**
 * Decoder for sequential DCT JPEG with Huffman coding (ITU T.81 processes 1, 2 and 4; DICOM transfer syntaxes
 * 1.2.840.10008.1.2.4.50 baseline and .51 extended): 8- and 12-bit sample precision, one to four components with
 * integral sampling factors, interleaved and non-interleaved scans, restart intervals.
 *
 * <p>The inverse DCT is the separable float transform of T.81 A.3.3, rounded to the nearest integer after the level
 * shift and clamped to [0, 2^P − 1]; results agree with libjpeg's integer IDCT within one grey level. Colour comes
 * back as stored, without colour conversion (YCbCr stays YCbCr, as the DICOM PhotometricInterpretation says).
 * Subsampled components are upsampled as libjpeg-based decoders (dcmtk, GDCM, the JDK) do by default: triangular
 * interpolation for 2×1 and 2×2, replication for other ratios. Progressive, lossless (use the lossless syntaxes),
 * hierarchical and arithmetic-coded frames are refused with a {@link CodecException}.
 *
 * <p>Every marker segment length and table reference is checked before use; the only allocations are the
 * component planes, whose size follows from the frame header once it has been checked against the DICOM header.
 */
public final class JpegDctDecoder implements FrameDecoder {

    static final String CODEC = "JPEG DCT";

    /** ZIGZAG[k] = natural (row-major) index of the k-th coefficient in zig-zag order (T.81 Figure A.6). */
    static final int[] ZIGZAG = new int[64];

    /** IDCT_BASIS[x * 8 + u] = C(u)/2 · cos((2x + 1)uπ/16), C(0) = 1/√2, else 1 (T.81 A.3.3). */
    private static final float[] IDCT_BASIS = new float[64];

    static {
        int k = 0;
        for (int sum = 0; sum <= 14; sum++) {
            // odd diagonals run down-left (row increasing), even ones up-right
            for (int i = 0; i <= sum; i++) {
                int row = (sum % 2 == 1) ? i : sum - i;
                int col = sum - row;
                if (row < 8 && col < 8) {
                    ZIGZAG[k++] = row * 8 + col;
                }
            }
        }
        for (int x = 0; x < 8; x++) {
            for (int u = 0; u < 8; u++) {
                double c = u == 0 ? Math.sqrt(0.5) : 1.0;
                IDCT_BASIS[x * 8 + u] = (float) (c / 2 * Math.cos((2 * x + 1) * u * Math.PI / 16));
            }
        }
    }

    /** A decoder; it holds no state, so one instance serves every thread. */
    public JpegDctDecoder() {
    }

    @Override
    public void decode(byte[] frame, FrameFormat format, int[] out, int outOffset) throws CodecException {
        if (outOffset < 0 || out.length - (long) outOffset < format.samples()) {
            throw new IllegalArgumentException("output has no room for " + format.samples() + " samples at " + outOffset);
        }
        new Decoding(frame, format).run(out, outOffset);
    }

    /** The state of decoding one frame. */
    private static final class Decoding {

        private final byte[] data;
        private final FrameFormat format;
        private final SegmentReader in;

        private final int[][] quant = new int[4][];
        private final DctHuffmanTable[] dcTables = new DctHuffmanTable[4];
        private final DctHuffmanTable[] acTables = new DctHuffmanTable[4];
        private int restartInterval;

        // frame header
        private boolean frameSeen;
        private int precision;
        private int rows;
        private int cols;
        private int[] ids;
        private int[] h;
        private int[] v;
        private int[] tq;
        private int hmax;
        private int vmax;
        private int mcusX;
        private int mcusY;
        /** Decoded samples of each component, blocks padded to whole MCUs; row length planeWidth[c]. */
        private int[][] planes;
        private int[] planeWidth;
        /** Real size of each component (T.81 A.1.1): ceil(X · Hi / Hmax) × ceil(Y · Vi / Vmax). */
        private int[] compWidth;
        private int[] compHeight;
        private boolean[] decoded;

        // entropy-coded data
        private int pos;
        private long bits;
        private int count;
        private int zeroBitsFed;

        private final float[] coef = new float[64];
        private final float[] tmp = new float[64];

        Decoding(byte[] data, FrameFormat format) {
            this.data = data;
            this.format = format;
            this.in = new SegmentReader(data, CODEC);
        }

        void run(int[] out, int outOffset) throws CodecException {
            if (in.u8() != 0xFF || in.u8() != 0xD8) {
                throw new CodecException(CODEC, 0, "no SOI marker");
            }
            while (true) {
                int marker = in.nextMarker();
                long at = in.pos - 2;
                if (marker < 0 || marker == 0xD9) {
                    break;
                }
                switch (marker) {
                    case 0xC4 -> readHuffmanTables(at);
                    case 0xDB -> readQuantTables(at);
                    case 0xDD -> {
                        if (in.segmentLength() != 4) {
                            throw new CodecException(CODEC, at, "DRI segment length is not 4");
                        }
                        restartInterval = in.u16();
                    }
                    case 0xC0, 0xC1 -> readFrameHeader(at);
                    case 0xC2, 0xC6, 0xCA, 0xCE -> throw new CodecException(CODEC, at,
                            "progressive DCT JPEG (process 10/12, SOF" + (marker - 0xC0) + ") is not supported");
                    case 0xC3, 0xC5, 0xC7, 0xC9, 0xCB, 0xCD, 0xCF -> throw new CodecException(CODEC, at, "frame type SOF"
                            + (marker - 0xC0) + " is not sequential DCT with Huffman coding");
                    case 0xDA -> readScan(at);
                    case 0xD8 -> throw new CodecException(CODEC, at, "second SOI marker");
                    case 0xDC -> throw new CodecException(CODEC, at, "DNL marker (height defined after the scan) is not supported");
                    case 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0x01 -> {
                        // stray restart marker or TEM: no segment follows
                    }
                    default -> in.skip(in.segmentLength() - 2);
                }
            }
            if (!frameSeen) {
                throw new CodecException(CODEC, in.pos, "no frame header");
            }
            for (int c = 0; c < decoded.length; c++) {
                if (!decoded[c]) {
                    throw new CodecException(CODEC, in.pos, "stream ends before component " + ids[c] + " was decoded");
                }
            }
            writeOutput(out, outOffset);
        }

        private void readQuantTables(long at) throws CodecException {
            int length = in.segmentLength();
            int end = in.pos - 2 + length;
            while (in.pos < end) {
                int pqtq = in.u8();
                int pq = pqtq >> 4;
                int t = pqtq & 15;
                if (pq > 1 || t > 3) {
                    throw new CodecException(CODEC, in.pos - 1, "DQT names precision " + pq + " and table " + t);
                }
                if (end - in.pos < 64 * (pq + 1)) {
                    throw new CodecException(CODEC, at, "DQT segment is shorter than its tables");
                }
                int[] table = new int[64];
                for (int k = 0; k < 64; k++) {
                    table[k] = pq == 0 ? in.u8() : in.u16();
                }
                quant[t] = table;
            }
        }

        private void readHuffmanTables(long at) throws CodecException {
            int length = in.segmentLength();
            int end = in.pos - 2 + length;
            while (in.pos < end) {
                long tableAt = in.pos;
                int tcth = in.u8();
                int tc = tcth >> 4;
                int th = tcth & 15;
                if (tc > 1 || th > 3) {
                    throw new CodecException(CODEC, tableAt, "DHT names class " + tc + " and table " + th);
                }
                if (end - in.pos < 16) {
                    throw new CodecException(CODEC, at, "DHT segment is shorter than its tables");
                }
                int[] counts = new int[17];
                int total = 0;
                for (int i = 1; i <= 16; i++) {
                    counts[i] = in.u8();
                    total += counts[i];
                }
                if (total > 256 || end - in.pos < total) {
                    throw new CodecException(CODEC, tableAt, "DHT table holds " + total + " symbols, more than fit");
                }
                int[] symbols = new int[total];
                for (int i = 0; i < total; i++) {
                    symbols[i] = in.u8();
                }
                // DC symbols are difference categories, at most 15 (11 for 8-bit); AC symbols are RRRRSSSS bytes
                var table = new DctHuffmanTable(counts, symbols, tc == 0 ? 15 : 255, CODEC, tableAt);
                if (tc == 0) {
                    dcTables[th] = table;
                } else {
                    acTables[th] = table;
                }
            }
        }

        private void readFrameHeader(long at) throws CodecException {
            if (frameSeen) {
                throw new CodecException(CODEC, at, "second frame header");
            }
            int length = in.segmentLength();
            precision = in.u8();
            rows = in.u16();
            cols = in.u16();
            int n = in.u8();
            if (length != 8 + 3 * n) {
                throw new CodecException(CODEC, at, "frame header length " + length + " does not fit " + n + " components");
            }
            if (precision != 8 && precision != 12) {
                throw new CodecException(CODEC, at, precision + "-bit DCT JPEG does not exist (8 or 12 bits)");
            }
            if (precision > format.bitsAllocated()) {
                throw new CodecException(CODEC, at, precision + "-bit samples do not fit BitsAllocated " + format.bitsAllocated());
            }
            if (rows == 0) {
                throw new CodecException(CODEC, at, "DNL marker (height defined after the scan) is not supported");
            }
            if (rows != format.rows() || cols != format.columns() || n != format.samplesPerPixel()) {
                throw new CodecException(CODEC, at, "stream holds " + rows + "x" + cols + "x" + n
                        + " but the header says " + format.rows() + "x" + format.columns() + "x" + format.samplesPerPixel());
            }
            if (n < 1 || n > 4) {
                throw new CodecException(CODEC, at, n + " components (1 to 4 allowed)");
            }
            ids = new int[n];
            h = new int[n];
            v = new int[n];
            tq = new int[n];
            for (int c = 0; c < n; c++) {
                ids[c] = in.u8();
                int hv = in.u8();
                h[c] = hv >> 4;
                v[c] = hv & 15;
                tq[c] = in.u8();
                if (h[c] < 1 || h[c] > 4 || v[c] < 1 || v[c] > 4 || tq[c] > 3) {
                    throw new CodecException(CODEC, at, "component " + ids[c] + " has sampling " + h[c] + "x" + v[c]
                            + " and quantisation table " + tq[c]);
                }
                for (int d = 0; d < c; d++) {
                    if (ids[d] == ids[c]) {
                        throw new CodecException(CODEC, at, "component identifier " + ids[c] + " appears twice");
                    }
                }
                hmax = Math.max(hmax, h[c]);
                vmax = Math.max(vmax, v[c]);
            }
            mcusX = ceilDiv(cols, 8 * hmax);
            mcusY = ceilDiv(rows, 8 * vmax);
            planes = new int[n][];
            planeWidth = new int[n];
            compWidth = new int[n];
            compHeight = new int[n];
            decoded = new boolean[n];
            for (int c = 0; c < n; c++) {
                if (hmax % h[c] != 0 || vmax % v[c] != 0) {
                    throw new CodecException(CODEC, at, "sampling factors " + h[c] + "x" + v[c] + " of component "
                            + ids[c] + " do not divide the largest " + hmax + "x" + vmax);
                }
                compWidth[c] = ceilDiv(cols * h[c], hmax);
                compHeight[c] = ceilDiv(rows * v[c], vmax);
                planeWidth[c] = mcusX * h[c] * 8;
                long size = (long) planeWidth[c] * mcusY * v[c] * 8;
                if (size > Integer.MAX_VALUE - 16) {
                    throw new CodecException(CODEC, at, "frame of " + rows + "x" + cols + " is too large");
                }
            }
            for (int c = 0; c < n; c++) {
                planes[c] = new int[planeWidth[c] * mcusY * v[c] * 8];
            }
            frameSeen = true;
        }

        private void readScan(long at) throws CodecException {
            if (!frameSeen) {
                throw new CodecException(CODEC, at, "scan before the frame header");
            }
            int length = in.segmentLength();
            int ns = in.u8();
            if (ns < 1 || ns > 4 || length != 6 + 2 * ns) {
                throw new CodecException(CODEC, at, "scan header of length " + length + " with " + ns + " components");
            }
            int[] comps = new int[ns];
            DctHuffmanTable[] dc = new DctHuffmanTable[ns];
            DctHuffmanTable[] ac = new DctHuffmanTable[ns];
            int[][] q = new int[ns][];
            int blocksPerMcu = 0;
            for (int i = 0; i < ns; i++) {
                int id = in.u8();
                int tables = in.u8();
                int c = -1;
                for (int k = 0; k < ids.length; k++) {
                    if (ids[k] == id) {
                        c = k;
                    }
                }
                if (c < 0) {
                    throw new CodecException(CODEC, at, "scan names component " + id + ", which the frame lacks");
                }
                for (int k = 0; k < i; k++) {
                    if (comps[k] == c) {
                        throw new CodecException(CODEC, at, "scan names component " + id + " twice");
                    }
                }
                if (decoded[c]) {
                    throw new CodecException(CODEC, at, "component " + id + " appears in a second scan");
                }
                comps[i] = c;
                int td = tables >> 4;
                int ta = tables & 15;
                if (td > 3 || ta > 3 || dcTables[td] == null || acTables[ta] == null) {
                    throw new CodecException(CODEC, at, "scan uses Huffman tables DC " + td + " / AC " + ta + ", not defined");
                }
                if (quant[tq[c]] == null) {
                    throw new CodecException(CODEC, at, "component " + id + " uses quantisation table " + tq[c] + ", not defined");
                }
                dc[i] = dcTables[td];
                ac[i] = acTables[ta];
                q[i] = quant[tq[c]].clone();
                blocksPerMcu += h[c] * v[c];
            }
            if (ns > 1 && blocksPerMcu > 10) {
                throw new CodecException(CODEC, at, "an MCU of " + blocksPerMcu + " blocks (at most 10)");
            }
            in.u8(); // Ss, Se, Ah/Al: fixed for sequential DCT (0, 63, 0/0); libjpeg too ignores other values
            in.u8();
            in.u8();
            pos = in.pos;
            bits = 0;
            count = 0;
            zeroBitsFed = 0;
            decodeScan(comps, dc, ac, q);
            for (int c : comps) {
                decoded[c] = true;
            }
            in.pos = pos;
        }

        private void decodeScan(int[] comps, DctHuffmanTable[] dc, DctHuffmanTable[] ac, int[][] q) throws CodecException {
            int ns = comps.length;
            int[] pred = new int[ns];
            int shift = 1 << (precision - 1);
            int maxValue = (1 << precision) - 1;
            int mcu = 0;
            if (ns == 1) {
                // non-interleaved: the component's own blocks, not padded to whole MCUs (T.81 A.2.2)
                int c = comps[0];
                int blocksX = ceilDiv(compWidth[c], 8);
                int blocksY = ceilDiv(compHeight[c], 8);
                for (int by = 0; by < blocksY; by++) {
                    for (int bx = 0; bx < blocksX; bx++, mcu++) {
                        if (restartInterval > 0 && mcu > 0 && mcu % restartInterval == 0) {
                            restart(pred);
                        }
                        decodeBlock(dc[0], ac[0], q[0], pred, 0);
                        idct(planes[c], by * 8 * planeWidth[c] + bx * 8, planeWidth[c], shift, maxValue);
                    }
                }
            } else {
                for (int my = 0; my < mcusY; my++) {
                    for (int mx = 0; mx < mcusX; mx++, mcu++) {
                        if (restartInterval > 0 && mcu > 0 && mcu % restartInterval == 0) {
                            restart(pred);
                        }
                        for (int i = 0; i < ns; i++) {
                            int c = comps[i];
                            for (int y = 0; y < v[c]; y++) {
                                for (int x = 0; x < h[c]; x++) {
                                    decodeBlock(dc[i], ac[i], q[i], pred, i);
                                    int row = (my * v[c] + y) * 8;
                                    int col = (mx * h[c] + x) * 8;
                                    idct(planes[c], row * planeWidth[c] + col, planeWidth[c], shift, maxValue);
                                }
                            }
                        }
                    }
                }
            }
            if (zeroBitsFed > count) {
                throw new CodecException(CODEC, pos, "scan data ends before the last block");
            }
        }

        /** Ends a restart interval: drops the padding bits, expects an RSTn marker, resets the DC predictions. */
        private void restart(int[] pred) throws CodecException {
            if (zeroBitsFed > count) {
                throw new CodecException(CODEC, pos, "restart interval ends before its last block");
            }
            bits = 0;
            count = 0;
            zeroBitsFed = 0;
            while (pos < data.length - 1 && !(data[pos] == (byte) 0xFF && data[pos + 1] != 0 && data[pos + 1] != (byte) 0xFF)) {
                pos++;
            }
            int marker = pos < data.length - 1 ? data[pos + 1] & 0xFF : -1;
            if (marker < 0xD0 || marker > 0xD7) {
                throw new CodecException(CODEC, pos, "expected a restart marker");
            }
            pos += 2;
            java.util.Arrays.fill(pred, 0);
        }

        /** Loads whole bytes into the bit buffer until it holds more than 56 bits; zeros once a marker is reached. */
        private void fill() {
            while (count <= 56) {
                int b;
                if (pos >= data.length) {
                    b = -1;
                } else {
                    b = data[pos] & 0xFF;
                    if (b == 0xFF) {
                        if (pos + 1 < data.length && data[pos + 1] == 0) {
                            pos += 2; // stuffed zero byte (T.81 F.1.2.3)
                        } else {
                            b = -1; // a marker: the entropy-coded segment ends here
                        }
                    } else {
                        pos++;
                    }
                }
                if (b < 0) {
                    b = 0;
                    zeroBitsFed += 8;
                }
                bits = (bits << 8) | b;
                count += 8;
            }
        }

        private int decodeSymbol(DctHuffmanTable table) throws CodecException {
            if (count < 32) {
                fill();
            }
            int entry = table.lookahead[(int) (bits >>> (count - DctHuffmanTable.LOOKAHEAD_BITS)) & ((1 << DctHuffmanTable.LOOKAHEAD_BITS) - 1)];
            if (entry == 0) {
                entry = table.decodeLong((int) (bits >>> (count - 16)) & 0xFFFF);
                if (entry < 0) {
                    throw new CodecException(CODEC, pos, "no Huffman code matches the data");
                }
            }
            count -= entry & 0xFF;
            return entry >>> 8;
        }

        /** RECEIVE and EXTEND of T.81 F.2.2.1: the signed value of {@code s} additional bits. */
        private int receiveExtend(int s) {
            if (s == 0) {
                return 0;
            }
            if (count < s) {
                fill();
            }
            int value = (int) (bits >>> (count - s)) & ((1 << s) - 1);
            count -= s;
            return value < (1 << (s - 1)) ? value - (1 << s) + 1 : value;
        }

        /** Decodes one block's coefficients into {@link #coef}, dequantised, natural order (T.81 F.2.2). */
        private void decodeBlock(DctHuffmanTable dc, DctHuffmanTable ac, int[] q, int[] pred, int i) throws CodecException {
            float[] coef = this.coef;
            java.util.Arrays.fill(coef, 0f);
            int t = decodeSymbol(dc);
            pred[i] += receiveExtend(t);
            coef[0] = (float) pred[i] * q[0];
            for (int k = 1; k < 64; k++) {
                int rs = decodeSymbol(ac);
                int r = rs >> 4;
                int s = rs & 15;
                if (s == 0) {
                    if (r != 15) {
                        break; // end of block
                    }
                    k += 15;
                    continue;
                }
                k += r;
                if (k > 63) {
                    throw new CodecException(CODEC, pos, "coefficient run goes past the end of the block");
                }
                coef[ZIGZAG[k]] = (float) receiveExtend(s) * q[k];
            }
            if (zeroBitsFed > count) {
                throw new CodecException(CODEC, pos, "scan data ends before the last block");
            }
        }

        /** Inverse DCT of {@link #coef} (T.81 A.3.3), level shift and clamp, into an 8×8 area of a plane. */
        private void idct(int[] plane, int start, int stride, int shift, int maxValue) {
            float[] coef = this.coef;
            float[] tmp = this.tmp;
            float[] basis = IDCT_BASIS;
            // columns: tmp[y][u] = sum over v of basis(y, v) · coef[v][u]
            for (int u = 0; u < 8; u++) {
                boolean acZero = true;
                for (int vv = 1; vv < 8; vv++) {
                    if (coef[vv * 8 + u] != 0f) {
                        acZero = false;
                        break;
                    }
                }
                if (acZero) {
                    float dcTerm = coef[u] * basis[0];
                    for (int y = 0; y < 8; y++) {
                        tmp[y * 8 + u] = dcTerm;
                    }
                    continue;
                }
                for (int y = 0; y < 8; y++) {
                    float sum = 0f;
                    for (int vv = 0; vv < 8; vv++) {
                        sum += basis[y * 8 + vv] * coef[vv * 8 + u];
                    }
                    tmp[y * 8 + u] = sum;
                }
            }
            // rows: f[y][x] = sum over u of basis(x, u) · tmp[y][u]
            for (int y = 0; y < 8; y++) {
                int rowAt = start + y * stride;
                for (int x = 0; x < 8; x++) {
                    float sum = 0f;
                    for (int u = 0; u < 8; u++) {
                        sum += basis[x * 8 + u] * tmp[y * 8 + u];
                    }
                    int value = Math.round(sum) + shift;
                    plane[rowAt + x] = value < 0 ? 0 : Math.min(value, maxValue);
                }
            }
        }

        /** Writes the components pixel-interleaved, upsampling subsampled ones. */
        private void writeOutput(int[] out, int outOffset) {
            int n = ids.length;
            for (int c = 0; c < n; c++) {
                int[] p = planes[c];
                int pw = planeWidth[c];
                int fh = hmax / h[c];
                int fv = vmax / v[c];
                int lastX = compWidth[c] - 1;
                int lastY = compHeight[c] - 1;
                for (int y = 0; y < rows; y++) {
                    int o = outOffset + y * cols * n + c;
                    if (fh == 1 && fv == 1) {
                        int rowAt = y * pw;
                        for (int x = 0; x < cols; x++, o += n) {
                            out[o] = p[rowAt + x];
                        }
                    } else if (fh == 2 && fv == 1) {
                        int rowAt = y * pw;
                        for (int x = 0; x < cols; x++, o += n) {
                            int i = x >> 1;
                            int near = p[rowAt + i];
                            if ((x & 1) == 0) {
                                out[o] = (3 * near + p[rowAt + Math.max(i - 1, 0)] + 1) >> 2;
                            } else {
                                out[o] = (3 * near + p[rowAt + Math.min(i + 1, lastX)] + 2) >> 2;
                            }
                        }
                    } else if (fh == 2 && fv == 2) {
                        int j = y >> 1;
                        int nearRow = j * pw;
                        int farRow = ((y & 1) == 0 ? Math.max(j - 1, 0) : Math.min(j + 1, lastY)) * pw;
                        for (int x = 0; x < cols; x++, o += n) {
                            int i = x >> 1;
                            int near = 3 * p[nearRow + i] + p[farRow + i];
                            if ((x & 1) == 0) {
                                int k = Math.max(i - 1, 0);
                                out[o] = (3 * near + 3 * p[nearRow + k] + p[farRow + k] + 8) >> 4;
                            } else {
                                int k = Math.min(i + 1, lastX);
                                out[o] = (3 * near + 3 * p[nearRow + k] + p[farRow + k] + 7) >> 4;
                            }
                        }
                    } else {
                        int rowAt = (y / fv) * pw;
                        for (int x = 0; x < cols; x++, o += n) {
                            out[o] = p[rowAt + x / fh];
                        }
                    }
                }
            }
        }

        private static int ceilDiv(int a, int b) {
            return (a + b - 1) / b;
        }
    }
}
