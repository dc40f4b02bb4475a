package dev.vertebra.core.cpu;

import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.vertebra.core.cpu.PointwiseBatchNormSiluDepthwiseTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How the CPU's batch norm spreads small inputs over the threads: the chunked sums split each chunk's channels among
 * tasks where the chunks are few ({@link FloatBatchNorm#chunkedSums}), and elementwise row loops take tasks the
 * threads share evenly ({@link FloatBatchNorm#rowGrain}). Neither may change a sum.
 */
class BatchNormTaskSplitTest {
    private static final Backend CPU = Backends.get(Device.CPU);
    private static final Backend REFERENCE = Backends.get(Device.REFERENCE);
    private static final int LANES = FloatVector.SPECIES_PREFERRED.length();

    @Test
    void chunkedSumsCoverEveryChannelOfEveryChunkOnceInRowOrder() {
        // 392 rows: two chunks (256 and 136 rows), split by channels; 1 568 rows of 40: seven chunks, too narrow to
        // split; one chunk of 100 channels (a block and a tail); 5 000 rows: twenty chunks.
        int[][] shapes = {{392, 1152}, {1568, 40}, {100, 100}, {5000, 64}};
        Random random = new Random(3);
        for (int[] shape : shapes) {
            int rows = shape[0];
            int c = shape[1];
            float[] data = new float[rows * c];
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) random.nextGaussian();
            }
            int[] visits = new int[c * ((rows + FloatBatchNorm.CHUNK_ROWS - 1) / FloatBatchNorm.CHUNK_ROWS)];
            double[] sums = FloatBatchNorm.chunkedSums(rows, c, (r0, r1, j0, j1, run, at) -> {
                for (int j = j0; j < j1; j++) {
                    float sum = 0f;
                    float squares = 0f;
                    for (int r = r0; r < r1; r++) {
                        sum += data[r * c + j];
                        squares += data[r * c + j] * data[r * c + j];
                    }
                    run[at + j] = sum;
                    run[at + c + j] = squares;
                    synchronized (visits) {
                        visits[r0 / FloatBatchNorm.CHUNK_ROWS * c + j]++;
                    }
                }
            });
            double[] expected = new double[2 * c];
            for (int r0 = 0; r0 < rows; r0 += FloatBatchNorm.CHUNK_ROWS) {
                for (int j = 0; j < c; j++) {
                    float sum = 0f;
                    float squares = 0f;
                    for (int r = r0; r < Math.min(rows, r0 + FloatBatchNorm.CHUNK_ROWS); r++) {
                        sum += data[r * c + j];
                        squares += data[r * c + j] * data[r * c + j];
                    }
                    expected[j] += sum;
                    expected[c + j] += squares;
                }
            }
            String what = rows + " × " + c;
            assertArrayEquals(expected, sums, 0d, what);
            for (int v : visits) {
                assertEquals(1, v, what + ": a chunk's channel summed once");
            }
        }
    }

    @Test
    void fewChunksAreSplitByWholeVectorsOfChannels() {
        int block = FloatBatchNorm.channelBlock(2, 1152);
        assertTrue(block < 1152 && block % LANES == 0 && block >= 4 * LANES, "block " + block);
        assertEquals(1152, FloatBatchNorm.channelBlock(400, 1152), "enough chunks: no split");
        assertEquals(40, FloatBatchNorm.channelBlock(2, 40), "too few channels to split");
    }

    @Test
    void rowTasksAreSharedEvenlyByTheThreads() {
        int threads = CpuThreads.parallelism();
        for (int rows : new int[]{392, 1568, 6272, 100352, 7}) {
            int grain = FloatBatchNorm.rowGrain(rows);
            int tasks = (rows + grain - 1) / grain;
            assertTrue(grain <= FloatBatchNorm.CHUNK_ROWS && grain >= 1, rows + " rows: grain " + grain);
            assertTrue(tasks % threads == 0 || rows < threads, rows + " rows: " + tasks + " tasks, " + threads
                    + " threads");
            assertTrue(grain * (tasks - 1) < rows, rows + " rows: no empty task");
        }
    }

    @Test
    void splitBatchNormsMatchTheReference() {
        // B0's 7² layers at batch 8 (two chunks, split by channels) and one chunk with a channel tail.
        for (Shape shape : new Shape[]{Shape.of(8, 7, 7, 1152), Shape.of(2, 7, 7, 100)}) {
            Generator gen = new Generator(9);
            int c = shape.dim(3);
            Tensor x = Init.normal(gen, shape, 0.3, 1.5, Device.CPU);
            Tensor dz = Init.normal(gen, shape, 0, 1, Device.CPU);
            Tensor w = Init.uniform(gen, Shape.of(c), 0.5, 1.5, Device.CPU);
            Tensor b = Init.normal(gen, Shape.of(c), 0, 0.5, Device.CPU);
            Tensor part = Init.normal(gen, Shape.of(shape.dim(0), 1, 1, c), 0, 1, Device.CPU);
            Backend.BatchNormResult f = CPU.batchNormSilu(x, w, b, 1e-3);
            Backend.BatchNormResult rf = REFERENCE.batchNormSilu(x.to(Device.REFERENCE), w.to(Device.REFERENCE),
                    b.to(Device.REFERENCE), 1e-3);
            assertClose(rf.output(), f.output(), "forward " + shape);
            assertClose(rf.variance(), f.variance(), "variance " + shape);
            Backend.BatchNormGrads g = CPU.batchNormSiluBackward(dz, part, x, w, b, f.mean(), f.invStd());
            Backend.BatchNormGrads rg = REFERENCE.batchNormSiluBackward(dz.to(Device.REFERENCE),
                    part.to(Device.REFERENCE), x.to(Device.REFERENCE), w.to(Device.REFERENCE),
                    b.to(Device.REFERENCE), rf.mean(), rf.invStd());
            assertClose(rg.input(), g.input(), "dx " + shape);
            assertClose(rg.weight(), g.weight(), "d weight " + shape);
            assertClose(rg.bias(), g.bias(), "d bias " + shape);
            Backend.BatchNormResult n = CPU.batchNorm(x, w, b, 1e-3);
            Backend.BatchNormGrads ng = CPU.batchNormBackward(dz, x, w, n.mean(), n.invStd());
            Backend.BatchNormResult rn = REFERENCE.batchNorm(x.to(Device.REFERENCE), w.to(Device.REFERENCE),
                    b.to(Device.REFERENCE), 1e-3);
            Backend.BatchNormGrads rng = REFERENCE.batchNormBackward(dz.to(Device.REFERENCE),
                    x.to(Device.REFERENCE), w.to(Device.REFERENCE), rn.mean(), rn.invStd());
            assertClose(rng.input(), ng.input(), "plain dx " + shape);
            assertClose(rng.weight(), ng.weight(), "plain d weight " + shape);
        }
    }
}
