package dev.vertebra.core;

/**
 * One recorded operation of the autograd graph: its inputs and the rule that maps the gradient of its output
 * to gradients of its inputs. The rule (and with it the tensors it saved) is dropped after backward runs
 * through it, unless the graph is retained.
 */
final class GradNode {

    /** Maps the output's gradient to one gradient per input (null where an input needs none). */
    @FunctionalInterface
    interface BackwardRule {
        Tensor[] apply(Tensor gradOutput);
    }

    private final String name;
    private final Tensor[] inputs;
    private BackwardRule rule;

    GradNode(String name, Tensor[] inputs, BackwardRule rule) {
        this.name = name;
        this.inputs = inputs;
        this.rule = rule;
    }

    String name() {
        return name;
    }

    Tensor[] inputs() {
        return inputs;
    }

    Tensor[] backward(Tensor gradOutput) {
        if (rule == null) {
            throw new IllegalStateException("backward through '" + name + "' a second time: its graph was freed by "
                    + "the first backward; pass retainGraph = true to the first call to keep it");
        }
        return rule.apply(gradOutput);
    }

    void release() {
        rule = null;
    }
}
