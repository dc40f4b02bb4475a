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
        pending.put(root, gradient);
        // Autocast off: each backward rule runs in the dtypes its forward recorded, whatever scope is open.
        try (NoGrad _ = NoGrad.enter(); Autocast _ = Autocast.disable()) {
            for (Tensor t : order) {
                Tensor grad = pending.remove(t);
                if (grad == null) {
                    continue;
                }
                if (t.node() == null) {
                    t.accumulateGrad(grad);
                    continue;
                }
                GradNode node = t.node();
                Tensor[] inputGrads = node.backward(grad);
                if (!retainGraph) {
                    node.release();
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
                    pending.merge(in, g, Tensor::add);
                }
            }
        }
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
