package dev.vertebra.core;

import dev.vertebra.core.io.HostArray;

/**
 * Random tensors from a seeded {@link Generator}, drawn on the host so the same seed gives the same values on
 * every device.
 */
public final class Init {

    private Init() {
    }

    /** Uniform in [low, high). */
    public static Tensor uniform(Generator gen, Shape shape, double low, double high, Device device) {
        float[] v = new float[shape.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (low + (high - low) * gen.nextDouble());
        }
        return Tensor.fromHost(new HostArray(DType.FLOAT32, shape.dims(), v), device);
    }

    /** Normal with the given mean and standard deviation. */
    public static Tensor normal(Generator gen, Shape shape, double mean, double std, Device device) {
        float[] v = new float[shape.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (mean + std * gen.nextGaussian());
        }
        return Tensor.fromHost(new HostArray(DType.FLOAT32, shape.dims(), v), device);
    }

    /**
     * Normal truncated to [low, high] by redrawing values outside (as timm's trunc_normal_; bounds are absolute,
     * not in standard deviations).
     */
    public static Tensor truncatedNormal(Generator gen, Shape shape, double mean, double std, double low,
                                         double high, Device device) {
        if (!(low < high) || !(low <= mean + 6 * std && high >= mean - 6 * std)) {
            throw new IllegalArgumentException("truncation bounds [" + low + ", " + high + "] leave nothing of N("
                    + mean + ", " + std + "²)");
        }
        float[] v = new float[shape.numel()];
        for (int i = 0; i < v.length; i++) {
            double x;
            do {
                x = mean + std * gen.nextGaussian();
            } while (x < low || x > high);
            v[i] = (float) x;
        }
        return Tensor.fromHost(new HostArray(DType.FLOAT32, shape.dims(), v), device);
    }

    /** 1 with probability {@code keep}, else 0. */
    public static Tensor bernoulli(Generator gen, Shape shape, double keep, DType dtype, Device device) {
        float[] v = new float[shape.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = gen.nextDouble() < keep ? 1 : 0;
        }
        return Tensor.fromHost(new HostArray(DType.FLOAT32, shape.dims(), v), device).to(dtype);
    }
}
