package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batch normalisation over the channel (last, contiguous) dimension of float32 activations viewed as
 * {@code [rows, C]} (rows = N·H·W for NHWC). Statistics are accumulated per fixed chunk of rows in float and
 * merged in double in a fixed order, so results are accurate and independent of thread timing.
 */
final class FloatBatchNorm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHUNK_ROWS = 256;

    private FloatBatchNorm() {
    }

    /**
     * @param x      input: [rows, C] from xOff
     * @param weight [C]; bias [C]
     * @param y      output: [rows, C]; mean, var (biased), invStd: [C]
     */
    static void forward(float[] x, int xOff, int rows, int c, float[] weight, float[] bias, double eps,
                        float[] y, float[] mean, float[] var, float[] invStd) {
        float[] sums = new float[c];
        FloatReduce.reduce(dev.vertebra.core.ReduceOp.SUM, x, xOff, 1, rows, c, sums);
        for (int ch = 0; ch < c; ch++) {
            mean[ch] = sums[ch] / rows;
        }
        double[] sq = columnSums(rows, c, (r, run) -> {
            int row = xOff + r * c;
            int i = 0;
            for (int end = S.loopBound(c); i < end; i += S.length()) {
                FloatVector d = FloatVector.fromArray(S, x, row + i).sub(FloatVector.fromArray(S, mean, i));
                d.fma(d, FloatVector.fromArray(S, run, i)).intoArray(run, i);
            }
            for (; i < c; i++) {
                float d = x[row + i] - mean[i];
                run[i] += d * d;
            }
        });
        float[] scale = new float[c];
        float[] shift = new float[c];
        for (int ch = 0; ch < c; ch++) {
            var[ch] = (float) (sq[ch] / rows);
            double is = 1 / Math.sqrt(sq[ch] / rows + eps);
            invStd[ch] = (float) is;
            scale[ch] = (float) (is * weight[ch]);
            shift[ch] = (float) (bias[ch] - mean[ch] * is * weight[ch]);
        }
        CpuThreads.parallelFor(0, rows, CHUNK_ROWS, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int in = xOff + r * c;
                int out = r * c;
                int i = 0;
                for (int end = S.loopBound(c); i < end; i += S.length()) {
                    FloatVector.fromArray(S, x, in + i).fma(FloatVector.fromArray(S, scale, i),
                            FloatVector.fromArray(S, shift, i)).intoArray(y, out + i);
                }
                for (; i < c; i++) {
                    y[out + i] = x[in + i] * scale[i] + shift[i];
                }
            }
        });
    }

    /**
     * @param dy [rows, C] from dyOff; x [rows, C] from xOff; weight, mean, invStd [C]
     * @param dx [rows, C]; dWeight, dBias [C]
     */
    static void backward(float[] dy, int dyOff, float[] x, int xOff, int rows, int c, float[] weight,
                         float[] mean, float[] invStd, float[] dx, float[] dWeight, float[] dBias) {
        float[] sumDy = new float[c];
        FloatReduce.reduce(dev.vertebra.core.ReduceOp.SUM, dy, dyOff, 1, rows, c, sumDy);
        double[] sumDyXhat = columnSums(rows, c, (r, run) -> {
            int gr = dyOff + r * c;
            int xr = xOff + r * c;
            int i = 0;
            for (int end = S.loopBound(c); i < end; i += S.length()) {
                FloatVector xhat = FloatVector.fromArray(S, x, xr + i).sub(FloatVector.fromArray(S, mean, i))
                        .mul(FloatVector.fromArray(S, invStd, i));
                xhat.fma(FloatVector.fromArray(S, dy, gr + i), FloatVector.fromArray(S, run, i)).intoArray(run, i);
            }
            for (; i < c; i++) {
                run[i] += dy[gr + i] * (x[xr + i] - mean[i]) * invStd[i];
            }
        });
        float[] k = new float[c];       // w·invStd
        float[] meanDy = new float[c];  // Σdy / M
        float[] meanDyXhat = new float[c];
        for (int ch = 0; ch < c; ch++) {
            dWeight[ch] = (float) sumDyXhat[ch];
            dBias[ch] = sumDy[ch];
            k[ch] = weight[ch] * invStd[ch];
            meanDy[ch] = sumDy[ch] / rows;
            meanDyXhat[ch] = (float) (sumDyXhat[ch] / rows);
        }
        CpuThreads.parallelFor(0, rows, CHUNK_ROWS, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int gr = dyOff + r * c;
                int xr = xOff + r * c;
                int out = r * c;
                int i = 0;
                for (int end = S.loopBound(c); i < end; i += S.length()) {
                    FloatVector xhat = FloatVector.fromArray(S, x, xr + i).sub(FloatVector.fromArray(S, mean, i))
                            .mul(FloatVector.fromArray(S, invStd, i));
                    FloatVector.fromArray(S, dy, gr + i).sub(FloatVector.fromArray(S, meanDy, i))
                            .sub(xhat.mul(FloatVector.fromArray(S, meanDyXhat, i)))
                            .mul(FloatVector.fromArray(S, k, i)).intoArray(dx, out + i);
                }
                for (; i < c; i++) {
                    float xhat = (x[xr + i] - mean[i]) * invStd[i];
                    dx[out + i] = k[i] * (dy[gr + i] - meanDy[i] - xhat * meanDyXhat[i]);
                }
            }
        });
    }

    @FunctionalInterface
    private interface RowAccumulator {
        /** Adds row {@code r}'s contribution to {@code run} ([C]). */
        void add(int r, float[] run);
    }

    /** Per-channel sums of a per-row quantity: float within chunks of rows, double across chunks, fixed order. */
    private static double[] columnSums(int rows, int c, RowAccumulator rowBody) {
        int chunks = (rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
        float[][] partial = new float[chunks][];
        CpuThreads.parallelFor(0, chunks, 1, (c0, c1) -> {
            for (int t = c0; t < c1; t++) {
                float[] run = new float[c];
                for (int r = t * CHUNK_ROWS, end = Math.min(rows, r + CHUNK_ROWS); r < end; r++) {
                    rowBody.add(r, run);
                }
                partial[t] = run;
            }
        });
        double[] total = new double[c];
        for (float[] p : partial) {
            for (int ch = 0; ch < c; ch++) {
                total[ch] += p[ch];
            }
        }
        return total;
    }
}
