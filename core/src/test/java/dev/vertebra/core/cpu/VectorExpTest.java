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
