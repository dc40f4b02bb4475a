package dev.vertebra.core.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;

/**
 * Plain nested-loop convolution in double precision, the oracle for the fast kernels. Each result comes with the
 * sum of absolute values of its terms, which scales the tolerance.
 */
final class ConvReference {

    /** Values and the absolute magnitude of the terms that made each one. */
    record Result(double[] value, double[] magnitude, int terms) {
    }

    private ConvReference() {
    }

    /** Calls {@code tap(xIndex, wIndex, yIndex)} for every multiply-add of the convolution. */
    private interface Tap {
        void apply(int xIndex, int wIndex, int yIndex);
    }

    private static void forEachTap(Conv2dShape s, Tap tap) {
        int cg = s.inPerGroup();
        int og = s.outPerGroup();
        for (int n = 0; n < s.batch(); n++) {
            for (int oy = 0; oy < s.outHeight(); oy++) {
                for (int ox = 0; ox < s.outWidth(); ox++) {
                    for (int co = 0; co < s.outChannels(); co++) {
                        int g = co / og;
                        int yIndex = ((n * s.outHeight() + oy) * s.outWidth() + ox) * s.outChannels() + co;
                        for (int kh = 0; kh < s.kernelH(); kh++) {
                            int iy = oy * s.strideH() - s.padTop() + kh * s.dilationH();
                            for (int kw = 0; kw < s.kernelW(); kw++) {
                                int ix = ox * s.strideW() - s.padLeft() + kw * s.dilationW();
                                if (iy < 0 || iy >= s.height() || ix < 0 || ix >= s.width()) {
                                    continue;
                                }
                                for (int ci = 0; ci < cg; ci++) {
                                    int xIndex = ((n * s.height() + iy) * s.width() + ix) * s.inChannels()
                                            + g * cg + ci;
                                    int wIndex = ((kh * s.kernelW() + kw) * cg + ci) * s.outChannels() + co;
                                    tap.apply(xIndex, wIndex, yIndex);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static Result forward(Conv2dShape s, float[] x, float[] w, float[] bias) {
        double[] y = new double[(int) s.outputSize()];
        double[] mag = new double[y.length];
        forEachTap(s, (xi, wi, yi) -> {
            y[yi] += (double) x[xi] * w[wi];
            mag[yi] += Math.abs((double) x[xi] * w[wi]);
        });
        if (bias != null) {
            for (int i = 0; i < y.length; i++) {
                y[i] += bias[i % s.outChannels()];
                mag[i] += Math.abs(bias[i % s.outChannels()]);
            }
        }
        return new Result(y, mag, s.kernelH() * s.kernelW() * s.inPerGroup());
    }

    static Result backwardData(Conv2dShape s, float[] dy, float[] w) {
        double[] dx = new double[(int) s.inputSize()];
        double[] mag = new double[dx.length];
        forEachTap(s, (xi, wi, yi) -> {
            dx[xi] += (double) dy[yi] * w[wi];
            mag[xi] += Math.abs((double) dy[yi] * w[wi]);
        });
        return new Result(dx, mag, s.kernelH() * s.kernelW() * s.outPerGroup());
    }

    static Result backwardWeight(Conv2dShape s, float[] x, float[] dy) {
        double[] dw = new double[(int) s.weightSize()];
        double[] mag = new double[dw.length];
        forEachTap(s, (xi, wi, yi) -> {
            dw[wi] += (double) x[xi] * dy[yi];
            mag[wi] += Math.abs((double) x[xi] * dy[yi]);
        });
        return new Result(dw, mag, s.batch() * s.outHeight() * s.outWidth());
    }

    /**
     * Asserts {@code actual} equals the reference (plus {@code before} when accumulating), within
     * 1e-5 · sqrt(terms) relative to the magnitude of the terms.
     */
    static void assertMatches(Result expected, float[] before, boolean accumulate, float[] actual, String what) {
        for (int i = 0; i < expected.value().length; i++) {
            double want = expected.value()[i] + (accumulate ? before[i] : 0.0);
            double scale = expected.magnitude()[i] + (accumulate ? Math.abs(before[i]) : 0.0);
            double tolerance = 1e-5 * Math.sqrt(expected.terms() + 1) * scale + 1e-6;
            assertEquals(want, actual[i], tolerance, what + " at flat index " + i);
        }
    }

    static float[] random(Random random, long size) {
        float[] x = new float[Math.toIntExact(size)];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** The output buffer a kernel writes: random when accumulating, NaN otherwise (it must not be read). */
    static float[] output(Random random, long size, boolean accumulate) {
        if (accumulate) {
            return random(random, size);
        }
        float[] out = new float[Math.toIntExact(size)];
        Arrays.fill(out, Float.NaN);
        return out;
    }
}
