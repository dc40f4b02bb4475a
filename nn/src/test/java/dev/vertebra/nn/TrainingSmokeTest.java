package dev.vertebra.nn;

import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.nn.optim.GradClip;
import dev.vertebra.nn.optim.LrSchedule;
import dev.vertebra.nn.optim.Optimizer;
import dev.vertebra.nn.optim.ParamGroup;
import dev.vertebra.nn.optim.Sgd;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A small conv net learns a synthetic, separable image problem: dark noisy images (class 0) or bright ones (1). */
class TrainingSmokeTest {

    @Test
    void lossFallsClearly() {
        Generator gen = new Generator(42);
        Sequential net = new Sequential(
                new Conv2d(1, 4, 3, 2, Padding.same(), 1, 1, false, gen),
                new BatchNorm2d(4),
                new SiLU(),
                new AdaptiveAvgPool2d(),
                new Flatten(),
                new Linear(4, 2, true, gen));
        int n = 16;
        float[] pixels = new float[n * 8 * 8];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 2;
            for (int p = 0; p < 64; p++) {
                pixels[i * 64 + p] = (float) ((labels[i] == 1 ? 1.0 : -1.0) + 0.5 * gen.nextGaussian());
            }
        }
        Tensor x = Tensor.fromHost(new HostArray(DType.FLOAT32, new int[]{n, 8, 8, 1}, pixels), Device.CPU);
        Tensor y = Tensor.ofLongs(labels, n);
        Optimizer opt = new Sgd(ParamGroup.decayExceptNormAndBias(net, 0.1, 1e-4), 0.9, 0, true);
        LrSchedule schedule = new LrSchedule.WarmupCosine(0.1, 3, 40, 0.001);
        double first = 0;
        double last = 0;
        for (int step = 0; step < 40; step++) {
            opt.scheduleLr(schedule.lr(step));
            Tensor loss = Losses.crossEntropy(net.forward(x), y, 0, Reduction.MEAN);
            opt.zeroGrad();
            loss.backward();
            GradClip.clipByGlobalNorm(net.parameters(), 5.0);
            opt.step();
            if (step == 0) {
                first = loss.item();
            }
            last = loss.item();
        }
        assertTrue(first > 0.5, "initial loss near ln 2, got " + first);
        assertTrue(last < 0.2 * first, "loss fell from " + first + " to " + last);
    }
}
