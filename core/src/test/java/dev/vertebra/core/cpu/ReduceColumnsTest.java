package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.ReduceOp;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fast backend's reductions over a middle dimension (channels-last pooling: [N, H, W, C] summed over H and W)
 * against the float64 reference, for every column width the kernel treats apart: blocks of four vectors, single
 * vectors, a scalar tail, fewer columns than a vector; and more rows than one float run.
 */
class ReduceColumnsTest {

    @Test
    void sumMaxAndMinOverMiddleDimensionsMatchTheReference() {
        int[][] shapes = {{2, 300, 1, 144}, {3, 9, 11, 37}, {2, 40, 7, 80}, {1, 700, 3}, {4, 5, 70}};
        int[][] dims = {{1, 2}, {1, 2}, {1, 2}, {1}, {1}};
        Backend cpu = Backends.get(Device.CPU);
        Backend reference = Backends.get(Device.REFERENCE);
        for (int c = 0; c < shapes.length; c++) {
            Tensor x = Init.normal(new Generator(c), Shape.of(shapes[c]), 0.5, 1, Device.CPU);
            for (ReduceOp op : ReduceOp.values()) {
                float[] got = cpu.reduce(op, x, dims[c], true).toFloatArray();
                float[] want = reference.reduce(op, x.to(Device.REFERENCE), dims[c], true).toFloatArray();
                assertEquals(want.length, got.length, op + " size for " + Arrays.toString(shapes[c]));
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])),
                            op + " " + Arrays.toString(shapes[c]) + " element " + i);
                }
            }
        }
    }
}
