package dev.vertebra.core.io;

import dev.vertebra.core.DType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The golden files under resources/io and the values make_io_golden.py says they hold (expected.txt), parsed
 * here with plain string handling so the expectations do not depend on the code under test.
 */
final class Golden {

    private static final Map<String, HostArray> EXPECTED = load();

    private Golden() {
    }

    static Path file(String name) {
        URL url = Golden.class.getResource("/io/" + name);
        if (url == null) {
            throw new IllegalStateException("missing golden file io/" + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] bytes(String name) {
        try {
            return Files.readAllBytes(file(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Expected array for {@code file} or {@code file:tensor}. */
    static HostArray expected(String key) {
        HostArray array = EXPECTED.get(key);
        if (array == null) {
            throw new IllegalStateException("no expected values for " + key);
        }
        return array;
    }

    /** Keys of expected.txt that start with the prefix, in file order. */
    static List<String> keysStartingWith(String prefix) {
        return EXPECTED.keySet().stream().filter(k -> k.startsWith(prefix)).toList();
    }

    private static Map<String, HostArray> load() {
        Map<String, HostArray> expected = new LinkedHashMap<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file("expected.txt"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.split("\t", -1);
            DType dtype = Arrays.stream(DType.values()).filter(d -> d.toString().equals(fields[1])).findFirst()
                    .orElseThrow();
            int[] shape = fields[2].isEmpty() ? new int[0]
                    : Arrays.stream(fields[2].split(",")).mapToInt(Integer::parseInt).toArray();
            String[] values = fields[3].isEmpty() ? new String[0] : fields[3].split(" ");
            expected.put(fields[0], new HostArray(dtype, shape, values(dtype, values)));
        }
        return expected;
    }

    private static Object values(DType dtype, String[] text) {
        int n = text.length;
        return switch (dtype) {
            case FLOAT32 -> {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (float) Double.parseDouble(text[i]);
                }
                yield a;
            }
            case FLOAT64 -> Arrays.stream(text).mapToDouble(Double::parseDouble).toArray();
            case INT64 -> Arrays.stream(text).mapToLong(Long::parseLong).toArray();
            case INT32 -> Arrays.stream(text).mapToInt(Integer::parseInt).toArray();
            case INT16, FLOAT16, BFLOAT16 -> {
                short[] a = new short[n];
                for (int i = 0; i < n; i++) {
                    // 16-bit floats are listed as unsigned bit patterns; int16 as signed values.
                    a[i] = (short) Integer.parseInt(text[i]);
                }
                yield a;
            }
            case UINT8 -> {
                byte[] a = new byte[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (byte) Integer.parseInt(text[i]);
                }
                yield a;
            }
        };
    }
}
