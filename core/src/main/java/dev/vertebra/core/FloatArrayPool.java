package dev.vertebra.core;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * One thread's free float arrays, by exact length (the shapes of one training step repeat in the next). Arrays
 * handed back during the current outermost scope are taken first, most recent first (the warmest in cache); arrays
 * from before it that this scope did not need are dropped when it closes, so the pool never holds more than one
 * step's worth.
 */
final class FloatArrayPool {
    private Map<Integer, ArrayDeque<float[]>> recent = new HashMap<>();
    private Map<Integer, ArrayDeque<float[]>> older = new HashMap<>();
    private long bytes;

    float[] take(int size) {
        float[] a = poll(recent, size);
        if (a == null) {
            a = poll(older, size);
        }
        if (a != null) {
            bytes -= 4L * a.length;
        }
        return a;
    }

    void put(float[] array) {
        recent.computeIfAbsent(array.length, _ -> new ArrayDeque<>()).push(array);
        bytes += 4L * array.length;
    }

    /** Drops what the scope that just closed did not reuse; what it handed back becomes the older generation. */
    void endOfOutermostScope() {
        for (ArrayDeque<float[]> unused : older.values()) {
            for (float[] a : unused) {
                bytes -= 4L * a.length;
            }
        }
        older = recent;
        recent = new HashMap<>();
    }

    void clear() {
        recent.clear();
        older.clear();
        bytes = 0;
    }

    long bytes() {
        return bytes;
    }

    private static float[] poll(Map<Integer, ArrayDeque<float[]>> arrays, int size) {
        ArrayDeque<float[]> free = arrays.get(size);
        return free == null ? null : free.poll();
    }
}
