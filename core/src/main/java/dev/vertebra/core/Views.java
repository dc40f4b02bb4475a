package dev.vertebra.core;

import java.util.Arrays;
import java.util.List;

/** Shape operations: views over the same storage, and copies that assemble tensors (concat, stack, pad). */
final class Views {

    private Views() {
    }

    private static Tensor view(Tensor x, Layout layout) {
        return Tensor.wrap(x.storage(), layout, x.backend());
    }

    static Tensor reshape(Tensor x, int... dims) {
        Shape target = Shape.of(inferDims(x, dims));
        if (target.equals(x.shape())) {
            return x;
        }
        Layout v = x.layout().reshapeView(target);
        Tensor out = v != null ? view(x, v) : reshape(x.contiguousCopy().detach(), target.dims());
        Shape source = x.shape();
        return Autograd.record("reshape", out, g -> new Tensor[]{g.reshape(source.dims())}, x);
    }

    private static int[] inferDims(Tensor x, int[] dims) {
        int[] out = dims.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("reshape to " + Arrays.toString(dims) + ": only one dimension may be -1");
                }
                infer = i;
            } else {
                known *= out[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || x.numel() % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + x.shape() + " to " + Arrays.toString(dims));
            }
            out[infer] = (int) (x.numel() / known);
        }
        if (Shape.of(out).numel() != x.numel()) {
            throw new IllegalArgumentException("cannot reshape " + x.shape() + " (" + x.numel() + " elements) to "
                    + Arrays.toString(dims));
        }
        return out;
    }

    static Tensor permute(Tensor x, int... order) {
        Tensor out = view(x, x.layout().permute(order));
        int[] inverse = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            inverse[x.shape().axis(order[i])] = i;
        }
        return Autograd.record("permute", out, g -> new Tensor[]{g.permute(inverse)}, x);
    }

    static Tensor transpose(Tensor x, int a, int b) {
        int[] order = new int[x.rank()];
        Arrays.setAll(order, i -> i);
        int aa = x.shape().axis(a);
        int bb = x.shape().axis(b);
        order[aa] = bb;
        order[bb] = aa;
        return permute(x, order);
    }

    static Tensor narrow(Tensor x, int dim, int start, int length) {
        Tensor out = view(x, x.layout().narrow(dim, start, length));
        int d = x.shape().axis(dim);
        int size = x.dim(d);
        return Autograd.record("narrow", out, g -> {
            int[] before = new int[x.rank()];
            int[] after = new int[x.rank()];
            before[d] = start;
            after[d] = size - start - length;
            return new Tensor[]{pad(g, before, after, 0)};
        }, x);
    }

    static Tensor expand(Tensor x, Shape target) {
        if (target.equals(x.shape())) {
            return x;
        }
        Tensor out = view(x, x.layout().expand(target));
        Shape source = x.shape();
        return Autograd.record("expand", out, g -> new Tensor[]{sumTo(g, source)}, x);
    }

    static Tensor unsqueeze(Tensor x, int dim) {
        int d = dim < 0 ? dim + x.rank() + 1 : dim;
        if (d < 0 || d > x.rank()) {
            throw new IllegalArgumentException("unsqueeze(" + dim + ") is out of range for shape " + x.shape());
        }
        // A view whatever the strides: the new size-1 dimension takes any stride.
        int[] dims = new int[x.rank() + 1];
        int[] strides = new int[x.rank() + 1];
        for (int i = 0, j = 0; i < dims.length; i++) {
            dims[i] = i == d ? 1 : x.dim(j);
            strides[i] = i == d ? 1 : x.layout().stride(j++);
        }
        Tensor out = view(x, new Layout(Shape.of(dims), strides, x.layout().offset()));
        return Autograd.record("unsqueeze", out, g -> new Tensor[]{g.squeeze(d)}, x);
    }

    static Tensor squeeze(Tensor x, int dim) {
        int d = x.shape().axis(dim);
        if (x.dim(d) != 1) {
            throw new IllegalArgumentException("squeeze(" + dim + "): dimension has size " + x.dim(d) + " in " + x.shape());
        }
        int[] dims = new int[x.rank() - 1];
        int[] strides = new int[x.rank() - 1];
        for (int i = 0, j = 0; i < x.rank(); i++) {
            if (i != d) {
                dims[j] = x.dim(i);
                strides[j++] = x.layout().stride(i);
            }
        }
        Tensor out = view(x, new Layout(Shape.of(dims), strides, x.layout().offset()));
        return Autograd.record("squeeze", out, g -> new Tensor[]{g.unsqueeze(d)}, x);
    }

    static Tensor flatten(Tensor x, int start, int end) {
        if (x.rank() == 0) {
            return reshape(x, 1);
        }
        int s = x.shape().axis(start);
        int e = x.shape().axis(end);
        int[] dims = new int[x.rank() - (e - s)];
        int j = 0;
        for (int i = 0; i < s; i++) {
            dims[j++] = x.dim(i);
        }
        int merged = 1;
        for (int i = s; i <= e; i++) {
            merged *= x.dim(i);
        }
        dims[j++] = merged;
        for (int i = e + 1; i < x.rank(); i++) {
            dims[j++] = x.dim(i);
        }
        return reshape(x, dims);
    }

    /** Sums a broadcast gradient back down to {@code target} (the operand's shape before broadcasting). */
    static Tensor sumTo(Tensor g, Shape target) {
        if (g.shape().equals(target)) {
            return g;
        }
        int extra = g.rank() - target.rank();
        int[] dims = new int[g.rank()];
        int n = 0;
        for (int i = 0; i < g.rank(); i++) {
            if (i < extra || (target.dim(i - extra) == 1 && g.dim(i) != 1)) {
                dims[n++] = i;
            }
        }
        Tensor summed = n == 0 ? g : g.sum(true, Arrays.copyOf(dims, n));
        return summed.reshape(target.dims());
    }

    /** Constant padding: {@code before[d]} and {@code after[d]} elements added along each dimension d. */
    static Tensor pad(Tensor x, int[] before, int[] after, double value) {
        if (before.length != x.rank() || after.length != x.rank()) {
            throw new IllegalArgumentException("pad needs one before/after count per dimension of " + x.shape());
        }
        int[] dims = x.shape().dims();
        for (int d = 0; d < dims.length; d++) {
            if (before[d] < 0 || after[d] < 0) {
                throw new IllegalArgumentException("negative padding " + Arrays.toString(before) + " / " + Arrays.toString(after));
            }
            dims[d] += before[d] + after[d];
        }
        Tensor out = x.backend().full(Shape.of(dims), x.dtype(), value);
        x.backend().copyInto(x, interior(out, before, x.shape()));
        return Autograd.record("pad", out, g -> new Tensor[]{interior(g, before, x.shape()).contiguous()}, x);
    }

    private static Tensor interior(Tensor t, int[] before, Shape inner) {
        Layout l = t.layout();
        for (int d = 0; d < inner.rank(); d++) {
            l = l.narrow(d, before[d], inner.dim(d));
        }
        return Tensor.wrap(t.storage(), l, t.backend());
    }

    static Tensor concat(List<Tensor> parts, int dim) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("concat of no tensors");
        }
        Tensor first = parts.getFirst();
        int d = first.shape().axis(dim);
        int total = 0;
        // Mixed 16-bit and wider floats meet at the widest (AutocastOp.CONCAT); copyInto converts, and backward
        // hands each part its gradient in its own dtype.
        DType dtype = first.dtype();
        for (Tensor p : parts) {
            first.requireSameDevice("concat", p);
            DType common = AutocastOp.promote(dtype, p.dtype());
            if (p.rank() != first.rank() || common == null) {
                throw new IllegalArgumentException("concat: " + p.describe() + " does not match " + first.describe());
            }
            for (int i = 0; i < p.rank(); i++) {
                if (i != d && p.dim(i) != first.dim(i)) {
                    throw new IllegalArgumentException("concat along " + d + ": " + p.shape() + " does not match " + first.shape());
                }
            }
            total += p.dim(d);
            dtype = common;
        }
        Shape shape = first.shape().with(d, total);
        Backend b = first.backend();
        Tensor out = Tensor.wrap(b.allocate(dtype, shape.numel()), shape, b);
        int[] starts = new int[parts.size()];
        int at = 0;
        for (int i = 0; i < parts.size(); i++) {
            starts[i] = at;
            b.copyInto(parts.get(i), Tensor.wrap(out.storage(), out.layout().narrow(d, at, parts.get(i).dim(d)), b));
            at += parts.get(i).dim(d);
        }
        Tensor[] inputs = parts.toArray(Tensor[]::new);
        return Autograd.record("concat", out, g -> {
            Tensor[] grads = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                grads[i] = g.narrow(d, starts[i], inputs[i].dim(d)).contiguous();
            }
            return grads;
        }, inputs);
    }

    static Tensor stack(List<Tensor> parts, int dim) {
        return concat(parts.stream().map(p -> p.unsqueeze(dim)).toList(), dim);
    }

    static Tensor gather(Tensor x, int dim, Tensor index) {
        if (index.dtype() != DType.INT64) {
            throw new IllegalArgumentException("gather: index must be int64, got " + index.describe());
        }
        x.requireSameDevice("gather", index);
        int d = x.shape().axis(dim);
        if (index.rank() != x.rank()) {
            throw new IllegalArgumentException("gather: index " + index.shape() + " must have the rank of " + x.shape());
        }
        for (int i = 0; i < x.rank(); i++) {
            if (i != d && index.dim(i) > x.dim(i)) {
                throw new IllegalArgumentException("gather: index " + index.shape() + " is larger than " + x.shape()
                        + " in dimension " + i);
            }
        }
        Tensor out = x.backend().gather(x, d, index);
        Shape source = x.shape();
        return Autograd.record("gather", out,
                g -> new Tensor[]{x.backend().scatterAdd(source, d, index, g), null}, x, index);
    }
}
