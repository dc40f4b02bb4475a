package dev.vertebra.nn.optim;

import dev.vertebra.nn.Golden;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Schedules against the learning rates torch.optim.lr_scheduler produced step by step. */
class LrScheduleTest {

    private final Map<String, Tensor> golden = Golden.read("schedules.safetensors");

    private void assertMatches(String name, LrSchedule schedule) {
        double[] expected = golden.get(name).toDoubleArray();
        for (int step = 0; step < expected.length; step++) {
            assertEquals(expected[step], schedule.lr(step), 1e-6 * Math.abs(expected[step]) + 1e-15,
                    name + " at step " + step);
        }
    }

    @Test
    void oneCycleMatchesPyTorch() {
        assertMatches("one_cycle", new LrSchedule.OneCycle(0.1, 20, 0.3, 25, 1e4));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.OneCycle.of(0.1, 20).lr(20));
    }

    @Test
    void stepDecayMatchesPyTorch() {
        assertMatches("step", new LrSchedule.StepDecay(0.1, 3, 0.5));
    }

    @Test
    void warmupCosineMatchesLambdaLr() {
        assertMatches("warmup_cosine", new LrSchedule.WarmupCosine(0.1, 3, 12, 0.1 * 0.01));
    }

    @Test
    void groupsFollowTheScheduleWithTheirScale() {
        Optimizer opt = new Sgd(java.util.List.of(new ParamGroup(java.util.List.of(), 1, 0, 1),
                new ParamGroup(java.util.List.of(), 1, 0, 0.1)), 0, 0, false);
        opt.scheduleLr(0.5);
        assertEquals(0.5, opt.groups().get(0).lr());
        assertEquals(0.05, opt.groups().get(1).lr(), 1e-15);
    }
}
