package dev.vertebra.data.codec;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One case of the committed codec fixtures (see data/src/test/scripts/make_codec_fixtures.py): a codestream made by
 * dcmtk or GDCM and the pixels their own decoders produced from it.
 */
record CodecFixture(String name, String transferSyntax, FrameFormat format, int tolerance) {

    static List<CodecFixture> all() {
        List<CodecFixture> cases = new ArrayList<>();
        String manifest = new String(resource("manifest.tsv"), StandardCharsets.UTF_8);
        for (String line : manifest.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t");
            var format = new FrameFormat(Integer.parseInt(f[2]), Integer.parseInt(f[3]), Integer.parseInt(f[4]),
                    Integer.parseInt(f[5]), Integer.parseInt(f[6]), f[7].equals("1"), Integer.parseInt(f[8]));
            cases.add(new CodecFixture(f[0], f[1], format, Integer.parseInt(f[9])));
        }
        return cases;
    }

    static List<CodecFixture> withSyntax(String... syntaxes) {
        return all().stream().filter(c -> List.of(syntaxes).contains(c.transferSyntax())).toList();
    }

    static CodecFixture named(String name) {
        return all().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    byte[] codestream() {
        return resource(name + ".bin");
    }

    /** Expected stored values, pixel-interleaved. */
    int[] expected() {
        ByteBuffer raw = ByteBuffer.wrap(resource(name + ".raw")).order(ByteOrder.LITTLE_ENDIAN);
        int[] values = new int[format.samples()];
        for (int i = 0; i < values.length; i++) {
            values[i] = format.bitsAllocated() == 32 ? raw.getInt() : Short.toUnsignedInt(raw.getShort());
        }
        return values;
    }

    @Override
    public String toString() {
        return name;
    }

    static byte[] resource(String file) {
        try (InputStream in = CodecFixture.class.getResourceAsStream("/codec/" + file)) {
            if (in == null) {
                throw new IllegalStateException("missing fixture " + file);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
