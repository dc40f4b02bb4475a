package dev.vertebra.cuda;

import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.DType;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

import java.util.Locale;

/**
 * Not a test: a timing probe that {@code gpu-check.sh} runs after the tests. For EfficientNet-B0's convolution
 * kinds at batch 32 and 224² input (stem, depthwise 3×3 and 5×5, strided, pointwise expand/project, head), it
 * prints the GPU milliseconds of forward, backward data and backward filter on cuDNN and on the own kernels,
 * measured with events on the backend's stream, side by side in one process. Arguments: batch size (default 32).
 */
public final class ConvTiming {
    private ConvTiming() {
    }

    private record Layer(String name, int h, int w, int cin, int k, int cout, ConvSpec spec) {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        CudaBackend gpu = (CudaBackend) Backends.get(GpuFixture.CUDA);
        System.out.println(gpu.description());
        Layer[] layers = {
            new Layer("stem 3x3 s2 3→32 @224", 224, 224, 3, 3, 32, ConvSpec.same(224, 224, 3, 3, 2, 1, 1)),
            new Layer("dw 3x3 s1 32 @112", 112, 112, 32, 3, 32, ConvSpec.same(112, 112, 3, 3, 1, 1, 32)),
            new Layer("pw 1x1 32→16 @112", 112, 112, 32, 1, 16, ConvSpec.of(1, 0, 1, 1)),
            new Layer("pw 1x1 16→96 @112", 112, 112, 16, 1, 96, ConvSpec.of(1, 0, 1, 1)),
            new Layer("dw 3x3 s2 96 @112", 112, 112, 96, 3, 96, ConvSpec.same(112, 112, 3, 3, 2, 1, 96)),
            new Layer("pw 1x1 24→144 @56", 56, 56, 24, 1, 144, ConvSpec.of(1, 0, 1, 1)),
            new Layer("dw 5x5 s1 240 @28", 28, 28, 240, 5, 240, ConvSpec.same(28, 28, 5, 5, 1, 1, 240)),
            new Layer("pw 1x1 480→80 @14", 14, 14, 480, 1, 80, ConvSpec.of(1, 0, 1, 1)),
            new Layer("head 1x1 320→1280 @7", 7, 7, 320, 1, 1280, ConvSpec.of(1, 0, 1, 1)),
        };
        System.out.printf(Locale.ROOT, "%-24s %28s %28s%n", "layer (batch " + n + ")", "cuDNN fwd/dx/dw ms",
                "own kernels fwd/dx/dw ms");
        double[] total = new double[2];
        for (Layer l : layers) {
            Tensor x = gpu.full(Shape.of(n, l.h(), l.w(), l.cin()), DType.FLOAT32, 0.5);
            Tensor w = gpu.full(Shape.of(l.k(), l.k(), l.cin() / l.spec().groups(), l.cout()), DType.FLOAT32, 0.01);
            Tensor y = gpu.conv2d(x, w, l.spec());
            Tensor dy = gpu.full(y.shape(), DType.FLOAT32, 0.1);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-24s", l.name()));
            for (int path = 0; path < 2; path++) {
                boolean active = gpu.useCudnn(path == 0);
                if (path == 0 && !active) {
                    line.append(String.format(Locale.ROOT, " %28s", "(no cuDNN)"));
                    continue;
                }
                double f = time(gpu, () -> gpu.conv2d(x, w, l.spec()));
                double d = time(gpu, () -> gpu.conv2dBackwardInput(dy, w, x.shape(), l.spec()));
                double g = time(gpu, () -> gpu.conv2dBackwardWeight(x, dy, w.shape(), l.spec()));
                total[path] += f + d + g;
                line.append(String.format(Locale.ROOT, " %8.3f %8.3f %8.3f  ", f, d, g));
            }
            gpu.useCudnn(true);
            System.out.println(line);
        }
        System.out.printf(Locale.ROOT, "total fwd+dx+dw: cuDNN %.3f ms, own kernels %.3f ms%n", total[0], total[1]);
    }

    /**
     * Median of 7 timed runs after 2 warm-up runs (the first also picks cuDNN's algorithm), each in a memory scope
     * as a training step's ops are: results go back to the allocator's cache, so no run waits on a driver allocation.
     */
    static double time(CudaBackend gpu, Runnable op) {
        for (int i = 0; i < 2; i++) {
            try (MemoryScope _ = MemoryScope.open()) {
                op.run();
            }
        }
        double[] t = new double[7];
        for (int i = 0; i < t.length; i++) {
            try (MemoryScope _ = MemoryScope.open()) {
                t[i] = gpu.timeMillis(op);
            }
        }
        java.util.Arrays.sort(t);
        return t[t.length / 2];
    }
}
