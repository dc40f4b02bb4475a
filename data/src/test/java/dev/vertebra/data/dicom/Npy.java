package dev.vertebra.data.dicom;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/** Reads the gzipped little-endian .npy files the golden generator writes (integer and float dtypes). */
record Npy(int[] shape, double[] values) {
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([<|])([iuf])(\\d)'");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    static Npy read(Path gz) throws IOException {
        try (InputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(gz)))) {
            byte[] all = in.readAllBytes();
            ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            if (all[0] != (byte) 0x93 || all[1] != 'N') {
                throw new IOException(gz + ": not .npy");
            }
            int major = all[6];
            int headerLength = major == 1 ? Short.toUnsignedInt(b.getShort(8)) : b.getInt(8);
            int headerStart = major == 1 ? 10 : 12;
            String header = new String(all, headerStart, headerLength, StandardCharsets.ISO_8859_1);
            Matcher d = DESCR.matcher(header);
            Matcher s = SHAPE.matcher(header);
            if (!d.find() || !s.find() || header.contains("'fortran_order': True")) {
                throw new IOException(gz + ": unsupported header " + header);
            }
            int[] shape = Arrays.stream(s.group(1).split(",")).map(String::strip).filter(x -> !x.isEmpty())
                    .mapToInt(Integer::parseInt).toArray();
            char kind = d.group(2).charAt(0);
            int size = Integer.parseInt(d.group(3));
            int count = Arrays.stream(shape).reduce(1, (x, y) -> x * y);
            double[] values = new double[count];
            b.position(headerStart + headerLength);
            for (int i = 0; i < count; i++) {
                values[i] = switch (kind) {
                    case 'f' -> size == 4 ? b.getFloat() : b.getDouble();
                    case 'i' -> switch (size) {
                        case 1 -> b.get();
                        case 2 -> b.getShort();
                        case 4 -> b.getInt();
                        default -> b.getLong();
                    };
                    default -> switch (size) {
                        case 1 -> Byte.toUnsignedInt(b.get());
                        case 2 -> Short.toUnsignedInt(b.getShort());
                        case 4 -> Integer.toUnsignedLong(b.getInt());
                        default -> b.getLong();
                    };
                };
            }
            return new Npy(shape, values);
        }
    }
}
