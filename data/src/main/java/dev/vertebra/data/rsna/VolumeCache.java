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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A folder of prepared studies, so epochs need not decode DICOM again: per study {@code <uid>.npy} (int16 HU,
 * [slices, rows, cols]) and {@code <uid>.json}, a flat object of the metadata and per-slice targets:
 * <pre>
 * {"uid": "...", "labelled": 1, "shape": [S, R, C], "spacing_mm": [x, y, z], "fractured": [7 × 0/1],
 *  "instance_numbers": [S], "visible": [S bit masks, bit v = C(v+1)], "boxed": [S × 0/1]}
 * </pre>
 * Spacing is written in full double precision, so that a study read back is resampled exactly as the decoded one
 * would be. The folder's {@value #SETTINGS} records how its studies were made ({@link Settings}); a reader
 * compares it with what it would decode itself before mixing cached and decoded studies.
 *
 * <pre>{@code
 * VolumeCache.Settings settings = new VolumeCache.Settings(20, List.of());   // native grid
 * VolumeCache.create(cacheDir, settings);
 * VolumeCache.write(cacheDir, settings.load(study));
 * PreparedStudy again = VolumeCache.read(cacheDir, study.uid());
 * }</pre>
 */
public final class VolumeCache {
    /** The file in a cache folder that holds its {@link Settings}. */
    public static final String SETTINGS = "settings.json";
    private static final Pattern MEMBER =
            Pattern.compile("\"([a-z_]+)\":\\s*(\"[^\"]*\"|\\[[-+.0-9eE, ]*]|-?[0-9]+)");

    /**
     * How a cache's studies were made.
     *
     * @param minVisibleVoxels voxels of a vertebra's label a slice must hold to show it, as in
     *                         {@link RsnaDataset#load(RsnaDataset.Study, int)}
     * @param size             slices, rows, columns every volume was resized to; empty: each study's own grid
     */
    public record Settings(int minVisibleVoxels, List<Integer> size) {
        public Settings {
            size = List.copyOf(size);
            if (minVisibleVoxels < 1 || !(size.isEmpty() || size.size() == 3 && size.stream().allMatch(n -> n > 0))) {
                throw new IllegalArgumentException("cache settings: min visible voxels " + minVisibleVoxels
                        + ", size " + size);
            }
        }

        /** Decodes a study as the cache holds it. */
        public PreparedStudy load(RsnaDataset.Study study) throws IOException {
            PreparedStudy p = RsnaDataset.load(study, minVisibleVoxels);
            return size.isEmpty() ? p : p.resized(size.get(0), size.get(1), size.get(2));
        }

        @Override
        public String toString() {
            return "min visible voxels " + minVisibleVoxels + ", " + (size.isEmpty() ? "native grid"
                    : "resized to " + size.get(0) + "×" + size.get(1) + "×" + size.get(2));
        }
    }

    private VolumeCache() {
    }

    /** The settings of the cache in {@code dir}; empty when it has none (not a cache, or not written yet). */
    public static Optional<Settings> settings(Path dir) throws IOException {
        Path file = dir.resolve(SETTINGS);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Map<String, String> m = members(file);
        if (!m.containsKey("min_visible_voxels") || !m.containsKey("size")) {
            throw new IOException(file + ": needs \"min_visible_voxels\" and \"size\"");
        }
        try {
            return Optional.of(new Settings(Integer.parseInt(m.get("min_visible_voxels")),
                    Arrays.stream(ints(m.get("size"))).boxed().toList()));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Makes {@code dir} a cache with these settings (written to {@value #SETTINGS}), or checks that the cache
     * already there has them: studies made two ways must not end up in one cache.
     */
    public static void create(Path dir, Settings settings) throws IOException {
        Optional<Settings> found = settings(dir);
        if (found.isPresent()) {
            if (!found.get().equals(settings)) {
                throw new IOException(dir + " is a cache of studies with " + found.get() + ", not " + settings
                        + ": use another folder");
            }
            return;
        }
        Files.createDirectories(dir);
        try (var files = Files.list(dir)) {
            if (files.anyMatch(f -> f.toString().endsWith(".npy") || f.toString().endsWith(".json"))) {
                throw new IOException(dir + " holds studies but no " + SETTINGS + ", so how they were made is "
                        + "unknown: use another folder");
            }
        }
        Files.writeString(dir.resolve(SETTINGS), "{\"min_visible_voxels\": " + settings.minVisibleVoxels()
                + ", \"size\": " + settings.size() + "}\n", StandardCharsets.US_ASCII);
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
        json.append("\"spacing_mm\": ").append(Arrays.toString(p.spacing())).append(", ");
        json.append("\"fractured\": ").append(Arrays.toString(bits(p.fractured()))).append(", ");
        json.append("\"instance_numbers\": ").append(Arrays.toString(p.instanceNumbers())).append(", ");
        json.append("\"visible\": ").append(Arrays.toString(p.visible())).append(", ");
        json.append("\"boxed\": ").append(Arrays.toString(bits(p.boxed()))).append("}\n");
        Files.writeString(dir.resolve(p.uid() + ".json"), json, StandardCharsets.US_ASCII);
    }

    /** Reads one study back. */
    public static PreparedStudy read(Path dir, String uid) throws IOException {
        Path jsonFile = dir.resolve(uid + ".json");
        Map<String, String> m = members(jsonFile);
        for (String key : new String[] {"uid", "labelled", "shape", "spacing_mm", "fractured", "instance_numbers",
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
        try {
            return new PreparedStudy(uid, shape[0], shape[1], shape[2], (short[]) hu.data(),
                    doubles(m.get("spacing_mm")), ints(m.get("instance_numbers")), ints(m.get("visible")),
                    flags(m.get("boxed")), flags(m.get("fractured")), m.get("labelled").equals("1"));
        } catch (IllegalArgumentException e) {
            throw new IOException(jsonFile + ": " + e.getMessage(), e);
        }
    }

    /** The members of a flat JSON object, values as written. */
    private static Map<String, String> members(Path file) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        Matcher matcher = MEMBER.matcher(Files.readString(file, StandardCharsets.US_ASCII));
        while (matcher.find()) {
            m.put(matcher.group(1), matcher.group(2));
        }
        return m;
    }

    private static int[] bits(boolean[] flags) {
        int[] out = new int[flags.length];
        for (int i = 0; i < flags.length; i++) {
            out[i] = flags[i] ? 1 : 0;
        }
        return out;
    }

    private static int[] ints(String array) {
        return elements(array).mapToInt(Integer::parseInt).toArray();
    }

    private static double[] doubles(String array) {
        return elements(array).mapToDouble(Double::parseDouble).toArray();
    }

    private static Stream<String> elements(String array) {
        String body = array.substring(1, array.length() - 1).strip();
        return body.isEmpty() ? Stream.empty() : Arrays.stream(body.split(",")).map(String::strip);
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
