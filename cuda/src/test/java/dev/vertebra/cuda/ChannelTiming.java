package dev.vertebra.cuda;

import dev.vertebra.core.Backends;
import dev.vertebra.core.DType;
import dev.vertebra.core.Init;
import dev.vertebra.core.ReduceOp;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.Generator;

import java.util.Locale;

/**
 * Not a test: a timing probe that {@code gpu-check.sh} runs after the tests. For EfficientNet-B0's batch-norm
 * shapes (and its squeeze-excitation pooling) at batch 64, it prints the GPU milliseconds of batch norm + SiLU
 * forward and backward, a sum over H and W, and a sum of products over H and W, on the column kernels, on their fast
 * batch-norm kernels (batch norm only) and on the legacy ones, measured with events on the backend's stream, side by
 * side in one process, with the column kernels' rate in GB/s over the fewest bytes each op must move. Arguments:
 * batch size (default 64).
 */
public final class ChannelTiming {
    private ChannelTiming() {
    }

    private record Layer(int h, int w, int c) {
        String name() {
            return c + " @" + h;
        }
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        CudaBackend gpu = (CudaBackend) Backends.get(GpuFixture.CUDA);
        System.out.println(gpu.description());
        Layer[] layers = {new Layer(112, 112, 32), new Layer(112, 112, 96), new Layer(56, 56, 144),
                new Layer(28, 28, 240), new Layer(14, 14, 672), new Layer(7, 7, 1152), new Layer(7, 7, 1280)};
        System.out.printf(Locale.ROOT, "%-12s %38s %38s %28s %28s%n", "batch " + n,
                "BN+SiLU fwd ms (GB/s) / fast / legacy", "BN+SiLU bwd ms (GB/s) / fast / legacy",
                "sum over HW ms (GB/s) / legacy", "Σ x·y over HW ms / legacy");
        // Paths: the column kernels as they are, their fast batch norm, the legacy kernels.
        String[] paths = {"column kernels", "fast batch norm", "legacy"};
        double[] total = new double[paths.length];
        boolean fastBefore = gpu.fastBatchNorm();
        Generator gen = new Generator(7);
        for (Layer l : layers) {
            Shape shape = Shape.of(n, l.h(), l.w(), l.c());
            Shape cs = Shape.of(l.c());
            Tensor x = Init.normal(gen, shape, 0.5, 1.0, GpuFixture.CUDA);
            Tensor dy = Init.normal(gen, shape, 0.0, 1.0, GpuFixture.CUDA);
            Tensor w = gpu.full(cs, DType.FLOAT32, 1.1);
            Tensor b = gpu.full(cs, DType.FLOAT32, 0.1);
            var r = gpu.batchNormSilu(x, w, b, 1e-3);
            double bytes = 4.0 * shape.numel();
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-12s", l.name()));
            double[][] ms = new double[4][paths.length];
            for (int path = 0; path < paths.length; path++) {
                gpu.useColumnKernels(path != 2);
                gpu.useFastBatchNorm(path == 1);
                ms[0][path] = ConvTiming.time(gpu, () -> gpu.batchNormSilu(x, w, b, 1e-3));
                ms[1][path] = ConvTiming.time(gpu, () -> gpu.batchNormSiluBackward(dy, x, w, b, r.mean(), r.invStd()));
                if (path != 1) {
                    ms[2][path] = ConvTiming.time(gpu, () -> gpu.reduce(ReduceOp.SUM, x, new int[]{1, 2}, true));
                    ms[3][path] = ConvTiming.time(gpu, () -> gpu.mulSum(x, dy, new int[]{1, 2}, true));
                }
                total[path] += ms[0][path] + ms[1][path];
            }
            gpu.useColumnKernels(true);
            gpu.useFastBatchNorm(fastBefore);
            // Fewest bytes: forward reads x twice (moments, then normalise) and writes y; backward reads dy and x
            // twice and writes dx; the sums read their inputs once.
            double[] passes = {3, 5, 1, 2};
            for (int op = 0; op < 4; op++) {
                double rate = passes[op] * bytes / (ms[op][0] * 1e6);
                line.append(op < 2
                        ? String.format(Locale.ROOT, " %8.3f (%5.0f) / %8.3f / %8.3f  ", ms[op][0], rate, ms[op][1],
                                ms[op][2])
                        : String.format(Locale.ROOT, " %8.3f (%5.0f) / %8.3f  ", ms[op][0], rate, ms[op][2]));
            }
            System.out.println(line);
        }
        StringBuilder totals = new StringBuilder("total BN+SiLU fwd+bwd:");
        for (int path = 0; path < paths.length; path++) {
            totals.append(String.format(Locale.ROOT, "%s %s %.3f ms", path == 0 ? "" : ",", paths[path], total[path]));
        }
        System.out.println(totals);
    }
}
