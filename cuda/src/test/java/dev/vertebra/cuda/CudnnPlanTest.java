package dev.vertebra.cuda;

import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemoryLayout.PathElement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs everywhere: the host-side pieces of the cuDNN path (geometry, padding split, struct layout, switches). */
class CudnnPlanTest {

    @Test
    void symmetricPaddingIsLeftToCudnn() {
        CudnnConvolutions.Problem p = CudnnConvolutions.Problem.of(Shape.of(2, 9, 8, 4), Shape.of(3, 3, 4, 8),
                ConvSpec.of(2, 1, 1, 1));
        assertFalse(p.explicitPadding());
        assertEquals(1, p.key().padH());
        assertEquals(1, p.key().padW());
        assertEquals(Shape.of(2, 9, 8, 4), p.inputShape());
        assertEquals(Shape.of(2, 5, 4, 8), p.outputShape());
        assertEquals(Shape.of(8, 3, 3, 4), p.krscShape());
    }

    @Test
    void tensorflowSamePaddingPadsTheExtraRowExplicitly() {
        ConvSpec same = ConvSpec.same(224, 224, 3, 3, 2, 1, 1);
        assertEquals(0, same.padTop());
        assertEquals(1, same.padBottom());
        CudnnConvolutions.Problem p = CudnnConvolutions.Problem.of(Shape.of(1, 224, 224, 3), Shape.of(3, 3, 3, 32),
                same);
        assertTrue(p.explicitPadding());
        assertEquals(0, p.top());
        assertEquals(1, p.bottom());
        assertEquals(0, p.key().padH());
        assertEquals(Shape.of(1, 225, 225, 3), p.inputShape());
        assertEquals(Shape.of(1, 112, 112, 32), p.outputShape());
        // What cuDNN computes on the padded input with symmetric padding 0 is the same size.
        int k = p.key().kh();
        assertEquals(112, (p.key().h() + 2 * p.key().padH() - k) / p.key().strideH() + 1);
        CudnnConvolutions.Problem five = CudnnConvolutions.Problem.of(Shape.of(1, 7, 7, 4), Shape.of(5, 5, 4, 4),
                new ConvSpec(1, 1, 1, 3, 2, 2, 1, 1, 1));
        assertEquals(1, five.key().padH());
        assertEquals(2, five.key().padW());
        assertEquals(0, five.top());
        assertEquals(2, five.bottom());
        assertEquals(0, five.left() + five.right());
    }

    @Test
    void depthwiseIsRecognised() {
        assertTrue(ConvolutionOps.depthwise(Shape.of(3, 3, 1, 32), ConvSpec.of(1, 1, 1, 16)), "multiplier 2");
        assertTrue(ConvolutionOps.depthwise(Shape.of(5, 5, 1, 16), ConvSpec.of(1, 2, 1, 16)));
        assertFalse(ConvolutionOps.depthwise(Shape.of(3, 3, 4, 32), ConvSpec.of(1, 1, 1, 4)), "grouped");
        assertFalse(ConvolutionOps.depthwise(Shape.of(3, 3, 16, 32), ConvSpec.of(1, 1, 1, 1)), "dense");
    }

    @Test
    void dataTypeAndMathTypeAreOnePlanEach() {
        Shape x = Shape.of(2, 9, 8, 4);
        Shape w = Shape.of(3, 3, 4, 8);
        ConvSpec spec = ConvSpec.of(1, 1, 1, 1);
        CudnnConvolutions.Key fma = CudnnConvolutions.Problem.of(x, w, spec).key();
        assertEquals(Cudnn.DATA_FLOAT, fma.dataType());
        assertEquals(Cudnn.FMA_MATH, fma.mathType());
        CudnnConvolutions.Key tf32 = CudnnConvolutions.Problem.of(x, w, spec, DType.FLOAT32, true).key();
        assertEquals(Cudnn.DEFAULT_MATH, tf32.mathType(), "TF32 allowed: cuDNN may pick tensor-core kernels");
        CudnnConvolutions.Key bf16 = CudnnConvolutions.Problem.of(x, w, spec, DType.BFLOAT16, false).key();
        assertEquals(Cudnn.DATA_BFLOAT16, bf16.dataType());
        assertEquals(Cudnn.TENSOR_OP_MATH, bf16.mathType());
        CudnnConvolutions.Key f16 = CudnnConvolutions.Problem.of(x, w, spec, DType.FLOAT16, true).key();
        assertEquals(Cudnn.DATA_HALF, f16.dataType());
        assertEquals(4, java.util.Set.of(fma, tf32, bf16, f16).size(), "four distinct plans");
        assertNull(CudnnConvolutions.Problem.of(x, w, spec, DType.FLOAT64, false), "float64 stays on own kernels");
    }

    @Test
    void emptyAndInconsistentProblemsAreDeclined() {
        assertNull(CudnnConvolutions.Problem.of(Shape.of(0, 5, 5, 3), Shape.of(3, 3, 3, 4), ConvSpec.of(1, 1, 1, 1)));
        assertNull(CudnnConvolutions.Problem.of(Shape.of(1, 2, 2, 3), Shape.of(5, 5, 3, 4), ConvSpec.of(1, 0, 1, 1)));
        assertNull(CudnnConvolutions.Problem.of(Shape.of(1, 5, 5, 3), Shape.of(3, 3, 1, 4), ConvSpec.of(1, 1, 1, 3)));
    }

    @Test
    void perfStructMatchesTheCLayout() {
        assertEquals(48, Cudnn.PERF.byteSize());
        assertEquals(8, Cudnn.PERF.byteOffset(PathElement.groupElement("time")));
        assertEquals(16, Cudnn.PERF.byteOffset(PathElement.groupElement("memory")));
        assertEquals(24, Cudnn.PERF.byteOffset(PathElement.groupElement("determinism")));
        assertEquals(28, Cudnn.PERF.byteOffset(PathElement.groupElement("mathType")));
    }

    @Test
    void preciseAlgorithmsExcludeTransforms() {
        assertTrue(Cudnn.Direction.FORWARD.precise(1));
        assertFalse(Cudnn.Direction.FORWARD.precise(4), "FFT");
        assertFalse(Cudnn.Direction.FORWARD.precise(6), "Winograd");
        assertTrue(Cudnn.Direction.BACKWARD_DATA.precise(1));
        assertFalse(Cudnn.Direction.BACKWARD_DATA.precise(5), "Winograd non-fused");
        assertTrue(Cudnn.Direction.BACKWARD_FILTER.precise(3));
        assertFalse(Cudnn.Direction.BACKWARD_FILTER.precise(2), "FFT");
        assertFalse(Cudnn.Direction.BACKWARD_FILTER.precise(6), "FFT tiling");
    }

    @Test
    void switchesAndVersionText() {
        assertTrue(CudnnSettings.switchedOff("0"));
        assertTrue(CudnnSettings.switchedOff(" False "));
        assertTrue(CudnnSettings.switchedOff("off"));
        assertFalse(CudnnSettings.switchedOff("true"));
        assertEquals("9.13.0", Cudnn.versionText(91300));
        assertEquals("9.1.1", Cudnn.versionText(90101));
        CudnnSettings defaults = CudnnSettings.fromSystem();
        assertTrue(defaults.exhaustiveSearch());
        assertFalse(defaults.allAlgorithms());
        assertEquals(1024L << 20, defaults.workspaceLimit());
        assertFalse(defaults.depthwise());
        assertFalse(defaults.pointwise());
        assertFalse(defaults.batchNorm());
    }

    @Test
    void depthwiseStaysOnTheOwnKernelsUnlessAsked() {
        CudnnSettings defaults = CudnnSettings.fromSystem();
        ConvSpec depthwise = ConvSpec.of(1, 1, 1, 32);
        Shape dw = Shape.of(3, 3, 1, 32);
        assertFalse(defaults.routesToCudnn(dw, depthwise));
        assertTrue(defaults.routesToCudnn(Shape.of(3, 3, 4, 32), ConvSpec.of(1, 1, 1, 8)),
                "grouped, not depthwise: cuDNN");
        assertTrue(defaults.routesToCudnn(Shape.of(3, 3, 4, 32), ConvSpec.of(1, 1, 1, 1)), "dense 3x3");
        CudnnSettings asked = new CudnnSettings(true, false, 0, true, false, false);
        assertTrue(asked.routesToCudnn(dw, depthwise));
    }

    @Test
    void pointwiseConvolutionsAreGemmsUnlessAsked() {
        CudnnSettings defaults = CudnnSettings.fromSystem();
        Shape w = Shape.of(1, 1, 32, 64);
        ConvSpec pointwise = ConvSpec.of(1, 0, 1, 1);
        assertFalse(defaults.routesToCudnn(w, pointwise), "1x1: cuBLAS");
        assertTrue(defaults.routesToCudnn(w, ConvSpec.of(2, 0, 1, 1)), "1x1 stride 2: cuDNN");
        assertTrue(defaults.routesToCudnn(w, ConvSpec.of(1, 1, 1, 1)), "1x1 padded: cuDNN");
        assertTrue(defaults.routesToCudnn(Shape.of(1, 1, 8, 64), ConvSpec.of(1, 0, 1, 4)), "1x1 grouped: cuDNN");
        CudnnSettings asked = new CudnnSettings(true, false, 0, false, true, false);
        assertTrue(asked.routesToCudnn(w, pointwise));
    }

    @Test
    void onlyMatchingFloatTypesRunAsPointwiseGemms() {
        Shape w = Shape.of(1, 1, 8, 16);
        ConvSpec pointwise = ConvSpec.of(1, 0, 1, 1);
        Device cpu = Device.CPU;
        Tensor f32 = Tensor.zeros(Shape.of(1, 2, 2, 8), DType.FLOAT32, cpu);
        Tensor bf16 = Tensor.zeros(Shape.of(1, 2, 2, 8), DType.BFLOAT16, cpu);
        Tensor f16 = Tensor.zeros(Shape.of(1, 2, 2, 8), DType.FLOAT16, cpu);
        Tensor f64 = Tensor.zeros(Shape.of(1, 2, 2, 8), DType.FLOAT64, cpu);
        assertTrue(ConvolutionOps.pointwise(f32, f32, w, pointwise));
        assertTrue(ConvolutionOps.pointwise(bf16, bf16, w, pointwise));
        assertTrue(ConvolutionOps.pointwise(f16, f16, w, pointwise));
        assertFalse(ConvolutionOps.pointwise(bf16, f32, w, pointwise), "mixed types");
        assertFalse(ConvolutionOps.pointwise(f64, f64, w, pointwise), "float64");
        assertFalse(ConvolutionOps.pointwise(f32, f32, Shape.of(3, 3, 8, 16), ConvSpec.of(1, 1, 1, 1)), "3x3");
    }
}
