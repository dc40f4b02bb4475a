package dev.vertebra.bench.model;

import dev.vertebra.core.Autocast;
import dev.vertebra.core.Backend;
import dev.vertebra.core.Backends;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Precision;
import dev.vertebra.core.ProfilingBackend;
import dev.vertebra.core.Reduction;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.cpu.CpuThreads;
import dev.vertebra.core.cpu.LoopStatistics;
import dev.vertebra.efficientnet.EfficientNet;
import dev.vertebra.efficientnet.EfficientNetConfig;
import dev.vertebra.nn.Buffer;
import dev.vertebra.nn.Losses;
import dev.vertebra.nn.Parameter;
import dev.vertebra.nn.optim.LossScaler;
import dev.vertebra.nn.optim.Optimizer;
import dev.vertebra.nn.optim.ParamGroup;
import dev.vertebra.nn.optim.Sgd;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleSupplier;

/**
 * End-to-end throughput of an EfficientNet on random data: the workload of the PyTorch CPU reference
 * (torchvision's B0 with 8 outputs; training = forward, BCE-with-logits against random targets in [0, 1),
 * backward, SGD with momentum 0.9 at lr 0.01; inference = a no-grad forward in eval mode). Warm-up steps first,
 * then the median of the measured steps. With {@link Options#profile()} three more steps run on the device's
 * {@code +profile} alias and their per-op times per step are printed (a fresh model and optimiser, warmed as the
 * measured one), and on the CPU the measured steps' use of the threads ({@link #threadUse}).
 * {@link Options#precision()} runs the forward pass and loss under autocast for bf16/fp16 (the step of PyTorch's
 * {@code torch.autocast} + {@code GradScaler} recipe, the scaler for fp16 only) and allows TF32 on accelerators for
 * tf32; the CPU computes tf32 as fp32.
 *
 * <pre>{@code
 * var options = new ModelBenchmark.Options("b0", 8, 224, ModelBenchmark.Mode.TRAIN, 5, 3, Device.CPU, 8, true);
 * ModelBenchmark.Result r = ModelBenchmark.run(options, new PrintWriter(System.out, true));
 * System.out.println(r.imagesPerSecond());
 * }</pre>
 */
public final class ModelBenchmark {

    private ModelBenchmark() {
    }

    /** What a step does. */
    public enum Mode {
        /** Forward, loss, backward and optimiser update. */
        TRAIN,
        /** A no-grad forward in eval mode. */
        INFER
    }

    /**
     * @param model   EfficientNet variant, b0 … b7 or custom:WIDTH:DEPTH ({@link EfficientNetConfig#parse})
     * @param batch   images per step
     * @param size    image side (the images are {@code [batch, size, size, 3]}, NHWC)
     * @param mode    training or inference steps
     * @param steps   measured steps (≥ 1); the median is reported
     * @param warmup  steps run before measuring (JIT, buffers)
     * @param device  where the model and data live
     * @param classes classifier outputs
     * @param profileSteps steps of a per-op profile to print after the measured ones, averaged (and on the CPU the
     *                     measured steps' thread use); 0 for none
     * @param precision    fp32, tf32, bf16 or fp16
     */
    public record Options(String model, int batch, int size, Mode mode, int steps, int warmup, Device device,
                          int classes, int profileSteps, Precision precision) {
        public Options {
            if (batch < 1 || size < 8 || steps < 1 || warmup < 0 || classes < 1 || profileSteps < 0
                    || precision == null) {
                throw new IllegalArgumentException("need batch ≥ 1, size ≥ 8, steps ≥ 1, warmup ≥ 0, classes ≥ 1, "
                        + "profile steps ≥ 0 and a precision: " + batch + ", " + size + ", " + steps + ", " + warmup
                        + ", " + classes + ", " + profileSteps + ", " + precision);
            }
            EfficientNetConfig.parse(model); // a wrong name fails here, before anything is built
        }

        /** With a profile of {@value #PROFILED_STEPS} steps or none. */
        public Options(String model, int batch, int size, Mode mode, int steps, int warmup, Device device, int classes,
                       boolean profile, Precision precision) {
            this(model, batch, size, mode, steps, warmup, device, classes, profile ? PROFILED_STEPS : 0, precision);
        }

        /** Whether a per-op profile follows the measured steps. */
        public boolean profile() {
            return profileSteps > 0;
        }

        /** In float32. */
        public Options(String model, int batch, int size, Mode mode, int steps, int warmup, Device device, int classes,
                       boolean profile) {
            this(model, batch, size, mode, steps, warmup, device, classes, profile, Precision.FP32);
        }
    }

    /**
     * @param stepSeconds     the measured steps' times, in order
     * @param medianSeconds   their median
     * @param imagesPerSecond batch / median
     * @param peakRssBytes    the process's peak resident set (VmHWM), or -1 where /proc does not say
     */
    public record Result(double[] stepSeconds, double medianSeconds, double imagesPerSecond, long peakRssBytes) {
    }

    /**
     * The workload of {@code o} built once (model, optimiser, random batch on its device), as a step to call
     * repeatedly: each call runs one step and returns its wall time in seconds. For harnesses that do their own
     * timing (JMH); {@link #run} is the measured benchmark.
     */
    public static PreparedStep prepare(Options o) {
        return new PreparedStep(new Workload(o, o.device()));
    }

    /**
     * {@link #prepare}'s step: each {@link #getAsDouble} call runs one step and returns its seconds, and
     * {@link #fingerprint} tells whether two builds computed the same bits. Two workloads of the same options start
     * from the same weights and batch, so after the same number of steps two builds whose kernels round alike hold
     * the same gradients and weights to the bit, and give the same fingerprints; a build whose kernels round
     * differently gives another (bench/scripts/StepComparison.java prints both).
     */
    public static final class PreparedStep implements DoubleSupplier {
        private final Workload workload;

        private PreparedStep(Workload workload) {
            this.workload = workload;
        }

        @Override
        public double getAsDouble() {
            return workload.timedStep();
        }

        /**
         * A hash of the bits of every parameter, its gradient (from the last training step) and every buffer, in
         * the model's order; for inference, of the logits of one more forward pass (run here) as well.
         */
        public long fingerprint() {
            return workload.fingerprint();
        }
    }

    /** Runs the benchmark, printing progress and (last line) {@code img/s: X} to {@code out}. */
    public static Result run(Options o, PrintWriter out) {
        out.printf(Locale.ROOT, "%s %s batch=%d size=%d classes=%d precision=%s on %s (%s), %d warm-up + %d measured "
                + "steps%n", o.model(), o.mode().name().toLowerCase(Locale.ROOT), o.batch(), o.size(), o.classes(),
                o.precision().cliName(), o.device(), describe(o.device()), o.warmup(), o.steps());
        // Process-wide, like torch.backends.cuda.matmul.allow_tf32; only accelerators read it.
        Backends.allowTf32(o.precision().tf32());
        double[] times = measure(o, out);
        double median = median(times);
        if (o.profile()) {
            profile(o, out);
        }
        long rss = peakRssBytes();
        if (rss >= 0) {
            out.printf(Locale.ROOT, "peak RSS: %.0f MB%n", rss / 1e6);
        }
        double imagesPerSecond = o.batch() / median;
        out.printf(Locale.ROOT, "img/s: %.2f%n", imagesPerSecond);
        out.flush();
        return new Result(times, median, imagesPerSecond, rss);
    }

    /** Warm-up then measured steps of a fresh workload; the measured steps' seconds. */
    private static double[] measure(Options o, PrintWriter out) {
        Workload w = new Workload(o, o.device());
        for (int i = 0; i < o.warmup(); i++) {
            out.printf(Locale.ROOT, "warm-up %d: %.1f ms%n", i + 1, w.timedStep() * 1e3);
            out.flush();
        }
        long gcBefore = gcMillis();
        long allocatedBefore = allocatedBytes();
        double[] times = new double[o.steps()];
        double[] queued = new double[o.steps()];
        // On an accelerator, also the time the host took to queue the step (up to the final synchronisation): near
        // the step's time, the host bounds the step; well below it, the device does.
        boolean accelerator = !o.device().equals(Device.CPU);
        boolean threadUse = o.profile() && !accelerator;
        if (threadUse) {
            CpuThreads.startLoopStatistics();
        }
        for (int i = 0; i < o.steps(); i++) {
            times[i] = w.timedStep();
            queued[i] = w.lastQueuedSeconds();
            out.printf(Locale.ROOT, accelerator ? "step %d: %.1f ms (host queued it in %.1f ms)%n" : "step %d: %.1f ms%n",
                    i + 1, times[i] * 1e3, queued[i] * 1e3);
            out.flush();
        }
        LoopStatistics loops = threadUse ? CpuThreads.stopLoopStatistics() : null;
        if (accelerator) {
            out.printf(Locale.ROOT, "median host time to queue a step: %.1f ms%n", median(queued) * 1e3);
        }
        long allocatedAfter = allocatedBytes();
        String allocated = allocatedBefore < 0 ? "n/a (no jdk.management)" : String.format(Locale.ROOT, "%.0f MB/step",
                (allocatedAfter - allocatedBefore) / 1e6 / o.steps());
        out.printf(Locale.ROOT, "median: %.1f ms/step; GC during measured steps: %d ms; heap allocated: %s; "
                        + "reused between steps: %.0f MB%n", median(times) * 1e3, gcMillis() - gcBefore, allocated,
                MemoryScope.cachedBytes() / 1e6);
        if (loops != null) {
            out.print(threadUse(loops, Arrays.stream(times).average().orElse(0) * 1e3, o.steps()));
        }
        return times;
    }

    /**
     * Steps a profile averages over unless told otherwise. One step is too noisy on a shared machine (an op's time
     * moves by tens of percent from step to step), and the profiled workload is warmed as long as the measured one.
     * On a busy machine a small op's figure still moves by a third between runs of three: more steps steady it.
     */
    public static final int PROFILED_STEPS = 3;

    /** Prints the per-op table, per step, of {@link Options#profileSteps()} steps on the profiling alias. */
    private static void profile(Options o, PrintWriter out) {
        ProfilingBackend profiler = Backends.profiled(o.device());
        Workload w = new Workload(o, profiler.device());
        for (int i = 0; i < Math.max(1, o.warmup()); i++) {
            w.timedStep();
        }
        profiler.reset();
        // On the CPU, each op's serial and idle time too: how much of the threads it used.
        boolean serialTimes = o.device().equals(Device.CPU);
        if (serialTimes) {
            CpuThreads.startLoopStatistics();
            profiler.countParallelTime(CpuThreads.statisticsClock());
        }
        double[] phases = new double[3];
        try {
            for (int i = 0; i < o.profileSteps(); i++) {
                double[] step = w.phasedStep(profiler);
                for (int p = 0; p < phases.length; p++) {
                    phases[p] += step[p] / o.profileSteps();
                }
            }
        } finally {
            if (serialTimes) {
                profiler.countParallelTime(null);
                CpuThreads.stopLoopStatistics();
            }
        }
        long total = (long) ((phases[0] + phases[1] + phases[2]) * 1e9);
        out.printf(Locale.ROOT, "%nprofile of a %s step on %s (mean of %d): forward %.1f ms, backward %.1f ms, "
                        + "optimiser %.1f ms%n", o.mode().name().toLowerCase(Locale.ROOT), profiler.device(),
                o.profileSteps(), phases[0] * 1e3, phases[1] * 1e3, phases[2] * 1e3);
        out.print(profiler.table(total, o.profileSteps()));
        out.println();
        profiler.reset();
    }

    /**
     * How much of the CPU the measured steps used (with {@code --profile}; the profiled steps' own timing would
     * count as time outside the loops), per step: the time its parallel loops were open and how busy the threads
     * were in them, what the calling thread waited for at their ends, how late the workers joined, and the time
     * outside any loop, when one thread works (serial code, single-chunk loops) and the others wait.
     *
     * @param stepMillis the steps' mean time
     */
    static String threadUse(LoopStatistics loops, double stepMillis, int steps) {
        int threads = CpuThreads.parallelism();
        double open = loops.loopNanos() / 1e6 / steps;
        return String.format(Locale.ROOT, "threads (%d): %.0f parallel loops a step, open %.1f of its %.1f ms; in them"
                        + " the threads ran chunks %.0f %% of the time (caller %.1f ms, workers %.1f ms), the caller"
                        + " waited %.1f ms for workers' last chunks, a worker joined %.0f µs after a loop started"
                        + " (mean); %.1f ms outside loops%n", threads, (double) loops.loops() / steps, open,
                stepMillis, 100 * loops.busyShare(threads), loops.callerChunkNanos() / 1e6 / steps,
                loops.workerChunkNanos() / 1e6 / steps, loops.callerWaitNanos() / 1e6 / steps,
                loops.meanJoinDelayMicros(), Math.max(0, stepMillis - open));
    }

    /** A model, its optimiser and one batch of random data on one device. */
    private static final class Workload {
        private final Options o;
        private final Backend backend;
        private final EfficientNet model;
        private final Optimizer optimizer;
        private final LossScaler scaler;
        private final Tensor images;   // [batch, size, size, 3]
        private final Tensor targets;  // [batch, classes]

        Workload(Options o, Device device) {
            this.o = o;
            this.backend = Backends.get(device);
            Generator gen = new Generator(0);
            EfficientNetConfig config = EfficientNetConfig.parse(o.model()).withClasses(o.classes());
            model = new EfficientNet(config, gen);
            model.to(device);
            model.train(o.mode() == Mode.TRAIN);
            optimizer = new Sgd(List.of(ParamGroup.of(model.parameters(), 0.01, 0)), 0.9, 0, false);
            scaler = LossScaler.forPrecision(o.precision());
            images = Init.normal(gen, Shape.of(o.batch(), o.size(), o.size(), config.inChannels()), 0, 1, device);
            targets = Init.uniform(gen, Shape.of(o.batch(), o.classes()), 0, 1, device);
        }

        private double lastQueuedSeconds;

        /** One step's wall time in seconds, queued device work included. */
        double timedStep() {
            long start = System.nanoTime();
            try (MemoryScope _ = MemoryScope.open()) {
                if (o.mode() == Mode.TRAIN) {
                    optimizer.zeroGrad();
                    scaler.scale(forwardLoss()).backward();
                    scaler.step(optimizer);
                    scaler.update();
                } else {
                    forwardNoGrad();
                }
                lastQueuedSeconds = (System.nanoTime() - start) / 1e9;
                backend.synchronize();
            }
            return (System.nanoTime() - start) / 1e9;
        }

        /** See {@link PreparedStep#fingerprint}. */
        long fingerprint() {
            long hash = 1;
            for (Parameter p : model.namedParameters().values()) {
                hash = hash(hash(hash, p.data()), p.grad());
            }
            for (Buffer buffer : model.namedBuffers().values()) {
                hash = hash(hash, buffer.data());
            }
            if (o.mode() == Mode.INFER) {
                try (MemoryScope _ = MemoryScope.open(); NoGrad _ = NoGrad.enter();
                     Autocast _ = o.precision().autocast()) {
                    hash = hash(hash, model.forward(images));
                }
            }
            return hash;
        }

        /** {@code hash} followed by t's elements' float32 bits (a null t adds a marker). */
        private static long hash(long hash, Tensor t) {
            if (t == null) {
                return hash * 31 + 7;
            }
            for (float f : t.toFloatArray()) {
                hash = hash * 1_000_003 + Float.floatToRawIntBits(f);
            }
            return hash;
        }

        /** The host's part of the last {@link #timedStep}: its seconds up to the final synchronisation. */
        double lastQueuedSeconds() {
            return lastQueuedSeconds;
        }

        /** Forward and loss in the run's precision. */
        private Tensor forwardLoss() {
            try (Autocast _ = o.precision().autocast()) {
                return Losses.weightedBceWithLogits(model.forward(images), targets, null, null, Reduction.MEAN);
            }
        }

        private void forwardNoGrad() {
            try (NoGrad _ = NoGrad.enter(); Autocast _ = o.precision().autocast()) {
                model.forward(images);
            }
        }

        /** One step timed by phase: forward (with the loss), backward, optimiser; seconds. */
        double[] phasedStep(ProfilingBackend profiler) {
            try (MemoryScope _ = MemoryScope.open()) {
                return phases(profiler);
            }
        }

        private double[] phases(ProfilingBackend profiler) {
            double[] t = new double[3];
            long start = System.nanoTime();
            if (o.mode() == Mode.INFER) {
                forwardNoGrad();
                backend.synchronize();
                t[0] = (System.nanoTime() - start) / 1e9;
                return t;
            }
            optimizer.zeroGrad();
            Tensor loss = scaler.scale(forwardLoss());
            backend.synchronize();
            long forwardEnd = System.nanoTime();
            loss.backward();
            backend.synchronize();
            long backwardEnd = System.nanoTime();
            try (ProfilingBackend.Section _ = profiler.section("optimiser")) {
                scaler.step(optimizer);
                scaler.update();
            }
            backend.synchronize();
            long end = System.nanoTime();
            t[0] = (forwardEnd - start) / 1e9;
            t[1] = (backwardEnd - forwardEnd) / 1e9;
            t[2] = (end - backwardEnd) / 1e9;
            return t;
        }
    }

    private static String describe(Device device) {
        for (Backends.Info info : Backends.describe()) {
            if (info.kind().equals(device.unprofiled().kind())) {
                return info.detail();
            }
        }
        return "?";
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static long gcMillis() {
        long total = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            total += Math.max(0, gc.getCollectionTime());
        }
        return total;
    }

    /**
     * Bytes allocated on the Java heap by all threads so far (the JVM's approximation), or -1 on a runtime without
     * the jdk.management module (a jlinked one, say), which only costs the benchmark this figure.
     */
    private static long allocatedBytes() {
        if (ModuleLayer.boot().findModule("jdk.management").isEmpty()) {
            return -1;
        }
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getTotalThreadAllocatedBytes();
    }

    /** VmHWM from /proc/self/status in bytes, or -1 where there is no such file. */
    static long peakRssBytes() {
        Path status = Path.of("/proc/self/status");
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
