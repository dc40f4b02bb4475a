package dev.vertebra.core.cpu;

import java.util.Arrays;

/**
 * A grow-only array per thread for scratch that one kernel call uses and consumes before it returns (a chunk's
 * running sums, a transposed product): no allocation per call or per parallel task. Each instance is one buffer;
 * a kernel that needs two at once uses two instances, and no kernel may call another that uses the same instance.
 */
final class ThreadScratch {
    private final ThreadLocal<float[]> floats = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<double[]> doubles = ThreadLocal.withInitial(() -> new double[0]);

    /** At least {@code size} floats of this thread; contents unspecified. */
    float[] floats(int size) {
        float[] a = floats.get();
        if (a.length < size) {
            a = new float[size];
            floats.set(a);
        }
        return a;
    }

    /** At least {@code size} floats of this thread, the first {@code size} zero. */
    float[] zeroedFloats(int size) {
        float[] a = floats(size);
        Arrays.fill(a, 0, size, 0f);
        return a;
    }

    /** At least {@code size} doubles of this thread; contents unspecified. */
    double[] doubles(int size) {
        double[] a = doubles.get();
        if (a.length < size) {
            a = new double[size];
            doubles.set(a);
        }
        return a;
    }
}
