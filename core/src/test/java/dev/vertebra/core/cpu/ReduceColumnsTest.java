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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

    /**
     * A sum over the middle dimension with at least one item per thread goes through {@link StreamingColumnSums}
     * (the code the fused kernels pool with): the same floats, bit for bit, as {@link FloatReduce#reduce}, which
     * sums the other cases. Shapes: B0's head pooling (rows split into several chunks), a column tail, more rows
     * than one float run, one item of one chunk (a bias gradient), each a view with an offset.
     */
    @Test
    void sumsPerItemMatchFloatReduceBitForBit() {
        int[][] shapes = {{8, 7, 7, 1280}, {3, 9, 11, 37}, {2, 300, 1, 2}, {4, 5, 70}, {1, 8, 48}};
        int[][] dims = {{1, 2}, {1, 2}, {1, 2}, {1}, {1}};
        Backend cpu = Backends.get(Device.CPU);
        for (int c = 0; c < shapes.length; c++) {
            Shape shape = Shape.of(shapes[c]);
            int outer = shape.dim(0);
            int inner = shape.dim(-1);
            int reduced = shape.numel() / outer / inner;
            // The second item of a doubled batch: a view whose data starts past its buffer's start.
            Tensor doubled = Init.normal(new Generator(10 + c), shape.with(0, 2 * outer), 0.5, 1e3, Device.CPU);
            Tensor x = doubled.narrow(0, outer, outer);
            float[] want = new float[outer * inner];
            FloatReduce.reduce(ReduceOp.SUM, doubled.contiguous().toFloatArray(), shape.numel(), outer, reduced, inner,
                    want);
            assertArrayEquals(want, cpu.reduce(ReduceOp.SUM, x, dims[c], false).toFloatArray(),
                    Arrays.toString(shapes[c]));
        }
    }
}
