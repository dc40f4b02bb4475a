package dev.vertebra.data.dicom;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** One golden record written by data/src/test/python/gen_dicom_golden.py from pydicom's view of a test file. */
record Golden(String name, Path file, Map<String, String> header, List<Line> elements) {

    /** A top-level element as pydicom read it. */
    record Line(int tag, String vr, String kind, List<String> values) {
    }

    static Path resources() {
        try {
            return Path.of(Golden.class.getResource("files").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path file(String name) {
        return resources().resolve("files").resolve(name);
    }

    static Stream<Golden> all() throws IOException {
        try (Stream<Path> list = Files.list(resources().resolve("golden"))) {
            List<Golden> out = new ArrayList<>();
            for (Path tsv : list.filter(p -> p.toString().endsWith(".tsv")).sorted().toList()) {
                out.add(load(tsv));
            }
            return out.stream();
        }
    }

    static Golden load(Path tsv) throws IOException {
        String stem = tsv.getFileName().toString().replace(".tsv", "");
        Map<String, String> header = new LinkedHashMap<>();
        List<Line> lines = new ArrayList<>();
        for (String line : Files.readAllLines(tsv)) {
            String[] f = line.split("\t", -1);
            if (line.startsWith("#")) {
                header.put(f[0].substring(1), f[1]);
            } else {
                List<String> values = f[3].isEmpty() ? List.of() : Arrays.stream(f[3].split(",", -1))
                        .map(v -> URLDecoder.decode(v, StandardCharsets.UTF_8)).toList();
                lines.add(new Line((int) Long.parseLong(f[0], 16), f[1], f[2], values));
            }
        }
        return new Golden(stem, file(stem + ".dcm"), header, lines);
    }

    Path array(String suffix) {
        return resources().resolve("golden").resolve(name + "." + suffix + ".npy.gz");
    }

    boolean pixelsDecodedByPydicom() {
        return "ok".equals(header.get("pixels"));
    }

    boolean isNative() {
        return List.of(DicomReader.IMPLICIT_VR_LITTLE_ENDIAN, DicomReader.EXPLICIT_VR_LITTLE_ENDIAN,
                DicomReader.DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, DicomReader.EXPLICIT_VR_BIG_ENDIAN)
                .contains(header.get("transfer_syntax"));
    }

    @Override
    public String toString() {
        return name;
    }
}
