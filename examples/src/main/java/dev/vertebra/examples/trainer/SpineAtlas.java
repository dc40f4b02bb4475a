package dev.vertebra.examples.trainer;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where each vertebra lies along the cervical spine, as fractions of the run of slices that show any vertebra
 * (slices inferior first, so C7 starts near 0 and C1 ends at 1), averaged over the training studies'
 * segmentations. {@link SpineLevels} maps it onto the run of spine slices it finds in a new study. The proportions
 * of the cervical spine vary little from neck to neck, much less than a 2.5D crop's ability to tell C4 from C5.
 *
 * @param start C1..C7: first slice of the vertebra, as a fraction of the spine run
 * @param end   C1..C7: one past its last slice, as a fraction of the spine run
 */
public record SpineAtlas(double[] start, double[] end) {
    /** Seven equal parts, C7 lowest: for runs with no segmentation to learn from. */
    public static final SpineAtlas UNIFORM = uniform();

    public SpineAtlas {
        if (start.length != 7 || end.length != 7) {
            throw new IllegalArgumentException("an atlas has 7 vertebrae");
        }
        for (int k = 0; k < 7; k++) {
            if (!(start[k] >= 0 && start[k] < end[k] && end[k] <= 1)) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "C%d spans [%s, %s) of the spine", k + 1,
                        start[k], end[k]));
            }
        }
        start = start.clone();
        end = end.clone();
    }

    private static SpineAtlas uniform() {
        double[] s = new double[7];
        double[] e = new double[7];
        for (int k = 0; k < 7; k++) {
            s[k] = (6 - k) / 7.0;
            e[k] = (7 - k) / 7.0;
        }
        return new SpineAtlas(s, e);
    }

    /** The mean proportions of the studies with a segmentation; {@link #UNIFORM} when none has one. */
    public static SpineAtlas fit(List<StudySlices> studies) {
        double[] s = new double[7];
        double[] e = new double[7];
        int[] n = new int[7];
        for (StudySlices st : studies) {
            int[] run = st.spineRun();
            if (run == null) {
                continue;
            }
            int first = run[0];
            int last = run[1];
            double length = last - first + 1;
            for (int k = 0; k < 7; k++) {
                int from = -1;
                int to = -1;
                for (int i = first; i <= last; i++) {
                    if (st.visible()[i][k]) {
                        from = from < 0 ? i : from;
                        to = i;
                    }
                }
                if (from >= 0) {
                    s[k] += (from - first) / length;
                    e[k] += (to + 1 - first) / length;
                    n[k]++;
                }
            }
        }
        if (Arrays.stream(n).anyMatch(c -> c == 0)) {
            return UNIFORM;
        }
        for (int k = 0; k < 7; k++) {
            s[k] /= n[k];
            e[k] /= n[k];
        }
        return new SpineAtlas(s, e);
    }

    /** As a JSON member (no braces) for the checkpoint's metadata: 14 numbers, start then end. */
    String jsonMember() {
        StringBuilder sb = new StringBuilder("\"spineAtlas\": \"");
        for (int k = 0; k < 14; k++) {
            sb.append(k > 0 ? " " : "").append(k < 7 ? start[k] : end[k - 7]);
        }
        return sb.append('"').toString();
    }

    /** The atlas in a checkpoint's JSON; {@link #UNIFORM} when it has none. */
    static SpineAtlas fromJson(String json) {
        Matcher m = Pattern.compile("\"spineAtlas\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        if (!m.find()) {
            return UNIFORM;
        }
        double[] v = Arrays.stream(m.group(1).trim().split("\\s+")).mapToDouble(Double::parseDouble).toArray();
        if (v.length != 14) {
            throw new IllegalArgumentException("spineAtlas holds " + v.length + " numbers, not 14");
        }
        return new SpineAtlas(Arrays.copyOfRange(v, 0, 7), Arrays.copyOfRange(v, 7, 14));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SpineAtlas a && Arrays.equals(start, a.start) && Arrays.equals(end, a.end);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(start) + Arrays.hashCode(end);
    }

    @Override
    public String toString() {
        return "SpineAtlas" + Arrays.toString(start) + Arrays.toString(end);
    }

    @Override
    public double[] start() {
        return start.clone();
    }

    @Override
    public double[] end() {
        return end.clone();
    }
}
