package dev.vertebra.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Records operations into the graph and runs reverse-mode differentiation over it. */
final class Autograd {

    private Autograd() {
    }

    /**
     * Attaches a backward rule to {@code output} when gradients are enabled and any input requires them.
     * Returns {@code output} for chaining.
     */
    static Tensor record(String name, Tensor output, GradNode.BackwardRule rule, Tensor... inputs) {
        if (!NoGrad.isGradEnabled()) {
            return output;
        }
        for (Tensor in : inputs) {
            if (in != null && in.requiresGrad()) {
                output.attach(new GradNode(name, inputs, rule));
                return output;
            }
        }
        return output;
    }

    /** Backpropagates {@code gradient} (of root's shape) from {@code root} to every leaf that requires grad. */
    static void backward(Tensor root, Tensor gradient, boolean retainGraph) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward() on a tensor that does not require grad (shape "
                    + root.shape() + "): no input of its computation has requiresGrad set");
        }
        if (!gradient.shape().equals(root.shape())) {
            throw new IllegalArgumentException("backward() gradient of shape " + gradient.shape()
                    + " does not match the tensor's shape " + root.shape());
        }
        // Checked up front: rules that pass the gradient through unchanged (add, views) would otherwise leave a
        // leaf with a gradient of the wrong dtype or on the wrong device.
        root.requireSameDevice("backward() gradient", gradient);
        if (gradient.dtype() != root.dtype()) {
            throw new IllegalArgumentException("backward() gradient " + gradient.describe()
                    + " does not match the tensor's dtype: " + root.describe());
        }
        List<Tensor> order = topologicalOrder(root);
        Map<Tensor, Tensor> pending = new IdentityHashMap<>();
        // Pending gradients that nothing outside this walk references: further contributions are added in place.
        Set<Tensor> owned = Collections.newSetFromMap(new IdentityHashMap<>());
        // A part of a tensor's gradient that its node's rule adds itself (GradNode.AddendRule), one at most.
        Map<Tensor, Tensor> addends = new IdentityHashMap<>();
        pending.put(root, gradient);
        // Autocast off: each backward rule runs in the dtypes its forward recorded, whatever scope is open.
        try (NoGrad _ = NoGrad.enter(); Autocast _ = Autocast.disable()) {
            for (Tensor t : order) {
                Tensor grad = pending.remove(t);
                Tensor addend = addends.remove(t);
                if (grad == null) {
                    if (addend == null) {
                        continue;
                    }
                    grad = addend; // the only part: the gradient itself
                    addend = null;
                }
                boolean gradOwned = owned.remove(grad);
                if (t.node() == null) {
                    t.accumulateGrad(grad, gradOwned);
                    continue;
                }
                GradNode node = t.node();
                Tensor[] inputGrads = node.backward(grad, addend);
                if (!retainGraph) {
                    node.release();
                }
                if (gradOwned && !sharesStorage(grad, inputGrads)) {
                    MemoryScope.recycle(grad.storage()); // consumed, and nothing else holds it
                }
                Tensor[] inputs = node.inputs();
                for (int i = 0; i < inputs.length; i++) {
                    Tensor in = inputs[i];
                    if (in == null || !in.requiresGrad() || inputGrads[i] == null) {
                        continue;
                    }
                    Tensor g = inputGrads[i];
                    if (!g.shape().equals(in.shape())) {
                        throw new IllegalStateException("backward of '" + node.name() + "' produced a gradient of shape "
                                + g.shape() + " for an input of shape " + in.shape());
                    }
                    // A promoting op (bfloat16 + float32 → float32) hands its 16-bit input a float32 gradient; every
                    // gradient takes its tensor's dtype, as in PyTorch, so rules and leaves see matching types.
                    if (g.dtype() != in.dtype()) {
                        g = g.to(in.dtype());
                    }
                    if (in.node() != null && !addends.containsKey(in) && in.node().acceptsAddend(g)) {
                        addends.put(in, g);
                        continue;
                    }
                    boolean fresh = isFresh(g, i, inputGrads, grad, t, inputs);
                    Tensor before = pending.get(in);
                    if (before == null) {
                        pending.put(in, g);
                        if (fresh) {
                            owned.add(g);
                        }
                    } else {
                        Tensor sum = accumulate(before, owned.remove(before), g, fresh);
                        pending.put(in, sum);
                        owned.add(sum);
                    }
                }
            }
        }
    }

    /**
     * {@code before + g}, in place where one of them is owned: into {@code before} when it is, else into {@code g}
     * when it is fresh (IEEE addition commutes, so the bits are those of {@code before.add(g)}); else a new tensor.
     */
    private static Tensor accumulate(Tensor before, boolean beforeOwned, Tensor g, boolean fresh) {
        if (beforeOwned) {
            before.accumulateInPlace(g);
            if (fresh) {
                MemoryScope.recycle(g.storage());
            }
            return before;
        }
        if (fresh) {
            return g.accumulateInPlace(before);
        }
        return before.add(g);
    }

    /** True when one of {@code results} is a view of (or is) {@code t}'s storage. */
    private static boolean sharesStorage(Tensor t, Tensor[] results) {
        for (Tensor r : results) {
            if (r != null && r.storage() == t.storage()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether gradient {@code g} (the {@code i}-th a rule returned) is a tensor the rule computed, so that autograd may
     * add into it: it spans exactly its own storage (no view, no broadcast), and shares that storage with nothing the
     * rule could have returned without computing — its incoming gradient, its node's output and inputs, its other
     * results. Backward rules return views of these or results of backend ops, never other saved tensors; backend
     * ops' outputs are new storage ({@link Backend}).
     */
    private static boolean isFresh(Tensor g, int i, Tensor[] results, Tensor incoming, Tensor output, Tensor[] inputs) {
        if (!g.spansStorage()) {
            return false;
        }
        Storage s = g.storage();
        if (s == incoming.storage() || s == output.storage()) {
            return false;
        }
        for (Tensor in : inputs) {
            if (in != null && in.storage() == s) {
                return false;
            }
        }
        for (int j = 0; j < results.length; j++) {
            if (j != i && results[j] != null && results[j].storage() == s) {
                return false;
            }
        }
        return true;
    }

    /** Tensors reachable from root through the graph, each after every tensor that depends on it. */
    private static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> postOrder = new ArrayList<>();
        Set<Tensor> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Object[]> stack = new ArrayDeque<>();   // frames of {tensor, next input index}
        stack.push(new Object[]{root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int next = (int) frame[1];
            Tensor[] inputs = t.node() == null ? new Tensor[0] : t.node().inputs();
            while (next < inputs.length && (inputs[next] == null || !inputs[next].requiresGrad()
                    || visited.contains(inputs[next]))) {
                next++;
            }
            if (next < inputs.length) {
                frame[1] = next + 1;
                visited.add(inputs[next]);
                stack.push(new Object[]{inputs[next], 0});
            } else {
                stack.pop();
                postOrder.add(t);
            }
        }
        Collections.reverse(postOrder);
        return postOrder;
    }
}
