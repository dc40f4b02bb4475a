package dev.vertebra.data.volume;

import java.util.Arrays;

/**
 * The slices each vertebra occupies. Labels follow the RSNA segmentations: 1–7 = C1–C7, 8–19 = T1–T12.
 *
 * <pre>{@code
 * VertebraRanges ranges = VertebraRanges.fromLabels(labels, ct.slices(), ct.plane());
 * if (ranges.contains(2, s)) { ... } // slice s shows C2
 * }</pre>
 *
 * @param first first slice holding each label (index = label, 0 unused), −1 when absent
 * @param last  last slice holding each label, −1 when absent
 */
public record VertebraRanges(int[] first, int[] last) {
    /** Highest label: T12. */
    public static final int MAX_LABEL = 19;

    public VertebraRanges {
        first = first.clone();
        last = last.clone();
    }

    /** The name of a label: C1..C7, T1..T12. */
    public static String name(int label) {
        if (label < 1 || label > MAX_LABEL) {
            throw new IllegalArgumentException("label " + label + " is not 1..19");
        }
        return label <= 7 ? "C" + label : "T" + (label - 7);
    }

    /** Ranges from a label volume [slices, plane]. */
    public static VertebraRanges fromLabels(byte[] labels, int slices, int plane) {
        int[] first = new int[MAX_LABEL + 1];
        int[] last = new int[MAX_LABEL + 1];
        Arrays.fill(first, -1);
        Arrays.fill(last, -1);
        for (int s = 0; s < slices; s++) {
            for (int i = s * plane; i < (s + 1) * plane; i++) {
                int label = labels[i] & 0xFF;
                if (label > 0 && label <= MAX_LABEL) {
                    if (first[label] < 0) {
                        first[label] = s;
                    }
                    last[label] = s;
                }
            }
        }
        return new VertebraRanges(first, last);
    }

    /** True when slice {@code s} lies within the range of {@code label}. */
    public boolean contains(int label, int s) {
        return first[label] >= 0 && s >= first[label] && s <= last[label];
    }

    @Override
    public int[] first() {
        return first.clone();
    }

    @Override
    public int[] last() {
        return last.clone();
    }
}
