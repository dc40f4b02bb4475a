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

    /**
     * A rule that can take one part of its output's gradient apart and add it itself, where that is cheaper than
     * autograd summing the parts first: a broadcast part (a squeeze-excitation's pooling sends every pixel the
     * same gradient) costs a pass over the output's size to add, nothing inside a kernel that reads the gradient
     * anyway. Autograd adds the addend last, after any other parts.
     */
    interface AddendRule extends BackwardRule {
        /** Whether {@code part}, one contribution to the output's gradient, may be handed over as the addend. */
        boolean acceptsAddend(Tensor part);

        /** The input gradients for the output gradient {@code gradOutput + addend} ({@code addend} may be null). */
        Tensor[] apply(Tensor gradOutput, Tensor addend);

        @Override
        default Tensor[] apply(Tensor gradOutput) {
            return apply(gradOutput, null);
        }
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

    /** Whether the rule takes {@code part} of the output's gradient as an addend ({@link AddendRule}). */
    boolean acceptsAddend(Tensor part) {
        return rule instanceof AddendRule r && r.acceptsAddend(part);
    }

    /** The input gradients for {@code gradOutput}, plus {@code addend} where not null (an accepted part). */
    Tensor[] backward(Tensor gradOutput, Tensor addend) {
        if (rule == null) {
            throw new IllegalStateException("backward through '" + name + "' a second time: its graph was freed by "
                    + "the first backward; pass retainGraph = true to the first call to keep it");
        }
        if (addend == null) {
            return rule.apply(gradOutput);
        }
        return ((AddendRule) rule).apply(gradOutput, addend);
    }

    void release() {
        rule = null;
    }
}
