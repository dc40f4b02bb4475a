package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import static dev.vertebra.core.cpu.PointwiseBatchNormSiluDepthwiseTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Batch statistics gathered while a 1×1 convolution's product writes its output ({@link ChunkMoments#add} as the
 * product's tile epilogue, {@link Backend#pointwiseBatchNormSiluDepthwise} on the CPU): the bits of a separate pass
 * over the finished output, whichever way the product splits its tiles, and close to the reference backend.
 */
class StatisticsInProductTest {
    private static final Backend CPU = Backends.get(Device.CPU);
    private static final Backend REFERENCE = Backends.get(Device.REFERENCE);
    private static final ConvSpec POINTWISE = ConvSpec.of(1, 0, 1, 1);
    private static final double EPS = 1e-3;

    @Test
    void rowsFedInStripsGiveTheMomentsOfOnePass() {
        // 1 000 rows: three whole chunks and one of 232; 70 columns: a 64-wide range and a 6-wide tail range.
        int rows = 1000;
        int c = 70;
        Random random = new Random(11);
        float[] x = new float[rows * c + 5];
        for (int i = 0; i < x.length; i++) {
            x[i] = 3 + (float) random.nextGaussian();
        }
        ChunkMoments strips = new ChunkMoments(rows, c);
        for (int[] columns : new int[][]{{0, 64}, {64, 70}}) {
            for (int r = 0; r < rows; ) {
                int next = Math.min(rows, r + 1 + random.nextInt(13));
                strips.add(x, 5, r, next, columns[0], columns[1]);
                r = next;
            }
        }
        assertSameMoments(ChunkMoments.of(x, 5, rows, c), strips);
    }

    @Test
    void rangesThatBreakTheColumnArithmeticAreRefused() {
        ChunkMoments m = new ChunkMoments(300, 40);
        float[] x = new float[300 * 40];
        assertThrows(IllegalArgumentException.class, () -> m.add(x, 0, 0, 10, 8, 40), "a start off the vectors");
        assertThrows(IllegalArgumentException.class, () -> m.add(x, 0, 290, 301, 0, 40), "rows past the end");
        assertThrows(IllegalArgumentException.class, () -> m.add(x, 0, 0, 10, 16, 16), "no columns");
        assertThrows(IllegalArgumentException.class, () -> new ChunkMoments(0, 40));
    }

    @Test
    void theOpIsTheTwoCallsBitForBit() {
        // 4 608 pixels of 8 → 96, 3×3 stride 2: short K, the product's shared-B tiles finished in six-row strips.
        assertOpMatches(1, Shape.of(2, 48, 48, 8), 96, 3, 2);
        // 4 757 pixels (a last chunk of 149 rows) of 16 → 1 100: two column tiles, the second with a channel tail.
        assertOpMatches(2, Shape.of(1, 67, 71, 16), 1100, 5, 1);
        // 300 inputs: two K blocks, each tile finished whole after the last; 40 channels (a tail of 8).
        assertOpMatches(3, Shape.of(1, 64, 72, 300), 40, 3, 1);
        // 1 568 pixels: below the size the CPU gathers in the product, the two calls.
        assertOpMatches(4, Shape.of(8, 14, 14, 16), 96, 5, 1);
    }

    @Test
    void insideAParallelLoopTheOneThreadsTilesGiveTheSameBits() {
        AtomicReference<AssertionError> failure = new AtomicReference<>();
        CpuThreads.parallelFor(0, 2, 1, (from, to) -> {
            if (from == 0) {
                try {
                    assertOpMatches(5, Shape.of(2, 48, 48, 8), 96, 3, 1);
                } catch (AssertionError e) {
                    failure.set(e);
                }
            }
        });
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    /**
     * The CPU's op against {@code conv2d} then {@code batchNormSiluDepthwise} on the CPU, every output bit for bit,
     * and against the reference backend's default within 10⁻⁴ of each output's largest magnitude.
     */
    private static void assertOpMatches(long seed, Shape input, int expanded, int kernel, int stride) {
        Generator gen = new Generator(seed);
        Tensor in = Init.normal(gen, input, 0.3, 1, Device.CPU);
        Tensor pointwise = Init.normal(gen, Shape.of(1, 1, input.dim(3), expanded), 0.05, 0.4, Device.CPU);
        Tensor weight = Init.uniform(gen, Shape.of(expanded), 0.5, 1.5, Device.CPU);
        Tensor bias = Init.normal(gen, Shape.of(expanded), 0, 0.5, Device.CPU);
        Tensor dw = Init.normal(gen, Shape.of(kernel, kernel, 1, expanded), 0, 0.3, Device.CPU);
        ConvSpec spec = ConvSpec.of(stride, (kernel - 1) / 2, 1, expanded);

        Backend.PointwiseBatchNormResult op = CPU.pointwiseBatchNormSiluDepthwise(in, pointwise, POINTWISE, weight,
                bias, EPS, dw, spec);
        Tensor x = CPU.conv2d(in, pointwise, POINTWISE);
        Backend.BatchNormResult apart = CPU.batchNormSiluDepthwise(x, weight, bias, EPS, dw, spec);
        String shape = input + " → " + expanded;
        assertArrayEquals(x.toFloatArray(), op.expansion().toFloatArray(), 0f, "x, " + shape);
        assertArrayEquals(apart.output().toFloatArray(), op.result().output().toFloatArray(), 0f, "y, " + shape);
        assertArrayEquals(apart.mean().toFloatArray(), op.result().mean().toFloatArray(), 0f, "mean, " + shape);
        assertArrayEquals(apart.variance().toFloatArray(), op.result().variance().toFloatArray(), 0f,
                "variance, " + shape);
        assertArrayEquals(apart.invStd().toFloatArray(), op.result().invStd().toFloatArray(), 0f,
                "invStd, " + shape);

        Backend.PointwiseBatchNormResult plain = REFERENCE.pointwiseBatchNormSiluDepthwise(in.to(Device.REFERENCE),
                pointwise.to(Device.REFERENCE), POINTWISE, weight.to(Device.REFERENCE), bias.to(Device.REFERENCE),
                EPS, dw.to(Device.REFERENCE), spec);
        assertClose(plain.expansion(), op.expansion(), "reference x, " + shape);
        assertClose(plain.result().output(), op.result().output(), "reference y, " + shape);
        assertClose(plain.result().mean(), op.result().mean(), "reference mean, " + shape);
        assertClose(plain.result().variance(), op.result().variance(), "reference variance, " + shape);
    }

    private static void assertSameMoments(ChunkMoments expected, ChunkMoments actual) {
        int c = expected.channels();
        float[] mean = new float[c];
        float[] actualMean = new float[c];
        double[] m2 = new double[c];
        double[] actualM2 = new double[c];
        expected.merge(mean, m2);
        actual.merge(actualMean, actualM2);
        assertArrayEquals(mean, actualMean, 0f, "mean");
        assertArrayEquals(m2, actualM2, 0d, "sum of squared deviations");
    }
}
