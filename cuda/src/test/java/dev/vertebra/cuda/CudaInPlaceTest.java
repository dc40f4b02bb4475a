package dev.vertebra.cuda;

import dev.vertebra.core.DType;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * GPU only: the in-place kernels autograd and the optimisers use ({@code accumulate}, {@code scaleAdd}) give the
 * same bits on the GPU as the separate ops they replace there, for float32 and float64, odd lengths, a destination
 * at an offset, a source that is the destination itself, a broadcast source and 16-bit data.
 */
class CudaInPlaceTest {

    private static final double[][] COEFFICIENTS = {{0.9, 1}, {1, -0.01}, {0.999, 0.001}, {1, 0}};

    @BeforeEach
    void open() {
        GpuFixture.requireGpu();
    }

    private static Tensor normal(Generator gen, DType t, int... shape) {
        return Init.normal(gen, Shape.of(shape), 0, 1, GpuFixture.CUDA).to(t);
    }

    @Test
    void scaleAddEqualsTheSeparateOpsBitForBit() {
        try (NoGrad _ = NoGrad.enter()) {
            for (DType t : new DType[]{DType.FLOAT32, DType.FLOAT64}) {
                for (int n : new int[]{1, 17, 1000, 300_001}) {
                    for (double[] ab : COEFFICIENTS) {
                        Generator gen = new Generator(n);
                        Tensor dst = normal(gen, t, n);
                        Tensor src = normal(gen, t, n);
                        double[] want = dst.mul(ab[0]).add(src.mul(ab[1])).toDoubleArray();
                        dst.scaleAddInPlace(ab[0], src, ab[1]);
                        assertArrayEquals(want, dst.toDoubleArray(), 0, t + ", " + n + " elements, α " + ab[0]
                                + " β " + ab[1]);
                    }
                }
            }
        }
    }

    /** Many tensors per launch (more than one launch's 128, sizes from 1 to 300 001, a float64 one among them). */
    @Test
    void scaleAddOfManyTensorsEqualsEachAloneBitForBit() {
        try (NoGrad _ = NoGrad.enter()) {
            Generator gen = new Generator(11);
            List<Tensor> dsts = new ArrayList<>();
            List<Tensor> srcs = new ArrayList<>();
            List<double[]> want = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                DType t = i == 7 ? DType.FLOAT64 : DType.FLOAT32;
                int n = i % 50 == 3 ? 300_001 : 1 + (i * 37) % 1000;
                Tensor dst = normal(gen, t, n);
                Tensor src = normal(gen, t, n);
                want.add(dst.mul(0.9).add(src.mul(-0.01)).toDoubleArray());
                dsts.add(dst);
                srcs.add(src);
            }
            Tensor.scaleAddInPlaceAll(dsts, 0.9, srcs, -0.01);
            for (int i = 0; i < dsts.size(); i++) {
                assertArrayEquals(want.get(i), dsts.get(i).toDoubleArray(), 0, "tensor " + i);
            }
        }
    }

    @Test
    void scaleAddOnAViewAtAnOffsetAndOnItself() {
        try (NoGrad _ = NoGrad.enter()) {
            Generator gen = new Generator(3);
            Tensor base = normal(gen, DType.FLOAT32, 4, 50);
            Tensor row = base.narrow(0, 2, 1).reshape(50);
            Tensor src = normal(gen, DType.FLOAT32, 50);
            double[] untouched = base.narrow(0, 0, 2).contiguousCopy().toDoubleArray();
            double[] want = row.mul(0.5).add(src.mul(2)).toDoubleArray();
            row.scaleAddInPlace(0.5, src, 2);
            assertArrayEquals(want, row.toDoubleArray(), 0, "row at offset 100");
            assertArrayEquals(untouched, base.narrow(0, 0, 2).contiguousCopy().toDoubleArray(), 0, "rows before it");
            double[] twice = row.mul(0.25).add(row.mul(3)).toDoubleArray();
            row.scaleAddInPlace(0.25, row, 3);
            assertArrayEquals(twice, row.toDoubleArray(), 0, "source is the destination");
        }
    }

    @Test
    void accumulateEqualsAddBitForBit() {
        CudaBackend gpu = GpuFixture.requireGpu();
        for (DType t : new DType[]{DType.FLOAT32, DType.FLOAT64, DType.BFLOAT16, DType.FLOAT16}) {
            Generator gen = new Generator(5);
            Tensor dst = normal(gen, t, 3, 1001);
            Tensor src = normal(gen, t, 3, 1001);
            double[] want = dst.add(src).toDoubleArray();
            gpu.accumulate(dst, src);
            assertArrayEquals(want, dst.toDoubleArray(), 0, t + " same shape");
            Tensor row = normal(gen, t, 1001);
            double[] broadcast = dst.add(row).toDoubleArray();
            gpu.accumulate(dst, row);
            assertArrayEquals(broadcast, dst.toDoubleArray(), 0, t + " broadcast row");
            Tensor transposed = normal(gen, t, 1001, 3).transpose(0, 1);
            double[] strided = dst.add(transposed).toDoubleArray();
            gpu.accumulate(dst, transposed);
            assertArrayEquals(strided, dst.toDoubleArray(), 0, t + " strided source");
        }
    }
}
