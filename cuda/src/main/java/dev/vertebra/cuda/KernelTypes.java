package dev.vertebra.cuda;

import dev.vertebra.core.DType;
import dev.vertebra.core.Tensor;

/** Which element types the kernels exist for, and the suffix that names them ({@code unary_exp_bf16}). */
final class KernelTypes {

    private KernelTypes() {
    }

    /** True for the 16-bit float types of mixed precision. */
    static boolean isLow(Tensor t) {
        return t.dtype() == DType.FLOAT16 || t.dtype() == DType.BFLOAT16;
    }

    /** Kernel-name suffix of an elementwise op's dtype: the float types, 16-bit ones included. */
    static String elementwiseSuffix(String op, DType dtype) {
        return switch (dtype) {
            case FLOAT16 -> "f16";
            case BFLOAT16 -> "bf16";
            default -> suffix(op, dtype, true);
        };
    }

    /** Kernel-name suffix of a compute dtype. */
    static String suffix(String op, DType dtype, boolean doubleSupported) {
        return switch (dtype) {
            case FLOAT32 -> "f32";
            case FLOAT64 -> {
                if (doubleSupported) {
                    yield "f64";
                }
                throw new UnsupportedOperationException(op + " on CUDA supports float32 only, not float64");
            }
            default -> throw new UnsupportedOperationException(op + " on CUDA supports float32"
                    + (doubleSupported ? " and float64" : "") + ", not " + dtype);
        };
    }
}
