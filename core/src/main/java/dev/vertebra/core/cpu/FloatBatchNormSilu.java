package dev.vertebra.core.cpu;

import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * z = silu(batchNorm(x)) over [rows, C] float32 activations, forward and backward, without the normalised tensor
 * y: the forward writes z only, the backward recomputes y from x and the saved statistics. Against batch norm then
 * SiLU this saves, per call, a tensor of x's size (allocated, written, kept until the backward and read back) and
 * the backward's dy temporary (the SiLU gradient is written into dx and finished there in place).
 *
 * <p>The row loops are static methods over arrays: they call {@link VectorExp#exp} inline, and no vector crosses
 * a call C2 might decline to inline (see {@link FloatExpKernels}).
 */
final class FloatBatchNormSilu {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private FloatBatchNormSilu() {
    }

    /**
     * @param x      input: [rows, C] from xOff; weight, bias [C]
     * @param z      output silu(x·scale + shift): [rows, C]; mean, var (biased), invStd: [C]
     */
    static void forward(float[] x, int xOff, int rows, int c, float[] weight, float[] bias, double eps,
                        float[] z, float[] mean, float[] var, float[] invStd) {
        float[] scale = new float[c];
        float[] shift = new float[c];
        FloatBatchNorm.statistics(x, xOff, rows, c, weight, bias, eps, mean, var, invStd, scale, shift);
        CpuThreads.parallelFor(0, rows, FloatBatchNorm.CHUNK_ROWS, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                forwardRow(x, xOff + r * c, z, r * c, c, scale, shift);
            }
        });
    }

    /** z[out + i] = silu(x[in + i]·scale[i] + shift[i]) for i &lt; c; silu(y) = y / (1 + e^−y). */
    private static void forwardRow(float[] x, int in, float[] z, int out, int c, float[] scale, float[] shift) {
        int i = 0;
        for (int end = S.loopBound(c); i < end; i += S.length()) {
            FloatVector y = FloatVector.fromArray(S, x, in + i).fma(FloatVector.fromArray(S, scale, i),
                    FloatVector.fromArray(S, shift, i));
            y.div(VectorExp.expOfNumbers(y.neg()).add(1f)).intoArray(z, out + i);
        }
        for (; i < c; i++) {
            z[out + i] = (float) UnaryOp.SILU.apply(x[in + i] * scale[i] + shift[i]);
        }
    }

    /**
     * @param dz [rows, C] from dzOff; x [rows, C] from xOff; weight, bias, mean, invStd [C]
     * @param dx [rows, C]; dWeight, dBias [C]
     */
    static void backward(float[] dz, int dzOff, float[] x, int xOff, int rows, int c, float[] weight, float[] bias,
                         float[] mean, float[] invStd, float[] dx, float[] dWeight, float[] dBias) {
        // dy = dz·silu'(y) goes into dx while [Σdy | Σdy·x̂] accumulate; the batch-norm backward then finishes
        // dx from it in place.
        double[] sums = FloatBatchNorm.chunkedSums(rows, 2 * c,
                (r0, r1, run, at) -> backwardRows(dz, dzOff, x, xOff, dx, r0, r1, c, weight, bias, mean, invStd,
                        run, at));
        FloatBatchNorm.finishBackward(dx, 0, x, xOff, rows, c, weight, mean, invStd, sums, dx, dWeight, dBias);
    }

    /**
     * Rows [r0, r1): y = x̂·w + b with x̂ = (x − mean)·invStd; dy = dz·σ(y)·(1 + y·σ(−y)) (one exp, as
     * {@link FloatExpKernels#siluGrad}) into dy (same layout as x, from 0); run[at, at + C) = Σdy and
     * run[at + C, at + 2C) = Σdy·x̂ in row order. A column vector at a time down the rows, its sums and per-channel
     * constants in registers.
     */
    private static void backwardRows(float[] dz, int dzOff, float[] x, int xOff, float[] dy, int r0, int r1, int c,
                                     float[] weight, float[] bias, float[] mean, float[] invStd, float[] run,
                                     int at) {
        int i = 0;
        for (int end = S.loopBound(c); i < end; i += S.length()) {
            FloatVector m = FloatVector.fromArray(S, mean, i);
            FloatVector is = FloatVector.fromArray(S, invStd, i);
            FloatVector w = FloatVector.fromArray(S, weight, i);
            FloatVector b = FloatVector.fromArray(S, bias, i);
            FloatVector sumDy = FloatVector.zero(S);
            FloatVector sumDyXhat = sumDy;
            for (int r = r0; r < r1; r++) {
                int el = r * c + i;
                FloatVector xhat = FloatVector.fromArray(S, x, xOff + el).sub(m).mul(is);
                FloatVector y = xhat.fma(w, b);
                FloatVector e = VectorExp.exp(y.neg());
                FloatVector s = FloatVector.broadcast(S, 1f).div(e.add(1f));
                FloatVector t = e.mul(s).blend(s.neg().add(1f), y.compare(VectorOperators.LT, 0f));
                FloatVector g = FloatVector.fromArray(S, dz, dzOff + el).mul(s.mul(y.mul(t).add(1f)));
                g.intoArray(dy, el);
                sumDy = g.add(sumDy);
                sumDyXhat = xhat.fma(g, sumDyXhat);
            }
            sumDy.intoArray(run, at + i);
            sumDyXhat.intoArray(run, at + c + i);
        }
        for (; i < c; i++) {
            float sumDy = 0f;
            float sumDyXhat = 0f;
            for (int r = r0; r < r1; r++) {
                int el = r * c + i;
                float xhat = (x[xOff + el] - mean[i]) * invStd[i];
                float g = (float) BinaryOp.SILU_GRAD.apply(xhat * weight[i] + bias[i], dz[dzOff + el]);
                dy[el] = g;
                sumDy += g;
                sumDyXhat += g * xhat;
            }
            run[at + i] = sumDy;
            run[at + c + i] = sumDyXhat;
        }
    }
}
