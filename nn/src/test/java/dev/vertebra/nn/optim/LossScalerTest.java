package dev.vertebra.nn.optim;

import dev.vertebra.core.DType;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Precision;
import dev.vertebra.core.Tensor;
import dev.vertebra.nn.Checkpoint;
import dev.vertebra.nn.Linear;
import dev.vertebra.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** torch.amp.GradScaler's behaviour: skip on overflow and back off, grow after an interval, unscale before clip. */
class LossScalerTest {

    private static Parameter param(float... values) {
        return new Parameter(Tensor.of(values, values.length));
    }

    private static Sgd sgd(Parameter... ps) {
        return new Sgd(List.of(ParamGroup.of(List.of(ps), 0.5, 0)), 0, 0, false);
    }

    /** loss = Σ factor·w², so the true gradient is 2·factor·w. */
    private static Tensor loss(Parameter p, double factor) {
        return p.data().mul(p.data()).mul(factor).sum();
    }

    @Test
    void overflowSkipsTheStepAndHalvesTheScale() {
        Parameter w = param(1, -2);
        Sgd opt = sgd(w);
        LossScaler scaler = new LossScaler();
        assertEquals(65536, scaler.currentScale());
        // 65536 · 2 · 1e35 is beyond float32: the gradient overflows to infinity.
        scaler.scale(loss(w, 1e35)).backward();
        assertFalse(scaler.step(opt));
        scaler.update();
        assertArrayEquals(new float[]{1, -2}, w.data().toFloatArray(), "parameters untouched");
        assertTrue(opt.stateDict().keySet().stream().noneMatch(k -> k.startsWith("state.")), "no update counted");
        assertEquals(32768, scaler.currentScale());
        assertEquals(0, scaler.growthTracker());
    }

    @Test
    void nanGradientsAlsoSkip() {
        Parameter w = param(1, 2);
        Sgd opt = sgd(w);
        LossScaler scaler = new LossScaler(8, 2, 0.25, 10, true);
        scaler.scale(w.data().log().mul(w.data().sub(1).log()).sum()).backward();   // log(0)·… gives NaN at w=1
        assertFalse(scaler.step(opt));
        scaler.update();
        assertEquals(2, scaler.currentScale());
    }

    @Test
    void growsAfterTheIntervalOfFiniteStepsAndOverflowRestartsTheCount() {
        Parameter w = param(0.5f);
        Sgd opt = new Sgd(List.of(ParamGroup.of(List.of(w), 0, 0)), 0, 0, false);
        LossScaler scaler = new LossScaler(4, 2, 0.5, 3, true);
        double[] expectedScale = {4, 4, 8, 8, 8, 16, 8, 8, 8, 16};
        boolean[] overflow = {false, false, false, false, false, false, true, false, false, false};
        for (int i = 0; i < overflow.length; i++) {
            opt.zeroGrad();
            scaler.scale(loss(w, overflow[i] ? 1e38 : 1)).backward();
            assertEquals(!overflow[i], scaler.step(opt), "step " + i);
            scaler.update();
            assertEquals(expectedScale[i], scaler.currentScale(), "scale after step " + i);
        }
    }

    @Test
    void defaultIntervalIsTorchs2000Steps() {
        Parameter w = param(0.25f);
        Sgd opt = new Sgd(List.of(ParamGroup.of(List.of(w), 0, 0)), 0, 0, false);
        LossScaler scaler = new LossScaler();
        for (int i = 0; i < 1999; i++) {
            opt.zeroGrad();
            scaler.scale(loss(w, 1)).backward();
            scaler.step(opt);
            scaler.update();
        }
        assertEquals(65536, scaler.currentScale());
        assertEquals(1999, scaler.growthTracker());
        opt.zeroGrad();
        scaler.scale(loss(w, 1)).backward();
        scaler.step(opt);
        scaler.update();
        assertEquals(131072, scaler.currentScale());
        assertEquals(0, scaler.growthTracker());
    }

    @Test
    void unscaleGivesTheTrueGradientsSoClippingAndTheStepMatchAnUnscaledRun() {
        Parameter scaled = param(3, 4);
        Parameter plain = param(3, 4);
        Sgd optScaled = sgd(scaled);
        Sgd optPlain = sgd(plain);
        LossScaler scaler = new LossScaler(1024, 2, 0.5, 100, true);
        Tensor l = loss(scaled, 1);
        Tensor s = scaler.scale(l);
        assertEquals(1024 * l.item(), s.item(), 1e-9);
        s.backward();
        assertArrayEquals(new float[]{6 * 1024, 8 * 1024}, scaled.grad().toFloatArray());
        scaler.unscale(optScaled);
        assertArrayEquals(new float[]{6, 8}, scaled.grad().toFloatArray());
        assertEquals(10, GradClip.clipByGlobalNorm(List.of(scaled), 1), 1e-6,
                "the clip sees the true norm |(6, 8)| = 10");
        assertTrue(scaler.step(optScaled));
        scaler.update();

        loss(plain, 1).backward();
        GradClip.clipByGlobalNorm(List.of(plain), 1);
        optPlain.step();
        assertArrayEquals(plain.data().toFloatArray(), scaled.data().toFloatArray());
        // 3 − 0.5·0.6, 4 − 0.5·0.8 (the gradient clipped to norm 1, up to clip's 1e-6 guard)
        assertArrayEquals(new float[]{2.7f, 3.6f}, scaled.data().toFloatArray(), 1e-6f);
    }

    @Test
    void misuseIsRefused() {
        Parameter w = param(1);
        Sgd opt = sgd(w);
        LossScaler scaler = new LossScaler();
        assertThrows(IllegalStateException.class, scaler::update, "update with nothing recorded");
        scaler.scale(loss(w, 1)).backward();
        scaler.unscale(opt);
        assertThrows(IllegalStateException.class, () -> scaler.unscale(opt));
        scaler.step(opt);
        assertThrows(IllegalStateException.class, () -> scaler.step(opt));
        assertThrows(IllegalStateException.class, () -> scaler.unscale(opt));
        scaler.update();
        assertThrows(IllegalArgumentException.class, () -> new LossScaler(0, 2, 0.5, 1, true));
        assertThrows(IllegalArgumentException.class, () -> new LossScaler(1, 2, 1, 1, true));
    }

    @Test
    void disabledForEveryPrecisionButFloat16() {
        for (Precision p : Precision.values()) {
            assertEquals(p == Precision.FP16, LossScaler.forPrecision(p).isEnabled(), p.name());
        }
        Parameter w = param(2);
        Sgd opt = sgd(w);
        LossScaler off = LossScaler.forPrecision(Precision.BF16);
        Tensor l = loss(w, 1);
        assertEquals(l, off.scale(l));
        l.backward();
        assertTrue(off.step(opt));
        off.update();
        assertArrayEquals(new float[]{0}, w.data().toFloatArray());   // 2 − 0.5·4
        assertTrue(off.stateDict().isEmpty());
        assertEquals(1, off.currentScale());
    }

    @Test
    void aFloat16LossIsScaledInFloat32() {
        LossScaler scaler = new LossScaler();
        Tensor l = Tensor.of(new float[]{2}, 1).to(DType.FLOAT16).sum();
        Tensor s = scaler.scale(l);
        assertEquals(DType.FLOAT32, s.dtype());
        assertEquals(131072, s.item());   // beyond float16's 65504
    }

    @Test
    void checkpointRoundTripResumesExactly(@TempDir Path dir) throws IOException {
        Linear a = new Linear(3, 2, true, new Generator(1));
        Sgd optA = new Sgd(List.of(ParamGroup.of(a.parameters(), 0.1, 0)), 0.9, 0, false);
        LossScaler scalerA = new LossScaler(256, 2, 0.5, 3, true);
        Tensor x = Tensor.of(new float[]{1, -1, 2, 0.5f, 3, -2}, 2, 3);
        Runnable stepA = () -> step(a, optA, scalerA, x);
        for (int i = 0; i < 5; i++) {
            stepA.run();          // one growth (after 3), then the tracker at 2
        }
        assertEquals(512, scalerA.currentScale());
        assertEquals(2, scalerA.growthTracker());
        Path file = dir.resolve("amp.safetensors");
        Checkpoint.save(file, a, optA, scalerA, new Checkpoint.Info(1, 5, "{}"), Map.of());

        Linear b = new Linear(3, 2, true, new Generator(2));
        Sgd optB = new Sgd(List.of(ParamGroup.of(b.parameters(), 0.1, 0)), 0.9, 0, false);
        LossScaler scalerB = new LossScaler(4, 3, 0.25, 50, true);
        Checkpoint.load(file, b, optB, scalerB, Map.of());
        assertEquals(512, scalerB.currentScale());
        assertEquals(2, scalerB.growthTracker());
        stepA.run();
        step(b, optB, scalerB, x);
        assertEquals(1024, scalerA.currentScale());
        assertEquals(scalerA.currentScale(), scalerB.currentScale(), "growth interval and factor restored too");
        assertArrayEquals(a.weight().data().toFloatArray(), b.weight().data().toFloatArray());

        // The weights still load as a plain state dict, and a scaler-less load ignores the scaler state.
        assertTrue(Checkpoint.loadWeights(file, new Linear(3, 2, true, new Generator(3)), true)
                .isClean());
        Checkpoint.load(file, b, optB, Map.of());
        // A checkpoint without scaler state leaves a scaler as it was.
        Path plain = dir.resolve("plain.safetensors");
        Checkpoint.save(plain, a, optA, new Checkpoint.Info(1, 6, "{}"), Map.of());
        LossScaler fresh = new LossScaler();
        Checkpoint.load(plain, b, optB, fresh, Map.of());
        assertEquals(65536, fresh.currentScale());
    }

    @Test
    void badStateIsRefusedBeforeAnythingChanges() {
        LossScaler scaler = new LossScaler(64, 2, 0.5, 10, true);
        var state = new java.util.LinkedHashMap<>(new LossScaler(128, 2, 0.5, 10, true).stateDict());
        state.put("_growth_tracker", Tensor.ofLongs(new long[]{10}));
        assertThrows(IllegalArgumentException.class, () -> scaler.loadStateDict(state));
        state.remove("_growth_tracker");
        assertThrows(IllegalArgumentException.class, () -> scaler.loadStateDict(state));
        state.put("_growth_tracker", Tensor.ofLongs(new long[]{1}));
        state.put("extra", Tensor.ofLongs(new long[]{1}));
        assertThrows(IllegalArgumentException.class, () -> scaler.loadStateDict(state));
        assertEquals(64, scaler.currentScale());
    }

    private static void step(Linear model, Sgd opt, LossScaler scaler, Tensor x) {
        opt.zeroGrad();
        Tensor y = model.forward(x);
        scaler.scale(y.mul(y).sum()).backward();
        scaler.unscale(opt);
        GradClip.clipByGlobalNorm(model.parameters(), 5);
        scaler.step(opt);
        scaler.update();
    }
}
