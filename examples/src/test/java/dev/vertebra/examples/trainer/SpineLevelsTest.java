package dev.vertebra.examples.trainer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpineLevelsTest {

    /** Slices inferior first: {@code below} empty slices, then C7..C1 with {@code each} slices each, then 5 empty. */
    private static int[] truth(int below, int each) {
        int[] level = new int[below + 7 * each + 5];
        for (int s = 0; s < level.length; s++) {
            level[s] = s < below || s >= below + 7 * each ? -1 : 6 - (s - below) / each;
        }
        return level;
    }

    private static boolean[][] visible(int[] truth) {
        boolean[][] v = new boolean[truth.length][7];
        for (int s = 0; s < truth.length; s++) {
            if (truth[s] >= 0) {
                v[s][truth[s]] = true;
            }
        }
        return v;
    }

    /** Logits that say "a vertebra" on the spine slices but name the wrong one (C4) everywhere. */
    private static float[][] vagueLogits(int[] truth) {
        float[][] out = new float[truth.length][FractureModel.OUTPUTS];
        for (int s = 0; s < truth.length; s++) {
            for (int k = 0; k < 7; k++) {
                out[s][k] = truth[s] >= 0 && k == 3 ? 4 : -4;
            }
        }
        return out;
    }

    @Test
    void theAtlasIsLaidOverTheRunOfSpineSlices() {
        int[] truth = truth(6, 4);
        boolean[][] v = SpineLevels.decode(vagueLogits(truth), SpineAtlas.UNIFORM);
        for (int s = 0; s < truth.length; s++) {
            for (int k = 0; k < 7; k++) {
                boolean near = false;
                for (int t = Math.max(0, s - SpineLevels.MARGIN); t <= Math.min(truth.length - 1,
                        s + SpineLevels.MARGIN); t++) {
                    near |= truth[t] == k;
                }
                assertEquals(near, v[s][k], "slice " + s + ", C" + (k + 1));
            }
        }
        assertArrayEquals(new int[] {6, 33}, SpineLevels.spineRun(vagueLogits(truth)));
    }

    @Test
    void theDiscsBetweenVertebraeDoNotSplitTheSpine() {
        int[] truth = truth(6, 6);
        for (int s = 6; s < 6 + 42; s++) {
            if ((s - 6) % 6 == 5) {
                truth[s] = -1; // a disc: no vertebra on this slice
            }
        }
        float[][] x = vagueLogits(truth);
        x[2][3] = 4; // a stray slice below the spine
        assertArrayEquals(new int[] {6, 46}, SpineLevels.spineRun(x));
    }

    @Test
    void theAtlasIsFittedFromSegmentations() {
        // C2 twice as tall as the others: 8 slices of 40, the rest 4 or 5.
        boolean[][] v = new boolean[40][7];
        int[] heights = {5, 8, 5, 5, 5, 6, 6}; // C1..C7, sum 40
        int s = 40;
        for (int k = 0; k < 7; k++) {
            for (int i = 0; i < heights[k]; i++) {
                v[--s][k] = true;
            }
        }
        StudySlices st = new StudySlices("u", 40, 8, new float[40 * 64], v, null, new int[8]);
        SpineAtlas atlas = SpineAtlas.fit(List.of(st, st));
        assertEquals(1.0, atlas.end()[0], 1e-12);
        assertEquals(35 / 40.0, atlas.start()[0], 1e-12);
        assertEquals(27 / 40.0, atlas.start()[1], 1e-12);
        assertEquals(0.0, atlas.start()[6], 1e-12);
        assertEquals(6 / 40.0, atlas.end()[6], 1e-12);
        assertEquals(SpineAtlas.UNIFORM, SpineAtlas.fit(List.of(new StudySlices("u", 40, 8, new float[40 * 64], null,
                null, new int[8]))), "no segmentation: uniform");
    }

    @Test
    void travelsInTheCheckpointJson() {
        SpineAtlas a = SpineAtlas.fit(List.of(new StudySlices("u", 33, 8, new float[33 * 64], visible(truth(0, 4)),
                null, new int[8])));
        String json = "{\"model\": \"b0\", " + a.jsonMember() + "}";
        assertEquals(a, SpineAtlas.fromJson(json));
        assertEquals(SpineAtlas.UNIFORM, SpineAtlas.fromJson("{\"model\": \"b0\"}"));
        assertThrows(IllegalArgumentException.class, () -> SpineAtlas.fromJson("{\"spineAtlas\": \"0 1\"}"));
    }

    @Test
    void shortAndEmptyStudies() {
        assertEquals(0, SpineLevels.decode(new float[0][], SpineAtlas.UNIFORM).length);
        boolean[][] v = SpineLevels.decode(vagueLogits(new int[] {3, 3, 3}), SpineAtlas.UNIFORM);
        for (int k = 0; k < 7; k++) {
            boolean any = false;
            for (boolean[] row : v) {
                any |= row[k];
            }
            assertTrue(any, "every vertebra gets a slice: C" + (k + 1));
        }
    }
}
