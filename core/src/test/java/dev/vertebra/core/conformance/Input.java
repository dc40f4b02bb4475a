package dev.vertebra.core.conformance;

import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;

/**
 * One input of an {@link OpCase}: how to draw its values from a seeded generator. Values are drawn on the host in
 * double and rounded to the requested floating type, so every device receives bit-identical inputs.
 *
 * @param shape          dimensions
 * @param differentiable whether the case asks for this input's gradient
 * @param source         the value distribution
 */
public record Input(Shape shape, boolean differentiable, Source source) {

    /** A distribution of values; {@link #draw} returns a host array of the given floating type (or its own). */
    @FunctionalInterface
    public interface Source {
        HostArray draw(Generator gen, int[] shape, DType floatType);
    }

    /** Standard normal values (differentiable). */
    public static Input normal(int... shape) {
        return new Input(Shape.of(shape), true, (gen, s, t) -> floats(s, t, gen::nextGaussian));
    }

    /** Values in [0.5, 2.5): safe for log, sqrt, division and fractional powers (differentiable). */
    public static Input positive(int... shape) {
        return new Input(Shape.of(shape), true, (gen, s, t) -> floats(s, t, () -> 0.5 + 2 * gen.nextDouble()));
    }

    /** Normal values at least 0.05 away from 0: keeps finite differences off the kinks of relu, abs, clamp. */
    public static Input awayFromZero(int... shape) {
        return new Input(Shape.of(shape), true, (gen, s, t) -> floats(s, t, () -> {
            double v = gen.nextGaussian();
            return Math.abs(v) < 0.05 ? Math.copySign(0.05 + Math.abs(v), v) : v;
        }));
    }

    /** Small integers −2..2 as floats, so comparisons meet ties (not differentiable). */
    public static Input smallIntegers(int... shape) {
        return new Input(Shape.of(shape), false, (gen, s, t) -> floats(s, t, () -> gen.nextInt(5) - 2));
    }

    /** Uniform targets in [0, 1) (not differentiable). */
    public static Input probabilities(int... shape) {
        return new Input(Shape.of(shape), false, (gen, s, t) -> floats(s, t, gen::nextDouble));
    }

    /** Normal values that are a constant of the computation (running statistics, targets). */
    public static Input constantNormal(int... shape) {
        return new Input(Shape.of(shape), false, (gen, s, t) -> floats(s, t, gen::nextGaussian));
    }

    /** Positive constants (running variances, loss weights). */
    public static Input constantPositive(int... shape) {
        return new Input(Shape.of(shape), false, (gen, s, t) -> floats(s, t, () -> 0.5 + 2 * gen.nextDouble()));
    }

    /** INT64 values in [0, bound): class labels, gather indices. */
    public static Input indices(int bound, int... shape) {
        return new Input(Shape.of(shape), false, (gen, s, t) -> {
            long[] v = new long[Shape.of(s).numel()];
            for (int i = 0; i < v.length; i++) {
                v[i] = gen.nextInt(bound);
            }
            return new HostArray(DType.INT64, s, v);
        });
    }

    /** Integers in [low, high) stored as an integer {@code dtype} (for casts from integer types). */
    public static Input integers(DType dtype, int low, int high, int... shape) {
        return new Input(Shape.of(shape), false, (gen, s, t) -> {
            int n = Shape.of(s).numel();
            Object data = switch (dtype) {
                case INT64 -> new long[n];
                case INT32 -> new int[n];
                case UINT8 -> new byte[n];
                default -> throw new IllegalArgumentException("not an integer type used here: " + dtype);
            };
            for (int i = 0; i < n; i++) {
                int v = low + gen.nextInt(high - low);
                switch (data) {
                    case long[] a -> a[i] = v;
                    case int[] a -> a[i] = v;
                    case byte[] a -> a[i] = (byte) v;
                    default -> throw new IllegalStateException();
                }
            }
            return new HostArray(dtype, s, data);
        });
    }

    /** The same distribution, with its gradient asked for (e.g. ties for maximum's tie rule). */
    public Input withGrad() {
        return new Input(shape, true, source);
    }

    /** Draws this input's tensor on {@code device}; floating differentiable inputs require grad. */
    public Tensor make(Generator gen, DType floatType, Device device) {
        Tensor t = Tensor.fromHost(source.draw(gen, shape.dims(), floatType), device);
        return differentiable && t.dtype().isFloating() ? t.requiresGrad(true) : t;
    }

    /** Draws the values only. */
    public HostArray draw(Generator gen, DType floatType) {
        return source.draw(gen, shape.dims(), floatType);
    }

    static HostArray floats(int[] shape, DType type, java.util.function.DoubleSupplier values) {
        int n = Shape.of(shape).numel();
        return switch (type) {
            case FLOAT32 -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (float) values.getAsDouble();
                }
                yield new HostArray(DType.FLOAT32, shape, v);
            }
            case FLOAT64 -> {
                double[] v = new double[n];
                for (int i = 0; i < n; i++) {
                    v[i] = values.getAsDouble();
                }
                yield new HostArray(DType.FLOAT64, shape, v);
            }
            default -> throw new IllegalArgumentException("inputs are drawn as float32 or float64, not " + type);
        };
    }
}
