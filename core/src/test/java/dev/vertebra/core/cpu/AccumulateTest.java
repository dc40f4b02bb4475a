package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The in-place {@code dst += src} of the fast backend against the reference's (a new sum copied back), for
 * contiguous, strided and broadcast sources, odd lengths and more elements than one parallel chunk. Float addition
 * is exact to compare: both round the same single sum.
 */
class AccumulateTest {

    private record Source(String name, int[] leafShape, UnaryOperator<Tensor> view) {
    }

    @Test
    void matchesTheReferenceForEveryKindOfSource() {
        int[][] shapes = {{1}, {7}, {3, 17}, {2, 5, 6, 33}, {4, 101, 97}};
        for (int[] shape : shapes) {
            int last = shape[shape.length - 1];
            int rows = Shape.of(shape).numel() / last;
            Source[] sources = {
                    new Source("same shape", shape, t -> t),
                    new Source("scalar broadcast", new int[]{}, t -> t.expand(Shape.of(shape))),
                    new Source("last-dimension broadcast", new int[]{last}, t -> t.expand(Shape.of(shape))),
                    new Source("transposed", new int[]{last, rows}, t -> t.transpose(0, 1).reshape(shape)),
                    new Source("narrowed", new int[]{rows, last + 3}, t -> t.narrow(1, 2, last).reshape(shape))};
            for (Source s : sources) {
                float[] want = run(Device.REFERENCE, shape, s);
                float[] got = run(Device.CPU, shape, s);
                assertArrayEquals(want, got, 0f, s.name() + " into " + java.util.Arrays.toString(shape));
            }
        }
    }

    private static float[] run(Device device, int[] shape, Source s) {
        Generator gen = new Generator(shape.length * 31L + s.name().hashCode());
        Tensor dst = Init.normal(gen, Shape.of(shape), 0, 1, device);
        Tensor src = s.view().apply(Init.normal(gen, Shape.of(s.leafShape()), 0, 1, device));
        Backend backend = Backends.get(device);
        backend.accumulate(dst, src);
        return dst.toFloatArray();
    }
}
