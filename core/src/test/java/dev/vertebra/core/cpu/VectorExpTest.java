package dev.vertebra.core.cpu;

import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VectorExpTest {

    @Test
    void expIsWithinTwoUlpOfMathExpOverTheWholeRange() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        float[] x = new float[lanes];
        float[] y = new float[lanes];
        double worst = 0;
        Generator gen = new Generator(5);
        for (int round = 0; round < 20_000; round++) {
            for (int i = 0; i < lanes; i++) {
                x[i] = (float) (-87 + 175.7 * gen.nextDouble());
            }
            VectorExp.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0)).intoArray(y, 0);
            for (int i = 0; i < lanes; i++) {
                double exact = Math.exp(x[i]);
                worst = Math.max(worst, Math.abs(y[i] - exact) / Math.ulp((float) exact));
            }
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulp");
    }

    @Test
    void expHandlesTheEdges() {
        float[] x = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 100, -100, 0, 88.7f, -87.3f,
                1, -1, 0.5f, 1e-8f, -1e-8f, 20, -20, 3};
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        float[] padded = java.util.Arrays.copyOf(x, Math.max(lanes, x.length));
        float[] y = new float[padded.length];
        for (int at = 0; at + lanes <= padded.length; at += lanes) {
            VectorExp.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, padded, at)).intoArray(y, at);
        }
        assertTrue(Float.isNaN(y[0]));
        assertEquals(Float.POSITIVE_INFINITY, y[1]);
        assertEquals(0f, y[2]);
        assertEquals(Float.POSITIVE_INFINITY, y[3]);
        assertEquals(0f, y[4]);
        assertEquals(1f, y[5]);
    }

    /**
     * The exponent-bit scaling is exact: exp gives the bits of the same steps done in scalar arithmetic with 2^n
     * applied by two multiplications (each exact), on every float near the ends of the range (where n is 128 or
     * −126 and the integer add could leave the normal floats), across (−2, 2), at NaN and the infinities, and on
     * random inputs; expOfNumbers gives the same bits wherever the input is not NaN.
     */
    @Test
    void scalingByExponentBitsMatchesScalingByMultiplicationBitForBit() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        float[] x = edgeInputs();
        int count = x.length;
        float[] y = new float[count];
        float[] numbers = new float[count];
        for (int i = 0; i < count; i += lanes) {
            FloatVector v = FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, i);
            VectorExp.exp(v).intoArray(y, i);
            VectorExp.expOfNumbers(v).intoArray(numbers, i);
        }
        for (int i = 0; i < count; i++) {
            float want = scalarExp(x[i]);
            if (Float.isNaN(want)) {
                assertTrue(Float.isNaN(y[i]), "e^NaN: " + y[i]);
                continue;
            }
            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(y[i]), "e^" + x[i] + ": " + y[i]
                    + " vs " + want);
            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(numbers[i]), "expOfNumbers(" + x[i] + "): "
                    + numbers[i] + " vs " + want);
        }
    }

    /**
     * SiLU's two exponentials against expOfNumbers of the negated input, on the inputs above. expOfNegatedForSilu:
     * the same bits wherever −v ≥ MIN_ARG, and v / (1 + e^−v) the same bits for every input (NaN for NaN).
     * clampForSilu then expOfNegatedInRange: v clamped to [−MAX_ARG, −MIN_ARG] (NaN kept), and e^−v the same bits
     * inside, the bits at the nearer end outside: a positive finite float for every input but NaN.
     */
    @Test
    void siluExponentialsGiveTheBitsOfTheNegatedExponential() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        float[] x = edgeInputs();
        int count = x.length;
        float[] plain = new float[count];
        float[] forSilu = new float[count];
        float[] clamped = new float[count];
        float[] clampedInput = new float[count];
        for (int i = 0; i < count; i += lanes) {
            FloatVector v = FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, i);
            VectorExp.expOfNumbers(v.neg()).intoArray(plain, i);
            VectorExp.expOfNegatedForSilu(v).intoArray(forSilu, i);
            FloatVector u = VectorExp.clampForSilu(v);
            u.intoArray(clampedInput, i);
            VectorExp.expOfNegatedInRange(u).intoArray(clamped, i);
        }
        float low = -88.72283f;  // −MAX_ARG
        float high = 87.33654f;  // −MIN_ARG
        for (int i = 0; i < count; i++) {
            float v = x[i];
            String at = "v = " + v + " (" + Integer.toHexString(Float.floatToRawIntBits(v)) + ")";
            if (Float.isNaN(v)) {
                assertTrue(Float.isNaN(v / (1 + forSilu[i])), "SiLU of NaN: " + at);
                assertTrue(Float.isNaN(clampedInput[i]), "clamped NaN: " + clampedInput[i]);
                continue;
            }
            assertEquals(Float.floatToIntBits(v / (1 + plain[i])), Float.floatToIntBits(v / (1 + forSilu[i])),
                    "SiLU at " + at);
            if (v <= high) {
                assertEquals(Float.floatToIntBits(plain[i]), Float.floatToIntBits(forSilu[i]), "for SiLU at " + at);
            }
            float inside = Math.clamp(v, low, high);
            assertEquals(Float.floatToIntBits(inside), Float.floatToIntBits(clampedInput[i]), "clamp at " + at);
            assertEquals(Float.floatToIntBits(scalarExp(-inside)), Float.floatToIntBits(clamped[i]),
                    "clamped at " + at);
            assertTrue(clamped[i] > 0 && clamped[i] < Float.POSITIVE_INFINITY, "clamped at " + at);
        }
    }

    /**
     * Every float near the ends of exp's range (where n is 128 or −126 and the integer add could leave the normal
     * floats), every 2^13-th float of (−2, 2), NaN and the infinities, then random inputs of (−100, 100).
     */
    private static float[] edgeInputs() {
        int count = 3 * (1 << 18) + 4096;
        float[] x = new float[count];
        int at = 0;
        for (float centre : new float[] {-87.33654f, 88.72283f, 0f}) {
            int bits = Float.floatToIntBits(centre);
            for (int d = -(1 << 17); d < (1 << 17); d++) {
                // Around zero: every 2^13-th float of (−2, 2), both signs; at the ends, every float.
                float spread = Float.intBitsToFloat(Math.abs(d) << 13);
                x[at++] = centre == 0f ? (d < 0 ? -spread : spread) : Float.intBitsToFloat(bits + d);
            }
        }
        for (float special : new float[] {Float.NaN, Float.intBitsToFloat(0xFFC00001), Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -Float.MAX_VALUE, 1e30f, -1e30f, Float.MIN_VALUE}) {
            x[at++] = special;
        }
        Generator gen = new Generator(11);
        while (at < count) {
            x[at++] = (float) (-100 + 200 * gen.nextDouble());
        }
        return x;
    }

    /** VectorExp's steps on one float, with 2^n applied as 2^(n >> 1) · 2^(n − (n >> 1)). */
    private static float scalarExp(float x) {
        if (Float.isNaN(x)) {
            return x;
        }
        if (x < -87.33654f) {
            return 0f;
        }
        if (x > 88.72283f) {
            return Float.POSITIVE_INFINITY;
        }
        float shifter = 0x1.8p23f;
        float t = Math.fma(x, 1.44269504088896341f, shifter);
        float n = t - shifter;
        float r = Math.fma(n, -0.693145751953125f, x);
        r = Math.fma(n, -1.42860682030941723212e-6f, r);
        float p = Math.fma(r, 0x1.6a244cp-10f, 0x1.1239d4p-7f);
        p = Math.fma(p, r, 0x1.5558f2p-5f);
        p = Math.fma(p, r, 0x1.555492p-3f);
        p = Math.fma(p, r, 0x1.fffffcp-2f);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        int k = (int) n;
        int a = k >> 1;
        return p * Float.intBitsToFloat((a + 127) << 23) * Float.intBitsToFloat((k - a + 127) << 23);
    }

    /**
     * The same computation, run until the JIT has compiled it, gives the same bits every time: no result may
     * depend on whether the interpreter or compiled code ran it.
     */
    @Test
    void elementwiseAndReductionsGiveTheSameBitsInEveryJitState() {
        Tensor x = Init.normal(new Generator(9), Shape.of(4, 1000), 0, 3, Device.CPU);
        float[] first = null;
        for (int run = 0; run < 300; run++) {
            Tensor y = x.exp().add(x.sigmoid()).add(x.silu()).sum(false, 1).add(x.mean(false, 0).sum());
            float[] values = y.toFloatArray();
            if (first == null) {
                first = values;
            } else {
                for (int i = 0; i < values.length; i++) {
                    assertEquals(Float.floatToIntBits(first[i]), Float.floatToIntBits(values[i]),
                            "run " + run + ", element " + i + ": " + values[i] + " vs " + first[i]);
                }
            }
        }
    }
}
