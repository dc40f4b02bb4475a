package dev.vertebra.core;

import dev.vertebra.core.io.HostArray;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * A backend that forwards every primitive to another one and times it, so a workload's cost can be split by op
 * without touching the op code. It serves the device alias {@code <kind>+profile} ({@link Device#profiled()}):
 * tensors on that device dispatch here, this backend times the primitive on the wrapped backend and hands the
 * result back on the alias, so the whole computation stays profiled.
 *
 * <p>Each primitive is timed with {@link System#nanoTime()} between two {@link Backend#synchronize()} calls, so an
 * accelerator's queued work is charged to the op that queued it (and runs serialised, which is what a per-op
 * profile needs). Only the outermost primitive of a thread is counted: a primitive a backend builds from other
 * tensor ops is charged once. Ops are named by kind — convolutions split into 1×1, depthwise and dense (and by
 * shape with the system property {@code vertebra.profile.shapes=true}), elementwise ops by operator, broadcasting
 * binary ops apart from same-shape ones — and prefixed by the current {@link #section} (e.g. the optimiser's
 * update), if any. Convolutions and matrix products also count their multiply-adds (two FLOPs each; a fused op the
 * sum of its convolutions', its elementwise epilogues not counted), so the table gives their GFLOP/s. Given a
 * {@link ParallelClock} ({@link #countParallelTime}), the table also says how much of the machine each op used: its
 * serial time (no parallel loop open, one thread working) and its idle time (the wall time it would have saved with
 * every thread busy throughout: serial stretches, loop tails, late joins).
 *
 * <pre>{@code
 * ProfilingBackend profiler = Backends.profiled(Device.CPU);
 * model.to(profiler.device());                       // parameters now dispatch through the profiler
 * Tensor loss = lossOf(model.forward(x.to(profiler.device())));
 * loss.backward();
 * try (ProfilingBackend.Section _ = profiler.section("optimiser")) {
 *     optimizer.step();
 * }
 * System.out.print(profiler.table(stepNanos));
 * }</pre>
 */
public final class ProfilingBackend implements Backend {
    private final Backend inner;
    private final Device device;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final ThreadLocal<Nesting> nesting = ThreadLocal.withInitial(Nesting::new);
    private final ThreadLocal<String> section = new ThreadLocal<>();
    private final boolean byShape = Boolean.getBoolean(SHAPES_PROPERTY);
    private volatile ParallelClock parallelClock;
    /** The threads of the last clock given: the table's idle time outside primitives is spread over them. */
    private volatile int clockThreads = 1;

    ProfilingBackend(Backend inner, Device device) {
        this.inner = inner;
        this.device = device;
    }

    /** The backend whose primitives this one times. */
    public Backend inner() {
        return inner;
    }

    @Override
    public Device device() {
        return device;
    }

    /** Prefixes the ops recorded on this thread with {@code name} until the returned section is closed. */
    public Section section(String name) {
        String previous = section.get();
        section.set(name);
        return () -> section.set(previous);
    }

    /** A labelled stretch of work; closing it restores the previous label. */
    public interface Section extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Running totals of a backend's parallel work, read before and after each op: the summed wall time of the
     * parallel loops ended so far, the summed time threads spent running their chunks, and the number of threads.
     * The CPU backend's is {@code CpuThreads.statisticsClock()}, with its loop statistics on.
     */
    public interface ParallelClock {
        long loopNanos();

        long busyNanos();

        int threads();
    }

    /**
     * Splits each op's time from now on by {@code clock} (null: stop): its serial nanoseconds are its time minus what
     * {@link ParallelClock#loopNanos()} advanced during it; its idle nanoseconds, its time minus its thread time
     * (chunks, and the serial stretches on the calling thread) spread over all threads. Meant for one thread issuing
     * ops: the clock sums every thread's loops.
     */
    public void countParallelTime(ParallelClock clock) {
        if (clock != null) {
            clockThreads = Math.max(1, clock.threads());
        }
        parallelClock = clock;
    }

    /** Forgets everything recorded so far. */
    public void reset() {
        counters.clear();
    }

    /**
     * The time spent in one kind of op: calls, total nanoseconds, the floating-point operations of its convolutions
     * or matrix products (0 for other ops), the nanoseconds no parallel loop was open (one thread working) and the
     * wall time lost to idle threads, serial time included; the last two -1 unless every call was timed with a
     * {@link #countParallelTime ParallelClock}.
     */
    public record OpTime(String op, long calls, long nanos, long flops, long serialNanos, long idleNanos) {
        /** These figures divided by {@code steps}: per step of work recorded over that many. */
        OpTime perStep(int steps) {
            return new OpTime(op, calls / steps, nanos / steps, flops / steps,
                    serialNanos < 0 ? -1 : serialNanos / steps, idleNanos < 0 ? -1 : idleNanos / steps);
        }
    }

    /** Everything recorded since the last {@link #reset()}, most expensive first. */
    public List<OpTime> times() {
        List<OpTime> list = new ArrayList<>();
        counters.forEach((op, c) -> {
            long calls = c.calls.sum();
            boolean split = c.splitCalls.sum() == calls;
            list.add(new OpTime(op, calls, c.nanos.sum(), c.flops.sum(), split ? c.serialNanos.sum() : -1,
                    split ? c.idleNanos.sum() : -1));
        });
        list.sort(Comparator.comparingLong(OpTime::nanos).reversed().thenComparing(OpTime::op));
        return list;
    }

    /**
     * The recorded times as a text table: op, calls, milliseconds, share of {@code wallNanos} (the wall time of the
     * profiled work), with a {@link #countParallelTime ParallelClock} the serial and idle milliseconds, and for
     * convolutions and matrix products GFLOP/s; then a row for the time spent outside primitives (autograd,
     * Java-side bookkeeping: serial and idle throughout) and the total (with the number of primitive calls).
     */
    public String table(long wallNanos) {
        return table(wallNanos, 1);
    }

    /**
     * {@link #table(long)} of work recorded over {@code steps} equal steps, per step: calls and times divided by
     * {@code steps}, {@code wallNanos} being one step's (mean) wall time.
     */
    public String table(long wallNanos, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        }
        List<OpTime> list = times().stream().map(t -> t.perStep(steps)).toList();
        boolean split = !list.isEmpty() && list.stream().allMatch(t -> t.serialNanos() >= 0);
        int width = Math.max(24, list.stream().mapToInt(t -> t.op().length()).max().orElse(0));
        StringBuilder sb = new StringBuilder();
        String row = "%-" + width + "s %7s %10s %7s" + (split ? " %9s %7s" : "%s%s") + " %9s";
        row(sb, row, "op", "calls", "ms", "share", split ? "serial ms" : "", split ? "idle ms" : "", "GFLOP/s");
        long inPrimitives = 0;
        long serial = 0;
        long idle = 0;
        long calls = 0;
        for (OpTime t : list) {
            inPrimitives += t.nanos();
            serial += Math.max(0, t.serialNanos());
            idle += Math.max(0, t.idleNanos());
            calls += t.calls();
            row(sb, row, t.op(), t.calls(), millis(t.nanos()), share(t.nanos(), wallNanos),
                    split ? millis(t.serialNanos()) : "", split ? millis(t.idleNanos()) : "",
                    rate(t.flops(), t.nanos()));
        }
        long outside = wallNanos - inPrimitives;
        // Outside primitives one thread works: all of that time is serial, and idle time is all but its share.
        long outsideIdle = split ? outside - outside / clockThreads : 0;
        row(sb, row, "(outside primitives)", "", millis(outside), share(outside, wallNanos),
                split ? millis(outside) : "", split ? millis(outsideIdle) : "", "");
        // The calls' total: on an accelerator each primitive is a launch or more, so their number is host work.
        row(sb, row, "total", calls, millis(wallNanos), share(wallNanos, wallNanos),
                split ? millis(serial + outside) : "", split ? millis(idle + outsideIdle) : "", "");
        return sb.toString();
    }

    /** One line of {@link #table}, without the blanks an empty last column leaves. */
    private static void row(StringBuilder sb, String format, Object... cells) {
        sb.append(String.format(Locale.ROOT, format, cells).stripTrailing()).append(System.lineSeparator());
    }

    /** FLOPs per nanosecond, i.e. GFLOP/s; blank for ops that count none. */
    private static String rate(long flops, long nanos) {
        return flops <= 0 || nanos <= 0 ? "" : String.format(Locale.ROOT, "%.1f", (double) flops / nanos);
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.2f", nanos / 1e6);
    }

    private static String share(long nanos, long total) {
        return total <= 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * nanos / total);
    }

    // ---- timing ------------------------------------------------------------------------------------------------

    private static final class Counter {
        final LongAdder calls = new LongAdder();
        final LongAdder nanos = new LongAdder();
        final LongAdder flops = new LongAdder();
        final LongAdder serialNanos = new LongAdder();
        final LongAdder idleNanos = new LongAdder();
        /** Calls whose time was split by a clock of parallel work. */
        final LongAdder splitCalls = new LongAdder();
    }

    /** A thread's depth of nested primitives, and the parallel clock as its outermost one began (null: none). */
    private static final class Nesting {
        int depth;
        ParallelClock clock;
        long loopNanosAtStart;
        long busyNanosAtStart;
    }

    /** Starts timing an op: returns the start time, or -1 when an enclosing primitive is already being timed. */
    private long begin() {
        Nesting n = nesting.get();
        if (n.depth++ > 0) {
            return -1;
        }
        inner.synchronize();
        ParallelClock clock = parallelClock;
        n.clock = clock;
        if (clock != null) {
            n.loopNanosAtStart = clock.loopNanos();
            n.busyNanosAtStart = clock.busyNanos();
        }
        return System.nanoTime();
    }

    private void end(String op, long start) {
        end(op, start, 0);
    }

    /** {@link #end(String, long)} of an op that did {@code flops} floating-point operations. */
    private void end(String op, long start, long flops) {
        Nesting n = nesting.get();
        n.depth--;
        if (start < 0) {
            return;
        }
        inner.synchronize();
        long elapsed = System.nanoTime() - start;
        String prefix = section.get();
        Counter c = counters.computeIfAbsent(prefix == null ? op : prefix + ": " + op, _ -> new Counter());
        c.calls.increment();
        c.nanos.add(elapsed);
        c.flops.add(flops);
        ParallelClock clock = n.clock;
        if (clock != null) {
            // Loop and chunk times are taken a little inside the op's: clamp what that rounding leaves.
            long serial = Math.clamp(elapsed - (clock.loopNanos() - n.loopNanosAtStart), 0, elapsed);
            long threadNanos = clock.busyNanos() - n.busyNanosAtStart + serial;
            c.serialNanos.add(serial);
            c.idleNanos.add(Math.clamp(elapsed - threadNanos / Math.max(1, clock.threads()), 0, elapsed));
            c.splitCalls.increment();
            n.clock = null;
        }
    }

    /** {@code t} handed back on this device, so ops on it dispatch here again. */
    private Tensor own(Tensor t) {
        return Tensor.wrap(t.storage(), t.layout(), this);
    }

    private BatchNormResult own(BatchNormResult r) {
        return new BatchNormResult(own(r.output()), own(r.mean()), own(r.variance()), own(r.invStd()));
    }

    private BatchNormGrads own(BatchNormGrads g) {
        return new BatchNormGrads(own(g.input()), own(g.weight()), own(g.bias()));
    }

    /** An op that writes into existing storage: timed, nothing to hand back. */
    private void timedInPlace(String op, Runnable body) {
        long start = begin();
        try {
            body.run();
        } finally {
            end(op, start);
        }
    }

    private Tensor timed(String op, Supplier<Tensor> body) {
        return timed(op, 0, body);
    }

    private Tensor timed(String op, long flops, Supplier<Tensor> body) {
        long start = begin();
        try {
            return own(body.get());
        } finally {
            end(op, start, flops);
        }
    }

    // ---- op names ----------------------------------------------------------------------------------------------

    /** 1×1, depthwise or dense, from the HWIO weight shape {@code [KH, KW, Cin/groups, Cout]}. */
    static String convKind(Shape w, ConvSpec spec) {
        if (spec.groups() > 1 && w.dim(2) == 1) {
            return "depthwise";
        }
        return w.dim(0) == 1 && w.dim(1) == 1 ? "1x1" : "dense";
    }

    /**
     * Whether convolutions and batch norms are also split by shape (PyTorch's {@code group_by_input_shape}): system
     * property {@value #SHAPES_PROPERTY}. Off by default, since a model has dozens of shapes.
     */
    static final String SHAPES_PROPERTY = "vertebra.profile.shapes";

    /** The convolution's kind, and with {@value #SHAPES_PROPERTY} its input shape, kernel, stride and outputs. */
    static String convName(String direction, Shape x, Shape w, ConvSpec spec, boolean byShape) {
        return "conv2d " + direction + " " + convLayer(x, w, spec, byShape);
    }

    /** {@code op}, and with {@value #SHAPES_PROPERTY} its input's shape: batch norm's ops split like convolutions. */
    static String shaped(String op, Shape x, boolean byShape) {
        return byShape ? op + " " + x : op;
    }

    /** A convolution's kind, and with byShape its input shape, kernel, stride and output channels. */
    private static String convLayer(Shape x, Shape w, ConvSpec spec, boolean byShape) {
        String kind = convKind(w, spec);
        return byShape ? kind + " " + x + " k" + w.dim(0) + "x" + w.dim(1) + " s" + spec.strideH() + " -> " + w.dim(3)
                : kind;
    }

    /**
     * A convolution's floating-point operations: two per multiply-add, N · OH · OW · KH · KW · Cin/groups · Cout of
     * them for input x, HWIO weight w ({@code [KH, KW, Cin/groups, Cout]}) and spec — the same count for its input
     * and weight gradients.
     */
    static long convFlops(Shape x, Shape w, ConvSpec spec) {
        long outPixels = (long) x.dim(0) * spec.outHeight(x.dim(1), w.dim(0)) * spec.outWidth(x.dim(2), w.dim(1));
        return 2 * outPixels * w.dim(0) * w.dim(1) * w.dim(2) * w.dim(3);
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    // ---- primitives --------------------------------------------------------------------------------------------

    @Override
    public Storage allocate(DType dtype, int size) {
        long start = begin();
        try {
            return inner.allocate(dtype, size);
        } finally {
            end("allocate", start);
        }
    }

    @Override
    public Storage allocateForOverwrite(DType dtype, int size) {
        long start = begin();
        try {
            return inner.allocateForOverwrite(dtype, size);
        } finally {
            end("allocate for overwrite", start);
        }
    }

    @Override
    public Storage upload(HostArray data) {
        long start = begin();
        try {
            return inner.upload(data);
        } finally {
            end("upload", start);
        }
    }

    @Override
    public HostArray download(Tensor x) {
        long start = begin();
        try {
            return inner.download(x);
        } finally {
            end("download", start);
        }
    }

    @Override
    public void copyInto(Tensor src, Tensor dst) {
        String kind = src.shape().equals(dst.shape()) && src.isContiguous() && src.dtype() == dst.dtype()
                ? "copy contiguous" : "copy strided/broadcast/cast";
        long start = begin();
        try {
            inner.copyInto(src, dst);
        } finally {
            end(kind, start);
        }
    }

    @Override
    public void accumulate(Tensor dst, Tensor src) {
        timedInPlace("accumulate (in place)", () -> inner.accumulate(dst, src));
    }

    @Override
    public void scaleAdd(Tensor dst, double alpha, Tensor src, double beta) {
        timedInPlace("scale-add (in place)", () -> inner.scaleAdd(dst, alpha, src, beta));
    }

    @Override
    public void scaleAddAll(List<Tensor> dsts, double alpha, List<Tensor> srcs, double beta) {
        timedInPlace("scale-add of many tensors (in place)", () -> inner.scaleAddAll(dsts, alpha, srcs, beta));
    }

    @Override
    public Tensor full(Shape shape, DType dtype, double value) {
        return timed("fill", () -> inner.full(shape, dtype, value));
    }

    @Override
    public Tensor unary(UnaryOp op, Tensor x) {
        return timed("unary " + lower(op), () -> inner.unary(op, x));
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String name = "binary " + lower(op) + (a.shape().equals(b.shape()) ? "" : " (broadcast)");
        return timed(name, () -> inner.binary(op, a, b));
    }

    @Override
    public Tensor binaryScalar(BinaryOp op, Tensor a, double scalar) {
        return timed("binary " + lower(op) + " (scalar)", () -> inner.binaryScalar(op, a, scalar));
    }

    @Override
    public Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim) {
        return timed("reduce " + lower(op), () -> inner.reduce(op, x, dims, keepDim));
    }

    @Override
    public Tensor mulSum(Tensor a, Tensor b, int[] dims, boolean keepDim) {
        return timed("mul-sum", () -> inner.mulSum(a, b, dims, keepDim));
    }

    @Override
    public Tensor[] broadcastMulGradients(Tensor g, Tensor a, Tensor b, int[] dims) {
        long start = begin();
        try {
            Tensor[] r = inner.broadcastMulGradients(g, a, b, dims);
            return new Tensor[]{own(r[0]), own(r[1])};
        } finally {
            end("mul gradients (broadcast)", start);
        }
    }

    @Override
    public Tensor matmul(Tensor a, Tensor b) {
        long start = begin();
        Tensor product = null;
        try {
            product = inner.matmul(a, b);
            return own(product);
        } finally {
            // Each output element a dot product of length K = a's last dimension.
            end("matmul", start, product == null ? 0 : 2L * product.numel() * a.dim(-1));
        }
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor w, ConvSpec spec) {
        return timed(convName("fwd", x.shape(), w.shape(), spec, byShape), convFlops(x.shape(), w.shape(), spec),
                () -> inner.conv2d(x, w, spec));
    }

    @Override
    public Tensor conv2dAffine(Tensor x, Tensor inputScale, Tensor w, ConvSpec spec, Tensor scale, Tensor shift,
                               Activation activation) {
        String name = convName("fwd", x.shape(), w.shape(), spec, byShape) + (inputScale == null ? "" : " gated")
                + " + affine" + (activation == Activation.NONE ? "" : " + " + lower(activation));
        return timed(name, convFlops(x.shape(), w.shape(), spec),
                () -> inner.conv2dAffine(x, inputScale, w, spec, scale, shift, activation));
    }

    @Override
    public Tensor conv2dGated(Tensor x, Tensor gate, Tensor w, ConvSpec spec) {
        return timed(convName("fwd", x.shape(), w.shape(), spec, byShape) + " gated",
                convFlops(x.shape(), w.shape(), spec), () -> inner.conv2dGated(x, gate, w, spec));
    }

    @Override
    public GatedConvGrads conv2dGatedBackward(Tensor dy, Tensor x, Tensor gate, Tensor w, ConvSpec spec) {
        long start = begin();
        try {
            GatedConvGrads r = inner.conv2dGatedBackward(dy, x, gate, w, spec);
            return new GatedConvGrads(own(r.input()), own(r.gate()), own(r.weight()));
        } finally {
            end(convName("bwd", x.shape(), w.shape(), spec, byShape) + " gated", start,
                    2 * convFlops(x.shape(), w.shape(), spec));
        }
    }

    @Override
    public Tensor conv2dAffineResidual(Tensor x, Tensor inputScale, ConvAffine layer, Tensor residual) {
        String name = convName("fwd", x.shape(), layer.weight().shape(), layer.spec(), byShape)
                + (inputScale == null ? "" : " gated") + " + affine"
                + (layer.activation() == Activation.NONE ? "" : " + " + lower(layer.activation())) + " + residual";
        return timed(name, convFlops(x.shape(), layer.weight().shape(), layer.spec()),
                () -> inner.conv2dAffineResidual(x, inputScale, layer, residual));
    }

    @Override
    public PooledOutput conv2dAffinePooled(Tensor x, ConvAffine layer) {
        String name = convName("fwd", x.shape(), layer.weight().shape(), layer.spec(), byShape) + " + affine"
                + (layer.activation() == Activation.NONE ? "" : " + " + lower(layer.activation())) + " + sum over H, W";
        long start = begin();
        try {
            PooledOutput r = inner.conv2dAffinePooled(x, layer);
            return new PooledOutput(own(r.output()), own(r.channelSums()));
        } finally {
            end(name, start, convFlops(x.shape(), layer.weight().shape(), layer.spec()));
        }
    }

    @Override
    public Tensor conv2dAffineChain(Tensor x, ConvAffine first, ConvAffine second) {
        return timed(chainName(x, first, second), chainFlops(x, first, second),
                () -> inner.conv2dAffineChain(x, first, second));
    }

    @Override
    public PooledOutput conv2dAffineChainPooled(Tensor x, ConvAffine first, ConvAffine second) {
        long start = begin();
        try {
            PooledOutput r = inner.conv2dAffineChainPooled(x, first, second);
            return new PooledOutput(own(r.output()), own(r.channelSums()));
        } finally {
            end(chainName(x, first, second) + " + sum over H, W", start, chainFlops(x, first, second));
        }
    }

    /** The first convolution's output: the second's input. */
    private static Shape chainMiddle(Tensor x, ConvAffine first) {
        return first.spec().outputShape(x.shape(), first.weight().shape());
    }

    private static long chainFlops(Tensor x, ConvAffine first, ConvAffine second) {
        return convFlops(x.shape(), first.weight().shape(), first.spec())
                + convFlops(chainMiddle(x, first), second.weight().shape(), second.spec());
    }

    private String chainName(Tensor x, ConvAffine first, ConvAffine second) {
        Shape middle = chainMiddle(x, first);
        return "conv2d fwd " + convLayer(x.shape(), first.weight().shape(), first.spec(), byShape) + " then "
                + convLayer(middle, second.weight().shape(), second.spec(), byShape) + " + affine"
                + (second.activation() == Activation.NONE ? "" : " + " + lower(second.activation()));
    }

    @Override
    public Tensor conv2dBackwardInput(Tensor dy, Tensor w, Shape xShape, ConvSpec spec) {
        return timed(convName("bwd-input", xShape, w.shape(), spec, byShape), convFlops(xShape, w.shape(), spec),
                () -> inner.conv2dBackwardInput(dy, w, xShape, spec));
    }

    @Override
    public Tensor conv2dBackwardWeight(Tensor x, Tensor dy, Shape wShape, ConvSpec spec) {
        return timed(convName("bwd-weight", x.shape(), wShape, spec, byShape), convFlops(x.shape(), wShape, spec),
                () -> inner.conv2dBackwardWeight(x, dy, wShape, spec));
    }

    @Override
    public Tensor pool2d(Tensor x, PoolSpec spec) {
        return timed("pool2d fwd", () -> inner.pool2d(x, spec));
    }

    @Override
    public Tensor pool2dBackward(Tensor x, Tensor dy, PoolSpec spec) {
        return timed("pool2d bwd", () -> inner.pool2dBackward(x, dy, spec));
    }

    @Override
    public BatchNormResult batchNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        long start = begin();
        try {
            BatchNormResult r = inner.batchNorm(x, weight, bias, eps);
            return own(r);
        } finally {
            end(shaped("batch norm fwd", x.shape(), byShape), start);
        }
    }

    @Override
    public BatchNormGrads batchNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor invStd) {
        long start = begin();
        try {
            BatchNormGrads g = inner.batchNormBackward(dy, x, weight, mean, invStd);
            return own(g);
        } finally {
            end(shaped("batch norm bwd", x.shape(), byShape), start);
        }
    }

    @Override
    public BatchNormResult batchNormSilu(Tensor x, Tensor weight, Tensor bias, double eps) {
        long start = begin();
        try {
            BatchNormResult r = inner.batchNormSilu(x, weight, bias, eps);
            return own(r);
        } finally {
            end(shaped("batch norm+silu fwd", x.shape(), byShape), start);
        }
    }

    @Override
    public PooledBatchNorm batchNormSiluPooled(Tensor x, Tensor weight, Tensor bias, double eps) {
        long start = begin();
        try {
            PooledBatchNorm p = inner.batchNormSiluPooled(x, weight, bias, eps);
            return new PooledBatchNorm(own(p.result()), own(p.channelSums()));
        } finally {
            end(shaped("batch norm+silu fwd + sum over H, W", x.shape(), byShape), start);
        }
    }

    @Override
    public void adamStep(Tensor w, Tensor g, Tensor m, Tensor v, AdamStep step) {
        long start = begin();
        try {
            inner.adamStep(w, g, m, v, step);
        } finally {
            end("optimiser: adam step (in place)", start);
        }
    }

    @Override
    public ChannelAffine batchNormEvalAffine(Tensor runningMean, Tensor runningVar, Tensor bnWeight, Tensor bnBias,
                                             Tensor convBias, double eps) {
        long start = begin();
        try {
            ChannelAffine a = inner.batchNormEvalAffine(runningMean, runningVar, bnWeight, bnBias, convBias, eps);
            return new ChannelAffine(own(a.scale()), own(a.shift()));
        } finally {
            end("batch norm eval affine", start);
        }
    }

    @Override
    public BatchNormGrads batchNormSiluBackward(Tensor dz, Tensor x, Tensor weight, Tensor bias, Tensor mean,
                                                Tensor invStd) {
        return batchNormSiluBackward(dz, null, x, weight, bias, mean, invStd);
    }

    @Override
    public BatchNormGrads batchNormSiluBackward(Tensor dz, Tensor dzPerImage, Tensor x, Tensor weight, Tensor bias,
                                                Tensor mean, Tensor invStd) {
        long start = begin();
        try {
            BatchNormGrads g = inner.batchNormSiluBackward(dz, dzPerImage, x, weight, bias, mean, invStd);
            return own(g);
        } finally {
            end(shaped("batch norm+silu bwd", x.shape(), byShape), start);
        }
    }

    @Override
    public BatchNormGrads depthwiseBatchNormSiluBackward(Tensor dy, Tensor w, ConvSpec spec, Tensor x, Tensor weight,
                                                         Tensor bias, Tensor mean, Tensor invStd) {
        long start = begin();
        try {
            return own(inner.depthwiseBatchNormSiluBackward(dy, w, spec, x, weight, bias, mean, invStd));
        } finally {
            end(convName("bwd-input", x.shape(), w.shape(), spec, byShape) + " + batch norm+silu bwd", start,
                    convFlops(x.shape(), w.shape(), spec));
        }
    }

    @Override
    public BatchNormResult batchNormSiluDepthwise(Tensor x, Tensor weight, Tensor bias, double eps, Tensor w,
                                                  ConvSpec spec) {
        long start = begin();
        try {
            return own(inner.batchNormSiluDepthwise(x, weight, bias, eps, w, spec));
        } finally {
            end("batch norm+silu + " + convName("fwd", x.shape(), w.shape(), spec, byShape), start,
                    convFlops(x.shape(), w.shape(), spec));
        }
    }

    @Override
    public PointwiseBatchNormResult pointwiseBatchNormSiluDepthwise(Tensor input, Tensor pointwise,
                                                                    ConvSpec pointwiseSpec, Tensor weight,
                                                                    Tensor bias, double eps, Tensor w,
                                                                    ConvSpec spec) {
        long start = begin();
        Shape x = pointwiseSpec.outputShape(input.shape(), pointwise.shape());
        try {
            PointwiseBatchNormResult r = inner.pointwiseBatchNormSiluDepthwise(input, pointwise, pointwiseSpec,
                    weight, bias, eps, w, spec);
            return new PointwiseBatchNormResult(own(r.expansion()), own(r.result()));
        } finally {
            end(convName("fwd", input.shape(), pointwise.shape(), pointwiseSpec, byShape) + " + batch norm+silu + "
                    + convName("fwd", x, w.shape(), spec, byShape), start,
                    convFlops(input.shape(), pointwise.shape(), pointwiseSpec) + convFlops(x, w.shape(), spec));
        }
    }

    @Override
    public DepthwiseBatchNormSiluGrads depthwiseBatchNormSiluGrads(Tensor dy, Tensor w, ConvSpec spec, Tensor x,
                                                                   Tensor weight, Tensor bias, Tensor mean,
                                                                   Tensor invStd) {
        long start = begin();
        try {
            DepthwiseBatchNormSiluGrads g = inner.depthwiseBatchNormSiluGrads(dy, w, spec, x, weight, bias, mean,
                    invStd);
            return new DepthwiseBatchNormSiluGrads(own(g.batchNorm()), own(g.depthwiseWeight()));
        } finally {
            end(convName("bwd-input+weight", x.shape(), w.shape(), spec, byShape) + " + batch norm+silu bwd", start,
                    2 * convFlops(x.shape(), w.shape(), spec));
        }
    }

    @Override
    public PointwiseBatchNormSiluDepthwiseGrads pointwiseBatchNormSiluDepthwiseGrads(
            Tensor dy, Tensor w, ConvSpec spec, Tensor x, Tensor weight, Tensor bias, Tensor mean, Tensor invStd,
            Tensor input, Tensor pointwise, ConvSpec pointwiseSpec) {
        long start = begin();
        try {
            PointwiseBatchNormSiluDepthwiseGrads g = inner.pointwiseBatchNormSiluDepthwiseGrads(dy, w, spec, x,
                    weight, bias, mean, invStd, input, pointwise, pointwiseSpec);
            return new PointwiseBatchNormSiluDepthwiseGrads(own(g.input()), own(g.pointwiseWeight()),
                    own(g.batchNormWeight()), own(g.batchNormBias()), own(g.depthwiseWeight()));
        } finally {
            end(convName("bwd-input+weight", x.shape(), w.shape(), spec, byShape) + " + batch norm+silu + "
                    + convName("bwd", input.shape(), pointwise.shape(), pointwiseSpec, byShape), start,
                    2 * convFlops(x.shape(), w.shape(), spec)
                            + 2 * convFlops(input.shape(), pointwise.shape(), pointwiseSpec));
        }
    }

    @Override
    public boolean recomputesDepthwiseInput() {
        return inner.recomputesDepthwiseInput();
    }

    @Override
    public BatchNormResult batchNormMixed(Tensor x, Tensor weight, Tensor bias, double eps, boolean silu) {
        long start = begin();
        try {
            BatchNormResult r = inner.batchNormMixed(x, weight, bias, eps, silu);
            return own(r);
        } finally {
            end(silu ? "batch norm+silu fwd (16-bit)" : "batch norm fwd (16-bit)", start);
        }
    }

    @Override
    public BatchNormGrads batchNormMixedBackward(Tensor dz, Tensor x, Tensor weight, Tensor bias, Tensor mean,
                                                 Tensor invStd, boolean silu) {
        long start = begin();
        try {
            BatchNormGrads g = inner.batchNormMixedBackward(dz, x, weight, bias, mean, invStd, silu);
            return own(g);
        } finally {
            end(silu ? "batch norm+silu bwd (16-bit)" : "batch norm bwd (16-bit)", start);
        }
    }

    @Override
    public Tensor gather(Tensor x, int dim, Tensor index) {
        return timed("gather", () -> inner.gather(x, dim, index));
    }

    @Override
    public Tensor scatterAdd(Shape shape, int dim, Tensor index, Tensor src) {
        return timed("scatter add", () -> inner.scatterAdd(shape, dim, index, src));
    }

    @Override
    public void synchronize() {
        inner.synchronize();
    }
}
