package dev.vertebra.core.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class SgemmTest {

    static Stream<Arguments> shapes() {
        int[][] mnk = {
            {1, 1, 1}, {1, 17, 5}, {7, 1, 3}, {6, 32, 256}, {5, 31, 7}, {13, 65, 257}, {97, 101, 513},
            {200, 300, 70}, {391, 517, 31}, {2, 1000, 3}, {1000, 2, 11}, {64, 64, 600},
            {803, 97, 530}, {1200, 40, 33}, {770, 1090, 19},
        };
        Stream.Builder<Arguments> cases = Stream.builder();
        int seed = 0;
        for (int[] s : mnk) {
            for (int t = 0; t < 4; t++) {
                cases.add(Arguments.of(s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0, seed++));
            }
        }
        return cases.build();
    }

    @ParameterizedTest(name = "m={0} n={1} k={2} transA={3} transB={4}")
    @MethodSource("shapes")
    void matchesDoubleReference(int m, int n, int k, boolean transA, boolean transB, int seed) {
        Random random = new Random(seed);
        float[] alphas = {1f, 0.5f, -1.5f};
        float[] betas = {0f, 1f, 0.25f};
        float alpha = alphas[seed % 3];
        float beta = betas[(seed / 3) % 3];
        // Leading dimensions wider than the matrices and non-zero offsets, as views of larger buffers give.
        int lda = (transA ? m : k) + seed % 3;
        int ldb = (transB ? k : n) + seed % 2;
        int ldc = n + 1;
        int aOff = 3;
        int bOff = 1;
        int cOff = 2;
        float[] a = random(random, aOff + (transA ? k : m) * lda);
        float[] b = random(random, bOff + (transB ? n : k) * ldb);
        float[] c = random(random, cOff + m * ldc);
        float[] expectedInput = c.clone();

        Sgemm.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);

        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                double magnitude = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    double bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    sum += av * bv;
                    magnitude += Math.abs(av * bv);
                }
                double old = expectedInput[cOff + i * ldc + j];
                double expected = alpha * sum + beta * old;
                double tolerance = 1e-5 * Math.sqrt(k + 1) * (Math.abs(alpha) * magnitude + Math.abs(beta * old))
                        + 1e-6;
                assertEquals(expected, c[cOff + i * ldc + j], tolerance, "C[" + i + ", " + j + "]");
            }
            // Padding columns between rows (ldc > n) must be left untouched.
            assertEquals(expectedInput[cOff + i * ldc + n], c[cOff + i * ldc + n], "padding after row " + i);
        }
        assertEquals(expectedInput[0], c[0], "element before the offset");
    }

    @Test
    void betaZeroOverwritesNaN() {
        int m = 9;
        int n = 40;
        int k = 5;
        Random random = new Random(42);
        float[] a = random(random, m * k);
        float[] b = random(random, k * n);
        float[] c = new float[m * n];
        Arrays.fill(c, Float.NaN);
        Sgemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        for (float v : c) {
            assertTrue(Float.isFinite(v), "NaN leaked from C with beta = 0");
        }
    }

    @Test
    void emptyDepthScalesC() {
        float[] c = {1f, 2f, Float.NaN, 4f};
        Sgemm.sgemm(false, false, 2, 2, 0, 1f, new float[0], 0, 1, new float[0], 0, 2, 0.5f, c, 0, 2);
        assertEquals(0.5f, c[0]);
        assertEquals(2f, c[3]);
        float[] d = {1f, Float.NaN};
        Sgemm.sgemm(false, false, 1, 2, 0, 1f, new float[0], 0, 1, new float[0], 0, 2, 0f, d, 0, 2);
        assertEquals(0f, d[0]);
        assertEquals(0f, d[1]);
    }

    @ParameterizedTest(name = "batch={0} m={1} n={2} k={3} transA={4} transB={5}")
    @CsvSource({"5, 23, 37, 19, false, false", "4, 100, 70, 90, true, false", "3, 130, 45, 61, false, true"})
    void batchedWithSharedRightOperand(int batch, int m, int n, int k, boolean transA, boolean transB) {
        Random random = new Random(7 + m);
        // A_t stored [M, K] (or [K, M]) with a gap between items; one B for the whole batch.
        int strideA = m * k + 5;
        float[] a = random(random, batch * strideA);
        float[] b = random(random, k * n);
        float[] c = new float[batch * m * n];
        int lda = transA ? m : k;
        int ldb = transB ? k : n;
        Sgemm.sgemmBatched(batch, transA, transB, m, n, k, 1f, a, 0, lda, strideA, b, 0, ldb, 0,
                0f, c, 0, n, m * n);
        for (int t = 0; t < batch; t++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        double av = transA ? a[t * strideA + p * lda + i] : a[t * strideA + i * lda + p];
                        double bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                        sum += av * bv;
                    }
                    // Every term is at most 1 in magnitude, so k bounds the sum of their magnitudes.
                    assertEquals(sum, c[t * m * n + i * n + j], 1e-5 * Math.sqrt(k) * k,
                            "C_" + t + "[" + i + ", " + j + "]");
                }
            }
        }
    }

    @ParameterizedTest(name = "batch={0} m={1} n={2} k={3}")
    @CsvSource({"3, 23, 37, 19", "4, 300, 70, 530", "2, 900, 40, 33", "1, 800, 50, 300"})
    void rowScaledRightOperandIsTheProductWithAScaledCopy(int batch, int m, int n, int k) {
        Random random = new Random(11 + m);
        float[] a = random(random, batch * m * k);
        float[] b = random(random, 2 + k * n);
        float[] scale = random(random, 1 + batch * (k + 3)); // item t's row p at 1 + t·(k + 3) + p
        float[] c = new float[batch * m * n];
        Sgemm.sgemmBatchedRowScaledB(batch, m, n, k, a, 0, k, m * k, b, 2, n, scale, 1, k + 3, c, 0, n, m * n, null);

        // The same products with each item's B scaled into a copy first (one rounding per product, as packing).
        float[] scaled = new float[batch * k * n];
        for (int t = 0; t < batch; t++) {
            for (int p = 0; p < k; p++) {
                for (int j = 0; j < n; j++) {
                    scaled[(t * k + p) * n + j] = b[2 + p * n + j] * scale[1 + t * (k + 3) + p];
                }
            }
        }
        float[] expected = new float[c.length];
        Sgemm.sgemmBatched(batch, false, false, m, n, k, 1f, a, 0, k, m * k, scaled, 0, n, k * n, 0f, expected, 0, n,
                m * n);
        assertArrayEquals(expected, c);
        for (int t = 0; t < batch; t++) {
            for (int j = 0; j < n; j += 7) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) a[t * m * k + (m - 1) * k + p] * b[2 + p * n + j] * scale[1 + t * (k + 3) + p];
                }
                assertEquals(sum, c[t * m * n + (m - 1) * n + j], 1e-5 * Math.sqrt(k) * k, "C_" + t + " last row");
            }
        }
    }

    /**
     * The tile epilogue sees every element of C once, after its last K block: per tile, or per strip of six rows
     * when the last block's B panels fit L1 (short K); shared-B and per-task products, ragged rows and columns.
     */
    @ParameterizedTest(name = "m={0} n={1} k={2} transA={3}")
    @CsvSource({"100352, 96, 16, false", "1000, 40, 24, false", "803, 97, 530, false", "97, 101, 13, false",
            "50, 17, 300, true", "1200, 16, 33, true", "7, 1, 3, false"})
    void epilogueFinishesEveryElementOnceAfterItsLastBlock(int m, int n, int k, boolean transA) {
        Random random = new Random(m + n + k);
        float[] a = random(random, m * k);
        float[] b = random(random, k * n);
        float[] c = new float[m * n];
        int[] visits = new int[m * n];
        int lda = transA ? m : k;
        Sgemm.sgemm(transA, false, m, n, k, 1f, a, 0, lda, b, 0, n, 0f, c, 0, n, (item, i0, i1, j0, j1) -> {
            for (int i = i0; i < i1; i++) {
                for (int j = j0; j < j1; j++) {
                    visits[i * n + j]++;
                    c[i * n + j] = 2 * c[i * n + j] + 1;
                }
            }
        });
        for (int i = 0; i < m; i += Math.max(1, m / 97)) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                double magnitude = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[p * lda + i] : a[i * lda + p];
                    double product = av * b[p * n + j];
                    sum += product;
                    magnitude += Math.abs(product);
                }
                assertEquals(2 * sum + 1, c[i * n + j], 2e-5 * Math.sqrt(k) * magnitude + 1e-6, "C[" + i + ", " + j
                        + "]");
            }
        }
        for (int e = 0; e < visits.length; e++) {
            assertEquals(1, visits[e], "visits of element " + e);
        }
    }

    /**
     * A right operand packed once ({@link Sgemm#packB}) gives the unpacked product's bits, tile epilogue included,
     * whether the product runs on the pool or inside a parallel task (as a fused chain's row bands call it); with
     * K = 0 it overwrites C with zeros.
     */
    @ParameterizedTest(name = "m={0} n={1} k={2} transB={3}")
    @CsvSource({"196, 672, 112, false", "49, 1152, 192, false", "803, 97, 530, true", "1000, 40, 600, false",
            "13001, 96, 16, false", "4000, 144, 24, true", "7, 1, 3, true", "30, 33, 0, false"})
    void packedRightOperandGivesTheUnpackedProduct(int m, int n, int k, boolean transB) {
        Random random = new Random(5 + m + n + k);
        float[] a = random(random, m * k + 3);
        float[] b = random(random, k * n + 2);
        int ldb = transB ? k : n;
        float[] expected = new float[m * n];
        Sgemm.TileEpilogue none = (item, i0, i1, j0, j1) -> { };
        Sgemm.sgemm(false, transB, m, n, k, 1f, a, 3, Math.max(k, 1), b, 2, Math.max(ldb, 1), 0f, expected, 0, n);
        for (int e = 0; e < expected.length; e++) {
            expected[e] = 2 * expected[e] + 1;
        }
        float[] packed = new float[(int) Sgemm.packedSize(k, n) + 5];
        Sgemm.PackedB w = Sgemm.packB(transB, k, n, b, 2, Math.max(ldb, 1), packed);
        for (boolean nested : new boolean[]{false, true}) {
            float[] c = new float[m * n];
            Arrays.fill(c, Float.NaN);
            int[] visits = new int[m * n];
            Runnable product = () -> Sgemm.sgemm(m, n, k, a, 3, Math.max(k, 1), w, c, 0, n, (item, i0, i1, j0, j1) -> {
                for (int i = i0; i < i1; i++) {
                    for (int j = j0; j < j1; j++) {
                        visits[i * n + j]++;
                        c[i * n + j] = 2 * c[i * n + j] + 1;
                    }
                }
            });
            if (nested) {
                CpuThreads.parallelFor(0, 2, 1, (from, to) -> {
                    if (from == 0) {
                        product.run();
                    }
                });
            } else {
                product.run();
            }
            assertArrayEquals(expected, c, nested ? "inside a parallel task" : "on the pool");
            for (int e = 0; e < visits.length; e++) {
                assertEquals(1, visits[e], "visits of element " + e);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Sgemm.sgemm(m, n + 1, k, a, 3, Math.max(k, 1), w,
                new float[m * (n + 1)], 0, n + 1, none));
    }

    @Test
    void rejectsArraysTooShortOrBadLeadingDimension() {
        float[] small = new float[10];
        assertThrows(IllegalArgumentException.class,
                () -> Sgemm.sgemm(false, false, 4, 4, 4, 1f, small, 0, 4, new float[16], 0, 4,
                        0f, new float[16], 0, 4));
        assertThrows(IllegalArgumentException.class,
                () -> Sgemm.sgemm(false, false, 2, 4, 4, 1f, new float[16], 0, 3, new float[16], 0, 4,
                        0f, new float[16], 0, 4));
        assertThrows(IllegalArgumentException.class,
                () -> Sgemm.sgemm(false, false, -1, 4, 4, 1f, small, 0, 4, small, 0, 4, 0f, small, 0, 4));
    }

    static float[] random(Random random, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }
}
