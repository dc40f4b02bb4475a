package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The CPU backend's one-pass {@link Backend#batchNormEvalAffine} against the elementwise ops its default runs (the
 * CPU's own vector kernels), bit for bit: every optional parameter present or absent, channel counts with and
 * without a partial last vector, variances near 0.
 */
class BatchNormEvalAffineTest {
    private static final double EPS = 1e-3;

    @Test
    void allParametersMatchTheElementwiseOpsBitForBit() {
        assertMatchesElementwiseOps(1, 37, true, true, true);
        assertMatchesElementwiseOps(2, 1152, true, true, true);
    }

    @Test
    void absentParametersAreOneAndZeros() {
        assertMatchesElementwiseOps(3, 40, false, true, false);
        assertMatchesElementwiseOps(4, 40, true, false, true);
        assertMatchesElementwiseOps(5, 7, false, false, false);
    }

    @Test
    void aParameterViewWithAnOffsetIsReadFromItsOffset() {
        Generator gen = new Generator(6);
        Backend cpu = Backends.get(Device.CPU);
        Tensor var = Init.uniform(gen, Shape.of(2, 24), 0, 2, Device.CPU).narrow(0, 1, 1).reshape(24);
        Tensor mean = Init.normal(gen, Shape.of(24), 0, 1, Device.CPU);
        Backend.ChannelAffine got = cpu.batchNormEvalAffine(mean, var, null, null, null, EPS);
        assertArrayEquals(var.contiguous().add(EPS).pow(-0.5).toFloatArray(), got.scale().toFloatArray());
    }

    private static void assertMatchesElementwiseOps(long seed, int c, boolean weight, boolean bias,
                                                    boolean convBias) {
        Generator gen = new Generator(seed);
        Backend cpu = Backends.get(Device.CPU);
        Tensor mean = Init.normal(gen, Shape.of(c), 0, 2, Device.CPU);
        // Variances from 0 (the scale is then eps^−½) to 4.
        Tensor var = Init.uniform(gen, Shape.of(c), 0, 4, Device.CPU).mul(Init.bernoulli(gen, Shape.of(c), 0.8,
                DType.FLOAT32, Device.CPU));
        Tensor w = weight ? Init.uniform(gen, Shape.of(c), -1.5, 1.5, Device.CPU) : null;
        Tensor b = bias ? Init.normal(gen, Shape.of(c), 0, 1, Device.CPU) : null;
        Tensor cb = convBias ? Init.normal(gen, Shape.of(c), 0, 0.5, Device.CPU) : null;

        Tensor scale = var.add(EPS).pow(-0.5);
        if (w != null) {
            scale = w.mul(scale);
        }
        Tensor shift = (cb == null ? mean : mean.sub(cb)).mul(scale).neg();
        if (b != null) {
            shift = b.add(shift);
        }
        Backend.ChannelAffine got = cpu.batchNormEvalAffine(mean, var, w, b, cb, EPS);
        assertEquals(DType.FLOAT32, got.scale().dtype());
        assertEquals(Shape.of(c), got.shift().shape());
        assertArrayEquals(scale.toFloatArray(), got.scale().toFloatArray(), "scale");
        assertArrayEquals(shift.toFloatArray(), got.shift().toFloatArray(), "shift");
    }
}
