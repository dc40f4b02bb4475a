package dev.vertebra.core.cpu;

import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The in-place {@code dst = α·dst + β·src} of the fast backend: the same bits as the separate ops on the same
 * backend (what optimisers relied on before it), close to the float64 reference, for odd lengths, more elements
 * than one parallel chunk, a destination at an offset and a source that is the destination itself.
 */
class ScaleAddTest {

    private static final double[][] COEFFICIENTS = {{0.9, 1}, {1, -0.01}, {0.999, 0.001}, {1, 0}};

    @Test
    void equalsTheSeparateOpsBitForBit() {
        for (int n : new int[]{1, 15, 16, 17, 1000, 70_001}) {
            for (double[] ab : COEFFICIENTS) {
                Generator gen = new Generator(n);
                Tensor dst = Init.normal(gen, Shape.of(n), 0, 1, Device.CPU);
                Tensor src = Init.normal(gen, Shape.of(n), 0, 1, Device.CPU);
                float[] want = dst.mul(ab[0]).add(src.mul(ab[1])).toFloatArray();
                dst.scaleAddInPlace(ab[0], src, ab[1]);
                assertArrayEquals(want, dst.toFloatArray(), 0f, n + " elements, α " + ab[0] + " β " + ab[1]);
            }
        }
    }

    @Test
    void matchesTheReferenceBackend() {
        for (double[] ab : COEFFICIENTS) {
            float[][] results = new float[2][];
            Device[] devices = {Device.REFERENCE, Device.CPU};
            for (int d = 0; d < 2; d++) {
                Generator gen = new Generator(7);
                Tensor dst = Init.normal(gen, Shape.of(3, 333), 0, 1, devices[d]);
                Tensor src = Init.normal(gen, Shape.of(3, 333), 0, 1, devices[d]);
                results[d] = dst.scaleAddInPlace(ab[0], src, ab[1]).toFloatArray();
            }
            for (int i = 0; i < results[0].length; i++) {
                assertEquals(results[0][i], results[1][i], 1e-6 * (1 + Math.abs(results[0][i])), "element " + i);
            }
        }
    }

    @Test
    void aViewAtAnOffsetAndTheDestinationAsItsOwnSource() {
        Generator gen = new Generator(3);
        Tensor base = Init.normal(gen, Shape.of(4, 50), 0, 1, Device.CPU);
        Tensor row = base.narrow(0, 2, 1).reshape(50);            // contiguous, at offset 100
        Tensor src = Init.normal(gen, Shape.of(50), 0, 1, Device.CPU);
        float[] untouched = base.narrow(0, 0, 2).contiguousCopy().toFloatArray();
        float[] want = row.mul(0.5).add(src.mul(2)).toFloatArray();
        row.scaleAddInPlace(0.5, src, 2);
        assertArrayEquals(want, row.toFloatArray(), 0f, "row at an offset");
        assertArrayEquals(untouched, base.narrow(0, 0, 2).contiguousCopy().toFloatArray(), 0f, "other rows");

        float[] doubled = row.mul(0.25).add(row.mul(0.75)).toFloatArray();
        row.scaleAddInPlace(0.25, row, 0.75);
        assertArrayEquals(doubled, row.toFloatArray(), 0f, "dst as its own source");
    }

    /** Many pairs at once: each as scaleAddInPlace alone, a transposed (non-contiguous) target among them. */
    @Test
    void manyPairsAtOnceEqualEachAlone() {
        Generator gen = new Generator(5);
        List<Tensor> dsts = new ArrayList<>();
        List<Tensor> srcs = new ArrayList<>();
        List<float[]> want = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Tensor dst = Init.normal(gen, Shape.of(3, 5 + i), 0, 1, Device.CPU);
            Tensor target = i == 4 ? dst.transpose(0, 1) : dst;
            Tensor src = Init.normal(gen, target.shape(), 0, 1, Device.CPU);
            Tensor alone = target.contiguousCopy();
            alone.scaleAddInPlace(0.9, src, -0.01);
            want.add(alone.toFloatArray());
            dsts.add(target);
            srcs.add(src);
        }
        Tensor.scaleAddInPlaceAll(dsts, 0.9, srcs, -0.01);
        for (int i = 0; i < dsts.size(); i++) {
            assertArrayEquals(want.get(i), dsts.get(i).toFloatArray(), 0f, "pair " + i);
        }
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.scaleAddInPlaceAll(dsts, 1, srcs.subList(0, 2), 1));
    }
}
