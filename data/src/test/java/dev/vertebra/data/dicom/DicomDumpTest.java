package dev.vertebra.data.dicom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The dump against dcmtk's dcmdump: same elements, nesting, VRs, lengths, VMs, keywords and readable values. */
class DicomDumpTest {
    private static final Pattern LINE = Pattern.compile("^( *)\\(([0-9a-f]{4},[0-9a-f]{4})\\) (\\S\\S) (.*?) +# +"
            + "(\\S+), (\\d+) (.*)$");
    /** VRs whose values both tools print the same way (text, and integers in decimal). */
    private static final Set<String> COMPARED_VALUES = Set.of("AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "PN",
            "SH", "TM", "UI", "US", "SS", "UL", "SL");

    @ParameterizedTest
    @ValueSource(strings = {"CT_small", "rtplan", "MR_small_bigendian", "nested_priv_SQ"})
    void matchesDcmdump(String name) throws IOException {
        List<String> expected = dataSetLines(Files.readString(
                Golden.resources().resolve("golden").resolve(name + ".dcmdump.txt"), StandardCharsets.ISO_8859_1));
        List<String> actual = dataSetLines(DicomDump.format(DicomReader.read(Golden.file(name + ".dcm"))));
        assertEquals(expected.size(), actual.size(), name + ": line count");
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(comparable(expected.get(i)), comparable(actual.get(i)), name + " line " + i);
        }
    }

    private static List<String> dataSetLines(String dump) {
        String body = dump.substring(dump.indexOf("# Dicom-Data-Set"));
        return body.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).toList();
    }

    /**
     * Indent, tag, VR (dcmdump's "??" is UN), value where comparable, length, VM, keyword. dcmdump knows vendors'
     * private dictionaries (Vertebra names every private element PrivateTag) and reports odd lengths padded.
     */
    private static String comparable(String line) {
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
            return "unparsed: " + line;
        }
        String vr = m.group(3).equals("??") ? "UN" : m.group(3);
        String value = m.group(4);
        boolean compareValue = COMPARED_VALUES.contains(vr) && !value.endsWith("...");
        String length = m.group(5).equals("u/l") ? "u/l" : Integer.toString((Integer.parseInt(m.group(5)) + 1) / 2 * 2);
        int group = Integer.parseInt(m.group(2).substring(0, 4), 16);
        boolean privateTag = (group & 1) == 1 && group > 7;
        String keyword = privateTag && !m.group(2).endsWith(",0010") ? "PrivateTag" : m.group(7);
        return m.group(1) + m.group(2) + " " + vr + " " + (compareValue ? value : "-") + " # " + length + ", "
                + m.group(6) + " " + keyword;
    }
}
