package dev.vertebra.cuda;

import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.DType;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

/**
 * Not a test: a short workload for a kernel profiler ({@code cuda/gpu-ncu.sh} runs it under Nsight Compute). At
 * batch 64 it runs, twice each (the first also compiles the kernels), batch norm + SiLU forward and backward on a
 * 96-channel 112² activation and the depthwise 3×3 (stride 1, 96 channels, 112²) and 5×5 (240 channels, 28²)
 * convolutions forward and backward, once on the default kernels and once on the alternatives under test (the
 * depthwise run kernels, batch norm's fast kernels), so that each kernel's duration, memory throughput and occupancy
 * can be read against the fewest bytes it must move.
 * Arguments: batch size (default 64).
 */
public final class KernelProfile {
    private KernelProfile() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        CudaBackend gpu = (CudaBackend) Backends.get(GpuFixture.CUDA);
        Generator gen = new Generator(5);
        Tensor x = Init.normal(gen, Shape.of(n, 112, 112, 96), 0.5, 1.0, GpuFixture.CUDA);
        Tensor dy = Init.normal(gen, x.shape(), 0.0, 1.0, GpuFixture.CUDA);
        Tensor w = gpu.full(Shape.of(96), DType.FLOAT32, 1.1);
        Tensor b = gpu.full(Shape.of(96), DType.FLOAT32, 0.1);
        Tensor dw3 = Init.normal(gen, Shape.of(3, 3, 1, 96), 0, 0.1, GpuFixture.CUDA);
        ConvSpec s3 = ConvSpec.same(112, 112, 3, 3, 1, 1, 96);
        Tensor x5 = Init.normal(gen, Shape.of(n, 28, 28, 240), 0.5, 1.0, GpuFixture.CUDA);
        Tensor dy5 = Init.normal(gen, x5.shape(), 0.0, 1.0, GpuFixture.CUDA);
        Tensor dw5 = Init.normal(gen, Shape.of(5, 5, 1, 240), 0, 0.1, GpuFixture.CUDA);
        ConvSpec s5 = ConvSpec.same(28, 28, 5, 5, 1, 1, 240);
        for (int round = 0; round < 4; round++) {
            // Rounds 0 and 1 on the default kernels, 2 and 3 on the alternatives (kernels with names of their own).
            gpu.useDepthwiseRuns(round >= 2);
            gpu.useFastBatchNorm(round >= 2);
            try (MemoryScope _ = MemoryScope.open()) {
                var r = gpu.batchNormSilu(x, w, b, 1e-3);
                gpu.batchNormSiluBackward(dy, x, w, b, r.mean(), r.invStd());
                gpu.conv2d(x, dw3, s3);
                gpu.conv2dBackwardInput(dy, dw3, x.shape(), s3);
                gpu.conv2dBackwardWeight(x, dy, dw3.shape(), s3);
                gpu.conv2d(x5, dw5, s5);
                gpu.conv2dBackwardInput(dy5, dw5, x5.shape(), s5);
                gpu.conv2dBackwardWeight(x5, dy5, dw5.shape(), s5);
                gpu.synchronize();
            }
        }
        System.out.println("kernel profile workload done (batch " + n + ")");
    }
}
