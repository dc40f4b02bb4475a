package dev.vertebra.core.golden;

import dev.vertebra.core.Device;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.core.io.Npy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One committed PyTorch golden case (resources/golden/&lt;case&gt;/): its case.json read with plain string handling
 * (so the expectations do not depend on the library's own JSON reader) and its .npy files.
 *
 * @param name  the case folder
 * @param op    the op the generator ran
 * @param json  case.json's text
 * @param roles file name (without .npy) → role
 * @param dir   the case folder on disk
 */
record GoldenCase(String name, String op, String json, Map<String, String> roles, Path dir) {

    private static final Pattern CASE = Pattern.compile("\"case\":\\s*\"([^\"]+)\"");
    private static final Pattern FILE = Pattern.compile(
            "\"name\":\\s*\"([^\"]+)\",\\s*\"file\":\\s*\"[^\"]+\",\\s*\"role\":\\s*\"([^\"]+)\"");

    /** Every case index.json lists, in its order. */
    static List<String> names() {
        Matcher m = CASE.matcher(read(resource("index.json")));
        List<String> names = new ArrayList<>();
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    static GoldenCase load(String name) {
        Path dir = resource(name);
        String json = read(dir.resolve("case.json"));
        Map<String, String> roles = new LinkedHashMap<>();
        Matcher m = FILE.matcher(json);
        while (m.find()) {
            roles.put(m.group(1), m.group(2));
        }
        if (roles.isEmpty()) {
            throw new IllegalStateException("no files listed in " + name + "/case.json");
        }
        return new GoldenCase(name, string(json, "op"), json, roles, dir);
    }

    /** The array stored in {@code <file>.npy}. */
    HostArray array(String file) {
        try {
            return Npy.read(dir.resolve(file + ".npy"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The array as a tensor on {@code device}, as a gradient-requiring leaf when asked. */
    Tensor tensor(String file, Device device, boolean requiresGrad) {
        Tensor t = Tensor.fromHost(array(file), device);
        return requiresGrad ? t.requiresGrad(true) : t;
    }

    boolean has(String file) {
        return roles.containsKey(file);
    }

    /** A numeric parameter, e.g. {@code "eps": 1e-05}. */
    double number(String key) {
        return Double.parseDouble(raw(key));
    }

    /** An integer-list parameter, e.g. {@code "stride": [2, 2]}. */
    int[] ints(String key) {
        String v = raw(key).replaceAll("[\\[\\]\\s]", "");
        return v.isEmpty() ? new int[0] : Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    boolean flag(String key) {
        return Boolean.parseBoolean(raw(key));
    }

    private String raw(String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":\\s*(\\[[^\\]]*\\]|[^,}\\s]+)").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException(name + "/case.json has no parameter '" + key + "'");
        }
        return m.group(1);
    }

    private static String string(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":\\s*\"([^\"]+)\"").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("case.json has no '" + key + "'");
        }
        return m.group(1);
    }

    private static Path resource(String relative) {
        URL url = GoldenCase.class.getResource("/golden/" + relative);
        if (url == null) {
            throw new IllegalStateException("missing golden resource golden/" + relative);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
