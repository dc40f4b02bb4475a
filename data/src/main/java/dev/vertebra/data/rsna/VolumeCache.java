package dev.vertebra.data.rsna;

import dev.vertebra.core.DType;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.core.io.Npy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A folder of prepared studies, so epochs need not decode DICOM again: per study {@code <uid>.npy} (int16 HU,
 * [slices, rows, cols]) and {@code <uid>.json}, a flat object of the metadata and per-slice targets:
 * <pre>
 * {"uid": "...", "labelled": 1, "shape": [S, R, C], "spacing_um": [x, y, z], "fractured": [7 × 0/1],
 *  "instance_numbers": [S], "visible": [S bit masks, bit v = C(v+1)], "boxed": [S × 0/1]}
 * </pre>
 * Spacing is kept in whole micrometres so the file holds integers only.
 *
 * <pre>{@code
 * VolumeCache.write(cacheDir, prepared);
 * PreparedStudy again = VolumeCache.read(cacheDir, prepared.uid());
 * }</pre>
 */
public final class VolumeCache {
    private static final Pattern MEMBER = Pattern.compile("\"([a-z_]+)\":\\s*(\"[^\"]*\"|\\[[-0-9, ]*]|-?[0-9]+)");

    private VolumeCache() {
    }

    /** True when the study is already in the cache. */
    public static boolean contains(Path dir, String uid) {
        return Files.exists(dir.resolve(uid + ".json")) && Files.exists(dir.resolve(uid + ".npy"));
    }

    /** Writes one study (the JSON last, so a complete pair marks a complete entry). */
    public static void write(Path dir, PreparedStudy p) throws IOException {
        Files.createDirectories(dir);
        Npy.write(dir.resolve(p.uid() + ".npy"), new HostArray(DType.INT16, new int[] {p.slices(), p.rows(), p.cols()},
                p.hu()));
        StringBuilder json = new StringBuilder("{");
        json.append("\"uid\": \"").append(p.uid()).append("\", ");
        json.append("\"labelled\": ").append(p.labelled() ? 1 : 0).append(", ");
        json.append("\"shape\": ").append(Arrays.toString(new int[] {p.slices(), p.rows(), p.cols()})).append(", ");
        long[] um = Arrays.stream(p.spacing()).mapToLong(v -> Math.round(v * 1000)).toArray();
        json.append("\"spacing_um\": ").append(Arrays.toString(um)).append(", ");
        json.append("\"fractured\": ").append(Arrays.toString(bits(p.fractured()))).append(", ");
        json.append("\"instance_numbers\": ").append(Arrays.toString(p.instanceNumbers())).append(", ");
        json.append("\"visible\": ").append(Arrays.toString(p.visible())).append(", ");
        json.append("\"boxed\": ").append(Arrays.toString(bits(p.boxed()))).append("}\n");
        Files.writeString(dir.resolve(p.uid() + ".json"), json, StandardCharsets.US_ASCII);
    }

    /** Reads one study back. */
    public static PreparedStudy read(Path dir, String uid) throws IOException {
        Path jsonFile = dir.resolve(uid + ".json");
        Map<String, String> m = new LinkedHashMap<>();
        Matcher matcher = MEMBER.matcher(Files.readString(jsonFile, StandardCharsets.US_ASCII));
        while (matcher.find()) {
            m.put(matcher.group(1), matcher.group(2));
        }
        for (String key : new String[] {"uid", "labelled", "shape", "spacing_um", "fractured", "instance_numbers",
                "visible", "boxed"}) {
            if (!m.containsKey(key)) {
                throw new IOException(jsonFile + ": member \"" + key + "\" is missing");
            }
        }
        int[] shape = ints(m.get("shape"));
        HostArray hu = Npy.read(dir.resolve(uid + ".npy"));
        if (hu.dtype() != DType.INT16 || !Arrays.equals(hu.shape(), shape)) {
            throw new IOException(dir.resolve(uid + ".npy") + ": " + hu + " does not match shape "
                    + Arrays.toString(shape) + " in " + jsonFile);
        }
        double[] spacing = Arrays.stream(ints(m.get("spacing_um"))).mapToDouble(v -> v / 1000.0).toArray();
        try {
            return new PreparedStudy(uid, shape[0], shape[1], shape[2], (short[]) hu.data(), spacing,
                    ints(m.get("instance_numbers")), ints(m.get("visible")), flags(m.get("boxed")),
                    flags(m.get("fractured")), m.get("labelled").equals("1"));
        } catch (IllegalArgumentException e) {
            throw new IOException(jsonFile + ": " + e.getMessage(), e);
        }
    }

    private static int[] bits(boolean[] flags) {
        int[] out = new int[flags.length];
        for (int i = 0; i < flags.length; i++) {
            out[i] = flags[i] ? 1 : 0;
        }
        return out;
    }

    private static int[] ints(String array) {
        String body = array.substring(1, array.length() - 1).strip();
        return body.isEmpty() ? new int[0] : Arrays.stream(body.split(",")).map(String::strip)
                .mapToInt(Integer::parseInt).toArray();
    }

    private static boolean[] flags(String array) {
        int[] v = ints(array);
        boolean[] out = new boolean[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] != 0;
        }
        return out;
    }
}
