package dev.vertebra.core;

import dev.vertebra.core.io.HostArray;

import java.util.Arrays;
import java.util.List;

/**
 * An n-dimensional array on a device, with reverse-mode autograd.
 *
 * <p>A tensor is a handle: storage + {@link Layout} (shape, strides, offset) + the backend that owns the storage
 * + (optionally) the graph node that produced it. Views ({@link #reshape}, {@link #permute}, {@link #narrow},
 * {@link #expand}) share storage. Image tensors are NHWC.
 *
 * <pre>{@code
 * Tensor w = Tensor.of(new float[]{1, 2, 3}, 3).requiresGrad(true);
 * Tensor loss = w.mul(w).sum();
 * loss.backward();
 * w.grad();              // [2, 4, 6]
 * }</pre>
 */
public final class Tensor {
    private final Storage storage;
    private final Layout layout;
    private final Backend backend;
    private boolean requiresGrad;
    private Tensor grad;
    private GradNode node;

    private Tensor(Storage storage, Layout layout, Backend backend) {
        this.storage = storage;
        this.layout = layout;
        this.backend = backend;
    }

    // ---- construction ---------------------------------------------------------------------------------------

    /**
     * Wraps storage in a tensor without copying (for backends building their outputs). The layout must stay
     * inside the storage.
     */
    public static Tensor wrap(Storage storage, Layout layout, Backend backend) {
        checkInside(storage, layout);
        return new Tensor(storage, layout, backend);
    }

    /** A contiguous tensor over the whole of {@code storage}. */
    public static Tensor wrap(Storage storage, Shape shape, Backend backend) {
        return wrap(storage, Layout.contiguous(shape), backend);
    }

    private static void checkInside(Storage storage, Layout layout) {
        if (layout.shape().numel() == 0) {
            return;
        }
        long max = layout.offset();
        long min = layout.offset();
        for (int d = 0; d < layout.shape().rank(); d++) {
            long span = (long) (layout.shape().dim(d) - 1) * layout.stride(d);
            if (span > 0) {
                max += span;
            } else {
                min += span;
            }
        }
        if (min < 0 || max >= storage.size()) {
            throw new IllegalArgumentException(layout + " reaches outside a storage of " + storage.size() + " elements");
        }
    }

    /** A tensor of zeros. */
    public static Tensor zeros(Shape shape, DType dtype, Device device) {
        Backend b = Backends.get(device);
        return wrap(b.allocate(dtype, shape.numel()), shape, b);
    }

    /** A float32 tensor of zeros on the default device. */
    public static Tensor zeros(int... shape) {
        return zeros(Shape.of(shape), DType.FLOAT32, Backends.defaultDevice());
    }

    /** A tensor filled with {@code value}. */
    public static Tensor full(Shape shape, DType dtype, Device device, double value) {
        return Backends.get(device).full(shape, dtype, value);
    }

    /** A float32 tensor of ones on the default device. */
    public static Tensor ones(int... shape) {
        return full(Shape.of(shape), DType.FLOAT32, Backends.defaultDevice(), 1);
    }

    /** A 0-dimensional float32 tensor on the default device. */
    public static Tensor scalar(double value) {
        return full(Shape.scalar(), DType.FLOAT32, Backends.defaultDevice(), value);
    }

    /** A float32 tensor on the default device holding {@code data} (copied) in C order. */
    public static Tensor of(float[] data, int... shape) {
        return fromHost(new HostArray(DType.FLOAT32, shape, data.clone()), Backends.defaultDevice());
    }

    /** A float64 tensor on the default device holding {@code data} (copied) in C order. */
    public static Tensor of(double[] data, int... shape) {
        return fromHost(new HostArray(DType.FLOAT64, shape, data.clone()), Backends.defaultDevice());
    }

    /** An int64 tensor (labels, indices) on the default device holding {@code data} (copied). */
    public static Tensor ofLongs(long[] data, int... shape) {
        return fromHost(new HostArray(DType.INT64, shape, data.clone()), Backends.defaultDevice());
    }

    /** Moves a host array onto a device (CPU devices may share the host array's memory). */
    public static Tensor fromHost(HostArray host, Device device) {
        Backend b = Backends.get(device);
        return wrap(b.upload(host), Shape.of(host.shape()), b);
    }

    // ---- properties ------------------------------------------------------------------------------------------

    public Shape shape() {
        return layout.shape();
    }

    /** Size of dimension {@code d} (negative counts from the end). */
    public int dim(int d) {
        return layout.shape().dim(d);
    }

    public int rank() {
        return layout.shape().rank();
    }

    public int numel() {
        return layout.shape().numel();
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Device device() {
        return backend.device();
    }

    public Backend backend() {
        return backend;
    }

    public Storage storage() {
        return storage;
    }

    public Layout layout() {
        return layout;
    }

    public boolean isContiguous() {
        return layout.isContiguous();
    }

    // ---- autograd --------------------------------------------------------------------------------------------

    /** True for leaves marked with {@link #requiresGrad(boolean)} and for results computed from them. */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf as needing gradients (returns this). Only floating-point leaves can require grad. */
    public Tensor requiresGrad(boolean value) {
        if (node != null) {
            throw new IllegalStateException("requiresGrad can only be set on leaf tensors; this one was computed by '"
                    + node.name() + "' (use detach() for a new leaf)");
        }
        if (value && !dtype().isFloating()) {
            throw new IllegalArgumentException("only floating-point tensors can require gradients, not " + dtype());
        }
        requiresGrad = value;
        return this;
    }

    /** True when this tensor was not computed by a recorded operation. */
    public boolean isLeaf() {
        return node == null;
    }

    /** Accumulated gradient of a leaf, or null before any backward. */
    public Tensor grad() {
        return grad;
    }

    /** Replaces (or with null clears) the accumulated gradient. */
    public void setGrad(Tensor value) {
        if (value != null && !value.shape().equals(shape())) {
            throw new IllegalArgumentException("gradient of shape " + value.shape() + " for a tensor of shape " + shape());
        }
        grad = MemoryScope.keep(value);
    }

    /** Name of the operation that produced this tensor, or null for leaves. */
    public String gradFn() {
        return node == null ? null : node.name();
    }

    /** Backpropagates from a one-element tensor (a loss). The graph is freed afterwards. */
    public void backward() {
        if (numel() != 1) {
            throw new IllegalStateException("backward() without a gradient needs a one-element tensor, not shape "
                    + shape() + "; pass the gradient explicitly");
        }
        backward(backend.full(shape(), dtype(), 1), false);
    }

    /** Backpropagates {@code gradient} (shaped like this tensor); keeps the graph when {@code retainGraph}. */
    public void backward(Tensor gradient, boolean retainGraph) {
        Autograd.backward(this, gradient, retainGraph);
    }

    /** The same data as a new leaf that records no history. */
    public Tensor detach() {
        return new Tensor(storage, layout, backend);
    }

    GradNode node() {
        return node;
    }

    void attach(GradNode gradNode) {
        node = gradNode;
        requiresGrad = true;
    }

    /**
     * Adds a gradient to this leaf's. {@code owned}: nothing else references {@code g}, so the first gradient is
     * taken as it is; otherwise it is copied, since it may alias another tensor's data. Later gradients make a new
     * sum rather than adding in place: the user may hold the previous one.
     */
    void accumulateGrad(Tensor g, boolean owned) {
        // A leaf's gradient outlives the step's MemoryScope (gradient accumulation, the optimiser, the caller).
        if (grad == null) {
            grad = MemoryScope.keep(owned ? g : g.contiguousCopy());
        } else {
            grad = MemoryScope.keep(grad.add(g));
            if (owned) {
                MemoryScope.recycle(g.storage());
            }
        }
    }

    /** {@code this += src} in place (same shape, dtype and device, no shared storage); returns this. */
    Tensor accumulateInPlace(Tensor src) {
        requireSameDevice("gradient sum", src);
        if (src.dtype() != dtype() || !src.shape().equals(shape())) {
            throw new IllegalArgumentException("gradient sum: " + describe() + " and " + src.describe() + " differ");
        }
        backend.accumulate(this, src);
        return this;
    }

    /** True when this tensor is the whole of its storage in C order: no view, no broadcast, no offset. */
    boolean spansStorage() {
        return isContiguous() && layout.offset() == 0 && storage.size() == numel();
    }

    // ---- conversion ------------------------------------------------------------------------------------------

    /** A C-ordered copy on the host. */
    public HostArray toHost() {
        return backend.download(this);
    }

    /** All elements in C order as floats (any dtype). */
    public float[] toFloatArray() {
        try (NoGrad _ = NoGrad.enter()) {
            return (float[]) to(DType.FLOAT32).toHost().data();
        }
    }

    /** All elements in C order as doubles (any dtype). */
    public double[] toDoubleArray() {
        try (NoGrad _ = NoGrad.enter()) {
            return (double[]) to(DType.FLOAT64).toHost().data();
        }
    }

    /** The value of a one-element tensor. */
    public double item() {
        if (numel() != 1) {
            throw new IllegalStateException("item() needs a one-element tensor, not shape " + shape());
        }
        return toDoubleArray()[0];
    }

    /** This tensor converted to {@code target} (differentiable between floating types). */
    public Tensor to(DType target) {
        if (target == dtype()) {
            return this;
        }
        Tensor out = wrap(backend.allocateForOverwrite(target, numel()), shape(), backend);
        backend.copyInto(this, out);
        if (target.isFloating() && dtype().isFloating()) {
            DType source = dtype();
            return Autograd.record("to", out, g -> new Tensor[]{g.to(source)}, this);
        }
        return out;
    }

    /** This tensor on another device (differentiable). */
    public Tensor to(Device target) {
        if (target.equals(device())) {
            return this;
        }
        Tensor out = fromHost(toHost(), target);
        Device source = device();
        return Autograd.record("to_device", out, g -> new Tensor[]{g.to(source)}, this);
    }

    /** A contiguous tensor with the same values (this one when already contiguous). */
    public Tensor contiguous() {
        return spansStorage() ? this : contiguousCopy();
    }

    /** Always a new contiguous copy (differentiable). */
    public Tensor contiguousCopy() {
        Tensor out = wrap(backend.allocateForOverwrite(dtype(), numel()), shape(), backend);
        backend.copyInto(this, out);
        return Autograd.record("contiguous", out, g -> new Tensor[]{g}, this);
    }

    /**
     * Overwrites this tensor's elements with {@code src} (broadcast to this shape), in place. Meant for
     * optimiser updates and buffers; refused on tensors that require grad while gradients are being recorded.
     */
    public Tensor assign(Tensor src) {
        if (requiresGrad && NoGrad.isGradEnabled()) {
            throw new IllegalStateException("in-place assign on a tensor that requires grad; do it inside NoGrad.enter()");
        }
        requireSameDevice("assign", src);
        backend.copyInto(src, this);
        return this;
    }

    /**
     * {@code this = alpha·this + beta·src} in place ({@link Backend#scaleAdd}), with the rounding of
     * {@code assign(mul(alpha).add(src.mul(beta)))} and without its temporaries: what optimisers update their
     * moments and weights with. A {@code src} of another shape or dtype, or a strided {@code this}, goes through the
     * separate ops. Refused, as {@link #assign}, on tensors that require grad while gradients are being recorded.
     */
    public Tensor scaleAddInPlace(double alpha, Tensor src, double beta) {
        if (requiresGrad && NoGrad.isGradEnabled()) {
            throw new IllegalStateException("in-place scaleAdd on a tensor that requires grad; do it inside NoGrad.enter()");
        }
        requireSameDevice("scaleAddInPlace", src);
        if (isContiguous() && src.shape().equals(shape()) && src.dtype() == dtype()) {
            backend.scaleAdd(this, alpha, src, beta);
        } else {
            assign(mul(alpha).add(src.mul(beta)));   // broadcasting and type promotion as the separate ops
        }
        return this;
    }

    /**
     * {@code dsts[i].scaleAddInPlace(alpha, srcs[i], beta)} for every i, with the same results; where every pair
     * is contiguous, of one shape and dtype, and on one backend, the backend updates them together
     * ({@link Backend#scaleAddAll}: a few launches instead of one per tensor on a GPU).
     */
    public static void scaleAddInPlaceAll(List<Tensor> dsts, double alpha, List<Tensor> srcs, double beta) {
        if (dsts.size() != srcs.size()) {
            throw new IllegalArgumentException("scaleAddInPlaceAll: " + dsts.size() + " targets but " + srcs.size()
                    + " sources");
        }
        if (dsts.isEmpty()) {
            return;
        }
        Backend b = dsts.getFirst().backend;
        boolean together = true;
        for (int i = 0; i < dsts.size(); i++) {
            Tensor d = dsts.get(i);
            Tensor s = srcs.get(i);
            if (d.requiresGrad && NoGrad.isGradEnabled()) {
                throw new IllegalStateException("in-place scaleAdd on a tensor that requires grad; do it inside "
                        + "NoGrad.enter()");
            }
            d.requireSameDevice("scaleAddInPlaceAll", s);
            together &= d.backend == b && d.isContiguous() && s.shape().equals(d.shape()) && s.dtype() == d.dtype();
        }
        if (together) {
            b.scaleAddAll(dsts, alpha, srcs, beta);
        } else {
            for (int i = 0; i < dsts.size(); i++) {
                dsts.get(i).scaleAddInPlace(alpha, srcs.get(i), beta);
            }
        }
    }

    void requireSameDevice(String op, Tensor other) {
        if (!other.device().equals(device())) {
            throw new IllegalArgumentException(op + ": operands are on different devices: " + describe() + " and "
                    + other.describe());
        }
    }

    /** Shape, dtype and device, for error messages. */
    public String describe() {
        return "tensor" + shape() + " " + dtype() + " on " + device();
    }

    // ---- views (delegating to Views) -------------------------------------------------------------------------

    /** The same elements with a new shape; one dimension may be -1. A view when possible. */
    public Tensor reshape(int... dims) {
        return Views.reshape(this, dims);
    }

    /** Dimensions reordered: output dimension i is input dimension {@code order[i]}. */
    public Tensor permute(int... order) {
        return Views.permute(this, order);
    }

    /** Swaps two dimensions. */
    public Tensor transpose(int a, int b) {
        return Views.transpose(this, a, b);
    }

    /** {@code length} elements from {@code start} along {@code dim}. */
    public Tensor narrow(int dim, int start, int length) {
        return Views.narrow(this, dim, start, length);
    }

    /** Broadcast to a larger shape without copying. */
    public Tensor expand(Shape target) {
        return Views.expand(this, target);
    }

    /** Inserts a size-1 dimension at {@code dim}. */
    public Tensor unsqueeze(int dim) {
        return Views.unsqueeze(this, dim);
    }

    /** Removes size-1 dimension {@code dim}. */
    public Tensor squeeze(int dim) {
        return Views.squeeze(this, dim);
    }

    /** Flattens dimensions {@code start..end} (inclusive) into one. */
    public Tensor flatten(int start, int end) {
        return Views.flatten(this, start, end);
    }

    /** Elements picked along {@code dim} by INT64 {@code index} (torch.gather). */
    public Tensor gather(int dim, Tensor index) {
        return Views.gather(this, dim, index);
    }

    // ---- elementwise and reductions (delegating to MathOps) ---------------------------------------------------

    public Tensor add(Tensor other) {
        return MathOps.binary(BinaryOp.ADD, this, other);
    }

    public Tensor add(double value) {
        return MathOps.binaryScalar(BinaryOp.ADD, this, value);
    }

    public Tensor sub(Tensor other) {
        return MathOps.binary(BinaryOp.SUB, this, other);
    }

    public Tensor sub(double value) {
        return MathOps.binaryScalar(BinaryOp.ADD, this, -value);
    }

    public Tensor mul(Tensor other) {
        return MathOps.binary(BinaryOp.MUL, this, other);
    }

    public Tensor mul(double value) {
        return MathOps.binaryScalar(BinaryOp.MUL, this, value);
    }

    public Tensor div(Tensor other) {
        return MathOps.binary(BinaryOp.DIV, this, other);
    }

    public Tensor div(double value) {
        return MathOps.binaryScalar(BinaryOp.MUL, this, 1 / value);
    }

    /** Elementwise power by a scalar exponent. */
    public Tensor pow(double exponent) {
        return MathOps.binaryScalar(BinaryOp.POW, this, exponent);
    }

    /** Elementwise maximum (gradient to the larger operand; ties split evenly). */
    public Tensor maximum(Tensor other) {
        return MathOps.binary(BinaryOp.MAX, this, other);
    }

    /** Elementwise minimum (gradient to the smaller operand; ties split evenly). */
    public Tensor minimum(Tensor other) {
        return MathOps.binary(BinaryOp.MIN, this, other);
    }

    /** 1 where this &gt; other, else 0 (not differentiable). */
    public Tensor gt(Tensor other) {
        return MathOps.compare(BinaryOp.GT, this, other);
    }

    /** 1 where this &gt; value, else 0 (not differentiable). */
    public Tensor gt(double value) {
        return MathOps.compareScalar(BinaryOp.GT, this, value);
    }

    /** 1 where this &lt; value, else 0 (not differentiable). */
    public Tensor lt(double value) {
        return MathOps.compareScalar(BinaryOp.LT, this, value);
    }

    /** 1 where this &lt; other, else 0 (not differentiable). */
    public Tensor lt(Tensor other) {
        return MathOps.compare(BinaryOp.LT, this, other);
    }

    /** 1 where this &ge; other, else 0 (not differentiable). */
    public Tensor ge(Tensor other) {
        return MathOps.compare(BinaryOp.GE, this, other);
    }

    /** 1 where this &le; other, else 0 (not differentiable). */
    public Tensor le(Tensor other) {
        return MathOps.compare(BinaryOp.LE, this, other);
    }

    /** 1 where equal, else 0 (not differentiable). */
    public Tensor eq(Tensor other) {
        return MathOps.compare(BinaryOp.EQ, this, other);
    }

    /** Minimum of all elements (a scalar). */
    public Tensor min() {
        return MathOps.reduce(ReduceOp.MIN, this, allDims(), false);
    }

    public Tensor neg() {
        return MathOps.unary(UnaryOp.NEG, this);
    }

    public Tensor exp() {
        return MathOps.unary(UnaryOp.EXP, this);
    }

    public Tensor log() {
        return MathOps.unary(UnaryOp.LOG, this);
    }

    public Tensor sqrt() {
        return MathOps.unary(UnaryOp.SQRT, this);
    }

    public Tensor abs() {
        return MathOps.unary(UnaryOp.ABS, this);
    }

    public Tensor relu() {
        return MathOps.unary(UnaryOp.RELU, this);
    }

    public Tensor sigmoid() {
        return MathOps.unary(UnaryOp.SIGMOID, this);
    }

    public Tensor tanh() {
        return MathOps.unary(UnaryOp.TANH, this);
    }

    /** x·σ(x), also called swish. */
    public Tensor silu() {
        return MathOps.unary(UnaryOp.SILU, this);
    }

    /** log(1 + eˣ), computed stably. */
    public Tensor softplus() {
        return MathOps.unary(UnaryOp.SOFTPLUS, this);
    }

    /** Elements limited to [min, max] (gradient 0 outside). */
    public Tensor clamp(double min, double max) {
        return MathOps.clamp(this, min, max);
    }

    /** Sum of all elements (a scalar). */
    public Tensor sum() {
        return MathOps.reduce(ReduceOp.SUM, this, allDims(), false);
    }

    /** Sum over {@code dims}. */
    public Tensor sum(boolean keepDim, int... dims) {
        return MathOps.reduce(ReduceOp.SUM, this, dims, keepDim);
    }

    /** Mean of all elements (a scalar). */
    public Tensor mean() {
        return MathOps.mean(this, allDims(), false);
    }

    /** Mean over {@code dims}. */
    public Tensor mean(boolean keepDim, int... dims) {
        return MathOps.mean(this, dims, keepDim);
    }

    /** Maximum over {@code dims} (torch.amax: gradient split evenly among ties). */
    public Tensor max(boolean keepDim, int... dims) {
        return MathOps.reduce(ReduceOp.MAX, this, dims, keepDim);
    }

    /** Minimum over {@code dims} (torch.amin). */
    public Tensor min(boolean keepDim, int... dims) {
        return MathOps.reduce(ReduceOp.MIN, this, dims, keepDim);
    }

    /** Maximum of all elements (a scalar). */
    public Tensor max() {
        return MathOps.reduce(ReduceOp.MAX, this, allDims(), false);
    }

    /** Variance over {@code dims} with Bessel's correction ({@code correction} = 1 unbiased, 0 biased). */
    public Tensor var(int correction, boolean keepDim, int... dims) {
        return MathOps.var(this, dims, correction, keepDim);
    }

    /** Matrix product with NumPy semantics for 1-D, 2-D and batched (broadcast) operands. */
    public Tensor matmul(Tensor other) {
        return MathOps.matmul(this, other);
    }

    private int[] allDims() {
        int[] dims = new int[rank()];
        Arrays.setAll(dims, i -> i);
        return dims;
    }

    @Override
    public String toString() {
        String head = "Tensor" + shape() + " " + dtype() + " on " + device()
                + (node != null ? " (" + node.name() + ")" : requiresGrad ? " (requires grad)" : "");
        if (numel() > 16) {
            return head;
        }
        return head + " " + Arrays.toString(toDoubleArray());
    }
}
