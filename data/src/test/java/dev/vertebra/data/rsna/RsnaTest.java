package dev.vertebra.data.rsna;

import dev.vertebra.core.Generator;
import dev.vertebra.data.synth.CervicalPhantom;
import dev.vertebra.data.synth.FracturePrevalence;
import dev.vertebra.data.synth.SyntheticDataset;
import dev.vertebra.data.volume.Window;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class RsnaTest {
    @TempDir
    static Path root;
    static List<SyntheticDataset.Study> truth;

    @BeforeAll
    static void writeDataset() throws IOException {
        truth = SyntheticDataset.write(root, new SyntheticDataset.Config(4, 2, 21,
                new CervicalPhantom.PhantomSize(48, 48, 40, 44), FracturePrevalence.RSNA_2022, 0.5, 0.5));
    }

    @Test
    void csvErrorsNameFileAndLine(@TempDir Path dir) throws IOException {
        Path train = dir.resolve("train.csv");
        Files.writeString(train, "StudyInstanceUID,patient_overall,C1,C2,C3,C4,C5,C6,C7\n1.2.3,0,0,0,0,0,0,0,0\n"
                + "1.2.4,1,0,2,0,0,0,0,0\n");
        CsvException bad = assertThrows(CsvException.class, () -> RsnaCsv.readLabels(train));
        assertEquals(3, bad.line());
        assertTrue(bad.getMessage().startsWith(train + ":3:"), bad.getMessage());
        Files.writeString(train, "StudyInstanceUID,patient_overall,C1\n");
        assertEquals(1, assertThrows(CsvException.class, () -> RsnaCsv.readLabels(train)).line());
        Files.writeString(train, "StudyInstanceUID,patient_overall,C1,C2,C3,C4,C5,C6,C7\n1.2.3,0,1,0,0,0,0,0,0\n");
        assertTrue(assertThrows(CsvException.class, () -> RsnaCsv.readLabels(train)).getMessage()
                .contains("patient_overall"));
        Path boxes = dir.resolve("b.csv");
        Files.writeString(boxes, "StudyInstanceUID,x,y,width,height,slice_number\n1.2.3,1,2,3,4,5\n1.2.3,1,2,3\n");
        assertEquals(3, assertThrows(CsvException.class, () -> RsnaCsv.readBoxes(boxes)).line());
        Files.writeString(boxes, "StudyInstanceUID,x,y,width,height,slice_number\n1.2.3,1,2,x,4,5\n");
        assertEquals(2, assertThrows(CsvException.class, () -> RsnaCsv.readBoxes(boxes)).line());
        assertEquals(0, assertThrows(CsvException.class, () -> RsnaCsv.readTest(dir.resolve("none.csv"))).line());
    }

    @Test
    void studiesCarryLabelsAndTheDropListApplies() throws IOException {
        RsnaDataset train = RsnaDataset.openTrain(root);
        assertEquals(4, train.studies().size());
        for (RsnaDataset.Study s : train.studies()) {
            SyntheticDataset.Study t = truth.stream().filter(x -> x.uid().equals(s.uid())).findFirst().orElseThrow();
            assertArrayEquals(t.fractured(), s.labels().orElseThrow().vertebrae());
            assertTrue(s.segmentation().isPresent());
        }
        String dropped = train.studies().getFirst().uid();
        assertEquals(3, RsnaDataset.openTrain(root, Set.of(dropped)).studies().size());
        RsnaDataset test = RsnaDataset.openTest(root);
        assertEquals(2, test.studies().size());
        assertTrue(test.studies().getFirst().labels().isPresent(), "test_labels.csv is read");
    }

    @Test
    void slicesKnowTheirVertebraeAndFractures() throws IOException {
        for (RsnaDataset.Study s : RsnaDataset.openTrain(root).studies()) {
            PreparedStudy p = RsnaDataset.load(s);
            boolean[] fractured = s.labels().orElseThrow().vertebrae();
            int[] slicesShowing = new int[7];
            for (int slice = 0; slice < p.slices(); slice++) {
                float[] t = p.targets(slice);
                for (int v = 0; v < 7; v++) {
                    slicesShowing[v] += (int) t[v];
                    assertEquals(t[v] == 1 && fractured[v] ? 1f : 0f, t[7 + v]);
                }
            }
            for (int v = 0; v < 7; v++) {
                assertTrue(slicesShowing[v] > 0, "C" + (v + 1) + " is seen in " + s.uid());
            }
            boolean anyBox = false;
            for (boolean b : p.boxed()) {
                anyBox |= b;
            }
            assertEquals(s.labels().orElseThrow().patientOverall(), anyBox, "boxes exactly on fractured studies");
            float[] stack = p.stack(p.slices() / 2, 3, Window.BONE);
            assertEquals(p.rows() * p.cols() * 3, stack.length);
        }
    }

    @Test
    void loaderIsDeterministicAndBoundsWhatIsLoaded() {
        List<RsnaDataset.Study> studies = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            studies.add(new RsnaDataset.Study("1.2." + i, root, java.util.Optional.empty(), java.util.Optional.empty(),
                    List.of()));
        }
        AtomicInteger live = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        List<String> first = new ArrayList<>();
        int[] progress = new int[1];
        try (var loader = new StudyLoader<>(studies, s -> {
            peak.accumulateAndGet(live.incrementAndGet(), Math::max);
            return s.uid();
        }, 3, 4, new Generator(7), (done, total) -> progress[0] = done)) {
            for (String uid : loader) {
                first.add(uid);
                live.decrementAndGet();
            }
        }
        assertEquals(40, progress[0]);
        assertTrue(peak.get() <= 4, "peak loaded " + peak.get());
        assertNotEquals(studies.stream().map(RsnaDataset.Study::uid).toList(), first, "shuffled");
        List<String> second = new ArrayList<>();
        try (var loader = new StudyLoader<>(studies, RsnaDataset.Study::uid, 2, 2, new Generator(7), (d, t) -> { })) {
            loader.forEach(second::add);
        }
        assertEquals(first, second, "same seed, same order, whatever the thread count");
        try (var failing = new StudyLoader<String>(studies, s -> {
            throw new IOException("broken file");
        }, 1, 1, null, (d, t) -> { })) {
            var e = assertThrows(UncheckedIOException.class, () -> failing.iterator().next());
            assertTrue(e.getMessage().contains("1.2.0"), e.getMessage());
        }
    }

    @Test
    void cacheRoundTripsAPreparedStudy(@TempDir Path cache) throws IOException {
        PreparedStudy p = RsnaDataset.load(RsnaDataset.openTrain(root).studies().get(1)).resized(20, 32, 32);
        VolumeCache.write(cache, p);
        assertTrue(VolumeCache.contains(cache, p.uid()));
        PreparedStudy back = VolumeCache.read(cache, p.uid());
        assertArrayEquals(p.hu(), back.hu());
        assertArrayEquals(p.visible(), back.visible());
        assertArrayEquals(p.boxed(), back.boxed());
        assertArrayEquals(p.fractured(), back.fractured());
        assertArrayEquals(p.instanceNumbers(), back.instanceNumbers());
        assertArrayEquals(p.spacing(), back.spacing(), "spacing is kept exactly");
        assertEquals(p.labelled(), back.labelled());
        Files.writeString(cache.resolve(p.uid() + ".json"), "{\"uid\": \"x\"}");
        assertThrows(IOException.class, () -> VolumeCache.read(cache, p.uid()));
    }

    @Test
    void cacheSettingsAreKeptAndAMismatchIsRefused(@TempDir Path dir) throws IOException {
        Path cache = dir.resolve("cache");
        assertTrue(VolumeCache.settings(cache).isEmpty());
        var resized = new VolumeCache.Settings(20, List.of(20, 32, 32));
        VolumeCache.create(cache, resized);
        assertEquals(Optional.of(resized), VolumeCache.settings(cache));
        VolumeCache.create(cache, resized);
        RsnaDataset.Study study = RsnaDataset.openTrain(root).studies().get(0);
        PreparedStudy p = resized.load(study);
        assertEquals(List.of(p.slices(), p.rows(), p.cols()), resized.size());
        assertArrayEquals(RsnaDataset.load(study, 20).resized(20, 32, 32).hu(), p.hu());

        var nativeGrid = new VolumeCache.Settings(1, List.of());
        IOException mixed = assertThrows(IOException.class, () -> VolumeCache.create(cache, nativeGrid));
        assertTrue(mixed.getMessage().contains(cache.toString()) && mixed.getMessage().contains("native grid"),
                mixed.getMessage());

        Path unknown = dir.resolve("unknown");
        VolumeCache.write(unknown, p);
        IOException noSettings = assertThrows(IOException.class, () -> VolumeCache.create(unknown, nativeGrid));
        assertTrue(noSettings.getMessage().contains(VolumeCache.SETTINGS), noSettings.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new VolumeCache.Settings(0, List.of()));
        assertThrows(IllegalArgumentException.class, () -> new VolumeCache.Settings(1, List.of(4, 4)));
    }
}
