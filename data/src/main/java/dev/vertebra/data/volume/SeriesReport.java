package dev.vertebra.data.volume;

import java.util.List;

/**
 * What was noticed while stacking a series, for the caller to accept or refuse.
 *
 * @param fileOrderDescending true when InstanceNumber falls as the slice position rises along the normal (the
 *                            files were numbered in reverse; the volume is sorted by position regardless)
 * @param gantryTiltDegrees   angle between the slice normal and the line through the slice positions
 * @param gaps                indices i, among the slices read, where the step from slice i−1 exceeds 1.5× the
 *                            median step
 * @param missingSlices       estimated number of slices missing in those gaps (filled in the volume by linear
 *                            interpolation between the gap's neighbours, so that index and position agree)
 * @param duplicatesDropped   files at an already-seen position, left out
 * @param seriesUid           the SeriesInstanceUID of the slices kept
 */
public record SeriesReport(boolean fileOrderDescending, double gantryTiltDegrees, List<Integer> gaps,
                           int missingSlices, int duplicatesDropped, String seriesUid) {
    /** Tilt larger than this is reported as a tilted gantry. */
    public static final double TILT_TOLERANCE_DEGREES = 0.5;

    public SeriesReport {
        gaps = List.copyOf(gaps);
    }

    /** True when the gantry was tilted beyond the tolerance. */
    public boolean tilted() {
        return gantryTiltDegrees > TILT_TOLERANCE_DEGREES;
    }

    /** True when nothing unusual was seen (descending file numbers are usual, and not counted). */
    public boolean clean() {
        return !tilted() && gaps.isEmpty() && duplicatesDropped == 0;
    }
}
