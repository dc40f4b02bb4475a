package dev.vertebra.nn;

import dev.vertebra.core.Generator;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelEmaTest {

    @Test
    void averagesWithWarmupAndSwapsBackAndForth() {
        Linear model = new Linear(2, 1, true, new Generator(1));
        model.weight().copyFrom(Tensor.of(new float[]{1, 2}, 1, 2));
        model.bias().copyFrom(Tensor.of(new float[]{0}, 1));
        ModelEma ema = new ModelEma(model, 0.9, true);
        assertEquals(2.0 / 11, ema.currentDecay(), 1e-12);   // min(0.9, (1+1)/(10+1))

        model.weight().copyFrom(Tensor.of(new float[]{3, 4}, 1, 2));
        ema.update(model);
        double d1 = 2.0 / 11;
        float[] expected = {(float) (d1 * 1 + (1 - d1) * 3), (float) (d1 * 2 + (1 - d1) * 4)};

        ema.swap(model);
        assertArrayEquals(expected, model.weight().data().toFloatArray(), 1e-6f);
        ema.swap(model);
        assertArrayEquals(new float[]{3, 4}, model.weight().data().toFloatArray(), 0f);

        Linear copy = new Linear(2, 1, true, new Generator(2));
        ema.copyTo(copy);
        assertArrayEquals(expected, copy.weight().data().toFloatArray(), 1e-6f);
        assertArrayEquals(expected, ema.stateDict(model).get("weight").toFloatArray(), 1e-6f);

        ModelEma plain = new ModelEma(model, 0.9, false);
        assertEquals(0.9, plain.currentDecay());
    }

    @Test
    void savedAverageLoadsIntoAnotherAndBadOnesAreRefused() {
        Linear model = new Linear(2, 1, true, new Generator(1));
        ModelEma ema = new ModelEma(model, 0.5, false);
        model.weight().copyFrom(Tensor.of(new float[]{3, 4}, 1, 2));
        ema.update(model);
        var saved = ema.stateDict(model);

        ModelEma other = new ModelEma(model, 0.5, false);
        other.loadStateDict(model, saved, 1);
        assertEquals(1, other.updates());
        assertArrayEquals(saved.get("weight").toFloatArray(), other.stateDict(model).get("weight").toFloatArray(), 0f);

        ModelEma fresh = new ModelEma(new Linear(2, 1, true, new Generator(3)), 0.5, false);
        var missing = new java.util.LinkedHashMap<>(saved);
        missing.remove("bias");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fresh.loadStateDict(model, missing, 1));
        assertTrue(e.getMessage().contains("missing [bias]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> fresh.loadStateDict(model, saved, -1));
        assertEquals(0, fresh.updates());
    }
}
