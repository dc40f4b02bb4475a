package dev.vertebra.nn;

import dev.vertebra.core.Autocast;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Precision;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.nn.optim.AdamW;
import dev.vertebra.nn.optim.GradClip;
import dev.vertebra.nn.optim.LossScaler;
import dev.vertebra.nn.optim.Optimizer;
import dev.vertebra.nn.optim.ParamGroup;
import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same short training run (a small conv net on a synthetic four-class image problem) in every precision: the
 * loss falls in each, and the bfloat16 and float16 curves stay close to the float32 one.
 */
class MixedPrecisionTrainingTest {
    private static final int STEPS = 30;
    private static final int N = 32;

    /** Class k: a bright k-th quadrant in noise. */
    private static Tensor[] data() {
        Generator gen = new Generator(11);
        float[] pixels = new float[N * 8 * 8 * 2];
        long[] labels = new long[N];
        for (int i = 0; i < N; i++) {
            labels[i] = i % 4;
            for (int r = 0; r < 8; r++) {
                for (int c = 0; c < 8; c++) {
                    int quadrant = (r / 4) * 2 + c / 4;
                    for (int ch = 0; ch < 2; ch++) {
                        pixels[((i * 8 + r) * 8 + c) * 2 + ch] = (float) ((quadrant == labels[i] ? 1.5 : 0)
                                + 0.7 * gen.nextGaussian());
                    }
                }
            }
        }
        return new Tensor[]{Tensor.fromHost(new HostArray(DType.FLOAT32, new int[]{N, 8, 8, 2}, pixels), Device.CPU),
                Tensor.ofLongs(labels, N)};
    }

    private static double[] train(Precision precision) {
        Generator gen = new Generator(5);
        Sequential net = new Sequential(
                new Conv2d(2, 8, 3, 1, Padding.same(), 1, 1, false, gen),
                new BatchNorm2d(8),
                new SiLU(),
                new Conv2d(8, 16, 3, 2, Padding.same(), 1, 1, false, gen),
                new BatchNorm2d(16),
                new SiLU(),
                new Flatten(),
                new Linear(16 * 4 * 4, 4, true, gen));
        Optimizer opt = new AdamW(ParamGroup.decayExceptNormAndBias(net, 3e-3, 1e-4), 0.9, 0.999, 1e-8);
        LossScaler scaler = LossScaler.forPrecision(precision);
        Tensor[] xy = data();
        double[] losses = new double[STEPS];
        int skipped = 0;
        for (int taken = 0; taken < STEPS; ) {
            Tensor loss;
            try (Autocast _ = precision.autocast()) {
                loss = Losses.crossEntropy(net.forward(xy[0]), xy[1], 0, Reduction.MEAN);
            }
            opt.zeroGrad();
            scaler.scale(loss).backward();
            scaler.unscale(opt);
            GradClip.clipByGlobalNorm(net.parameters(), 5.0);
            if (scaler.step(opt)) {
                // A skipped step leaves the parameters as they were: curves are compared by steps taken.
                losses[taken++] = loss.item();
            } else {
                skipped++;
                assertEquals(0, taken, precision + ": overflow only while the initial scale is too large");
            }
            scaler.update();
        }
        for (Parameter p : net.parameters()) {
            assertEquals(DType.FLOAT32, p.data().dtype(), "master weights stay float32");
        }
        if (precision == Precision.FP16) {
            // 2¹⁶ lets float16 weight gradients overflow at first; the scaler backs off until they fit.
            assertTrue(skipped >= 1 && skipped <= 8, "skipped " + skipped);
            assertEquals(65536 / Math.pow(2, skipped), scaler.currentScale());
            System.out.println("fp16: " + skipped + " steps skipped at the start, scale " + scaler.currentScale());
        } else {
            assertEquals(0, skipped);
            assertEquals(1, scaler.currentScale());
        }
        return losses;
    }

    @Test
    void lossFallsInEveryPrecisionAndTheLowOnesTrackFloat32() {
        Map<Precision, double[]> curves = new EnumMap<>(Precision.class);
        for (Precision p : Precision.values()) {
            curves.put(p, train(p));
        }
        double[] fp32 = curves.get(Precision.FP32);
        StringBuilder table = new StringBuilder("step  fp32      tf32      bf16      fp16");
        for (int s = 0; s < STEPS; s += 5) {
            table.append(String.format("%n%4d", s));
            for (Precision p : Precision.values()) {
                table.append(String.format("  %.5f", curves.get(p)[s]));
            }
        }
        table.append(String.format("%n%4d", STEPS - 1));
        for (Precision p : Precision.values()) {
            table.append(String.format("  %.5f", curves.get(p)[STEPS - 1]));
        }
        System.out.println(table);
        assertTrue(fp32[0] > 1.0, "starts well above its end: " + table);
        for (Precision p : Precision.values()) {
            double[] c = curves.get(p);
            assertTrue(c[STEPS - 1] < 0.25 * c[0], p + ": loss fell\n" + table);
            for (int s = 0; s < STEPS; s++) {
                double gap = Math.abs(c[s] - fp32[s]);
                double bound = p == Precision.TF32 ? 0 : 0.03 * fp32[s] + 1e-3;
                assertTrue(gap <= bound, p + " at step " + s + ": " + c[s] + " vs fp32 " + fp32[s] + "\n" + table);
            }
        }
    }
}
