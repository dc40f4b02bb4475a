package dev.vertebra.core.cpu;

import dev.vertebra.core.CpuStorage;
import dev.vertebra.core.DType;

/**
 * Conversions between float32 and the 16-bit float storage types (float16, bfloat16), one strided row at a time.
 * The CPU backend computes on 16-bit tensors by widening them to float32, running its float32 kernels
 * (float32 accumulation) and rounding the result once to the 16-bit type, nearest-even — what oneDNN does for
 * bfloat16 on CPUs without native bfloat16 arithmetic. Rounding follows {@link CpuStorage#toBfloat16} and
 * {@link CpuStorage#toFloat16}, so every path agrees bit for bit with the reference backend's casts.
 */
final class LowPrecision {

    private LowPrecision() {
    }

    /** True for float16 and bfloat16. */
    static boolean isLow(DType t) {
        return t == DType.FLOAT16 || t == DType.BFLOAT16;
    }

    /** True for float32 and the 16-bit floats: the types this class converts between. */
    static boolean isConvertible(DType t) {
        return t == DType.FLOAT32 || isLow(t);
    }

    /**
     * {@code n} elements from {@code from} (type {@code st}, first at {@code a}, stride {@code ss}) into {@code to}
     * (type {@code dt}, first at {@code b}, stride {@code ds}); the arrays are float[] or short[] as the types say.
     */
    static void convert(Object from, DType st, int a, int ss, Object to, DType dt, int b, int ds, int n) {
        switch (from) {
            case float[] f when to instanceof short[] s -> {
                if (dt == DType.BFLOAT16) {
                    for (int i = 0; i < n; i++) {
                        s[b + i * ds] = CpuStorage.toBfloat16(f[a + i * ss]);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        s[b + i * ds] = CpuStorage.toFloat16(f[a + i * ss]);
                    }
                }
            }
            case short[] s when to instanceof float[] f -> {
                if (st == DType.BFLOAT16) {
                    for (int i = 0; i < n; i++) {
                        f[b + i * ds] = Float.intBitsToFloat(s[a + i * ss] << 16);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        f[b + i * ds] = Float.float16ToFloat(s[a + i * ss]);
                    }
                }
            }
            case short[] s when to instanceof short[] d && st == dt -> {
                for (int i = 0; i < n; i++) {
                    d[b + i * ds] = s[a + i * ss];
                }
            }
            case short[] s when to instanceof short[] d -> {
                // float16 ↔ bfloat16: float32 holds both exactly, so one rounding, into the target.
                for (int i = 0; i < n; i++) {
                    float v = st == DType.BFLOAT16 ? Float.intBitsToFloat(s[a + i * ss] << 16)
                            : Float.float16ToFloat(s[a + i * ss]);
                    d[b + i * ds] = dt == DType.BFLOAT16 ? CpuStorage.toBfloat16(v) : CpuStorage.toFloat16(v);
                }
            }
            default -> throw new IllegalArgumentException("no conversion from " + st + " to " + dt);
        }
    }
}
