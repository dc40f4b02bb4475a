package dev.vertebra.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How autograd hands a rule that accepts one ({@link GradNode.AddendRule}) a part of its output's gradient unsummed:
 * a broadcast part as the addend and the rest summed as usual; a broadcast part alone as the gradient itself; every
 * part summed where the rule declines. The input gradients are the same in each case.
 */
class AutogradAddendTest {

    /** A probe y = x whose rule records what it was handed and passes {@code gradOutput + addend} on to x. */
    private static final class Probe implements GradNode.AddendRule {
        final boolean accepts;
        final List<Tensor> grads = new ArrayList<>();
        final List<Tensor> addends = new ArrayList<>();

        Probe(boolean accepts) {
            this.accepts = accepts;
        }

        @Override
        public boolean acceptsAddend(Tensor part) {
            return accepts && part.layout().stride(1) == 0;
        }

        @Override
        public Tensor[] apply(Tensor gradOutput, Tensor addend) {
            grads.add(gradOutput);
            addends.add(addend);
            return new Tensor[]{addend == null ? gradOutput.contiguousCopy() : gradOutput.add(addend)};
        }
    }

    private static Tensor input() {
        double[] v = new double[2 * 3];
        for (int i = 0; i < v.length; i++) {
            v[i] = 0.25 * i - 0.5;
        }
        return Tensor.of(v, 2, 3).requiresGrad(true);
    }

    private static Tensor probed(Tensor x, Probe probe) {
        return Autograd.record("probe", x.mul(1), probe, x);
    }

    /** d/dx of sum(y·c) + sum(sum over dim 1 of y, weighted): a dense part and a part broadcast along dim 1. */
    private static Tensor lossOfBothParts(Tensor y) {
        Tensor dense = y.mul(Tensor.of(new double[]{1, -2, 3, 0.5, 4, -1}, 2, 3)).sum();
        Tensor broadcast = y.sum(true, 1).mul(Tensor.of(new double[]{1.5, -0.75}, 2, 1)).sum();
        return dense.add(broadcast);
    }

    private static final double[] BOTH_PARTS = {2.5, -0.5, 4.5, -0.25, 3.25, -1.75};

    @Test
    void aBroadcastPartIsHandedOverUnsummedAndTheSumIsTheSame() {
        Probe probe = new Probe(true);
        Tensor x = input();
        lossOfBothParts(probed(x, probe)).backward();
        assertEquals(1, probe.grads.size());
        assertNotNull(probe.addends.getFirst(), "the broadcast part comes as the addend");
        assertEquals(0, probe.addends.getFirst().layout().stride(1));
        assertTrue(probe.grads.getFirst().isContiguous(), "the dense part comes as the gradient");
        assertArrayEquals(BOTH_PARTS, x.grad().toDoubleArray(), 0);
    }

    @Test
    void aRuleThatDeclinesGetsThePartsSummed() {
        Probe probe = new Probe(false);
        Tensor x = input();
        lossOfBothParts(probed(x, probe)).backward();
        assertNull(probe.addends.getFirst());
        assertArrayEquals(BOTH_PARTS, x.grad().toDoubleArray(), 0);
    }

    @Test
    void aBroadcastPartAloneIsTheGradientItself() {
        Probe probe = new Probe(true);
        Tensor x = input();
        probed(x, probe).sum(true, 1).mul(Tensor.of(new double[]{1.5, -0.75}, 2, 1)).sum().backward();
        assertNull(probe.addends.getFirst());
        assertArrayEquals(new double[]{1.5, 1.5, 1.5, -0.75, -0.75, -0.75}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void aSecondBroadcastPartIsSummedWithTheRest() {
        Probe probe = new Probe(true);
        Tensor x = input();
        Tensor y = probed(x, probe);
        lossOfBothParts(y).add(y.sum(true, 1).sum()).backward();
        assertNotNull(probe.addends.getFirst());
        double[] expected = BOTH_PARTS.clone();
        for (int i = 0; i < expected.length; i++) {
            expected[i] += 1;
        }
        assertArrayEquals(expected, x.grad().toDoubleArray(), 0);
    }
}
