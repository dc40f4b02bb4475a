package dev.vertebra.data.volume;

import dev.vertebra.core.Tensor;

/**
 * 2.5D inputs: k adjacent slices as the channels of one image, NHWC. For centre slice s the channels are slices
 * s − k/2 … s − k/2 + k − 1, clamped at the ends of the volume (the edge slice repeats).
 *
 * <pre>{@code
 * float[] bone = Window.BONE.apply(ct.hu());
 * Tensor batch = Stacks.batch(bone, ct.slices(), ct.rows(), ct.cols(), new int[] {10, 11, 12}, 3); // [3, H, W, 3]
 * }</pre>
 */
public final class Stacks {

    private Stacks() {
    }

    /** One stack, [rows, cols, k] interleaved, from a [slices, rows, cols] volume. */
    public static float[] stack(float[] volume, int slices, int rows, int cols, int centre, int k) {
        if (k < 1 || centre < 0 || centre >= slices || (long) slices * rows * cols != volume.length) {
            throw new IllegalArgumentException("stack of " + k + " at slice " + centre + " of " + slices);
        }
        float[] out = new float[rows * cols * k];
        int plane = rows * cols;
        for (int ch = 0; ch < k; ch++) {
            int s = Math.clamp(centre - k / 2 + ch, 0, slices - 1);
            int base = s * plane;
            for (int i = 0; i < plane; i++) {
                out[i * k + ch] = volume[base + i];
            }
        }
        return out;
    }

    /** Stacks around each centre, as a [N, rows, cols, k] tensor. */
    public static Tensor batch(float[] volume, int slices, int rows, int cols, int[] centres, int k) {
        int size = rows * cols * k;
        float[] out = new float[centres.length * size];
        for (int n = 0; n < centres.length; n++) {
            System.arraycopy(stack(volume, slices, rows, cols, centres[n], k), 0, out, n * size, size);
        }
        return Tensor.of(out, centres.length, rows, cols, k);
    }
}
