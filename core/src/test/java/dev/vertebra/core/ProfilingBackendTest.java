package dev.vertebra.core;

import dev.vertebra.core.cpu.CpuThreads;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ProfilingBackendTest {

    private static Map<String, Long> calls(ProfilingBackend p) {
        return p.times().stream().collect(Collectors.toMap(ProfilingBackend.OpTime::op, ProfilingBackend.OpTime::calls));
    }

    @Test
    void aliasNamesTheSameBackendAndParses() {
        Device alias = Device.CPU.profiled();
        assertEquals(Device.parse("cpu+profile"), alias);
        assertEquals("cpu+profile", alias.toString());
        assertFalse(alias.isAccelerator());
        assertTrue(Device.parse("cuda+profile:1").isAccelerator());
        assertEquals(Device.CPU, alias.unprofiled());
        assertSame(Backends.profiled(Device.CPU), Backends.get(alias));
        assertSame(Backends.get(Device.CPU), Backends.profiled(Device.CPU).inner());
    }

    @Test
    void timesEachPrimitiveByKindAndKeepsResultsOnTheAlias() {
        ProfilingBackend profiler = Backends.profiled(Device.CPU);
        profiler.reset();
        Generator gen = new Generator(3);
        Tensor x = Init.normal(gen, Shape.of(2, 5, 5, 4), 0, 1, Device.CPU);
        Tensor pointwise = Init.normal(gen, Shape.of(1, 1, 4, 6), 0, 1, Device.CPU);
        Tensor depthwise = Init.normal(gen, Shape.of(3, 3, 1, 4), 0, 1, Device.CPU);
        Tensor expected = Functional.conv2d(Functional.conv2d(x, depthwise, null, ConvSpec.of(1, 1, 1, 4)), pointwise,
                null, ConvSpec.of(1, 0, 1, 1)).silu();

        Device alias = profiler.device();
        Tensor y = Functional.conv2d(Functional.conv2d(x.to(alias), depthwise.to(alias), null, ConvSpec.of(1, 1, 1, 4)),
                pointwise.to(alias), null, ConvSpec.of(1, 0, 1, 1)).silu();
        try (ProfilingBackend.Section _ = profiler.section("optimiser")) {
            y = y.add(1).sub(1);
        }

        assertEquals(alias, y.device());
        assertArrayEquals(expected.toFloatArray(), y.toFloatArray(), 1e-5f);
        Map<String, Long> calls = calls(profiler);
        assertEquals(1L, calls.get("conv2d fwd depthwise"), calls.toString());
        assertEquals(1L, calls.get("conv2d fwd 1x1"), calls.toString());
        assertEquals(1L, calls.get("unary silu"), calls.toString());
        assertEquals(2L, calls.get("optimiser: binary add (scalar)"), calls.toString());
        String table = profiler.table(1_000_000_000L);
        assertTrue(table.contains("(outside primitives)") && table.contains("conv2d fwd 1x1"), table);
        long total = calls.values().stream().mapToLong(Long::longValue).sum();
        assertTrue(table.lines().anyMatch(l -> l.matches("total\\s+" + total + "\\s.*")),
                "the total row counts the " + total + " calls:\n" + table);
        profiler.reset();
        assertEquals(List.of(), profiler.times());
    }

    @Test
    void convolutionsAndProductsCountTheirFlops() {
        ProfilingBackend profiler = Backends.profiled(Device.CPU);
        profiler.reset();
        Generator gen = new Generator(4);
        Device alias = profiler.device();
        // 2 images of 6 × 7, 4 → 5 channels, 3×3 stride 2 pad 1: 3 × 4 output pixels each, 36 · 5 multiply-adds
        // a pixel.
        Tensor x = Init.normal(gen, Shape.of(2, 6, 7, 4), 0, 1, Device.CPU).to(alias);
        Tensor w = Init.normal(gen, Shape.of(3, 3, 4, 5), 0, 1, Device.CPU).to(alias);
        Functional.conv2d(x, w, null, ConvSpec.of(2, 1, 1, 1));
        // [3, 4] · [4, 6]: 18 outputs of 4 multiply-adds.
        Init.normal(gen, Shape.of(3, 4), 0, 1, Device.CPU).to(alias)
                .matmul(Init.normal(gen, Shape.of(4, 6), 0, 1, Device.CPU).to(alias));
        // A fused backward counts its convolutions' gradients: an 8 × 8 image, a 1×1 expansion 4 → 6 (24
        // multiply-adds a pixel, twice: input and weight gradients) and a 3×3 depthwise layer (9 a pixel and
        // channel, twice).
        Tensor input = Init.normal(gen, Shape.of(1, 8, 8, 4), 0, 1, Device.CPU).to(alias);
        Tensor pointwise = Init.normal(gen, Shape.of(1, 1, 4, 6), 0, 1, Device.CPU).to(alias);
        ConvSpec one = ConvSpec.of(1, 0, 1, 1);
        Tensor expanded = profiler.conv2d(input, pointwise, one);
        Tensor gamma = Tensor.full(Shape.of(6), DType.FLOAT32, alias, 1);
        Tensor beta = Tensor.zeros(Shape.of(6), DType.FLOAT32, alias);
        Backend.BatchNormResult stats = profiler.batchNormSilu(expanded, gamma, beta, 1e-3);
        profiler.pointwiseBatchNormSiluDepthwiseGrads(Init.normal(gen, Shape.of(1, 8, 8, 6), 0, 1, Device.CPU)
                        .to(alias), Init.normal(gen, Shape.of(3, 3, 1, 6), 0, 1, Device.CPU).to(alias),
                ConvSpec.of(1, 1, 1, 6), expanded, gamma, beta, stats.mean(), stats.invStd(), input, pointwise, one);
        Map<String, Long> flops = profiler.times().stream()
                .collect(Collectors.toMap(ProfilingBackend.OpTime::op, ProfilingBackend.OpTime::flops));
        assertEquals(2L * 2 * 3 * 4 * 36 * 5, flops.get("conv2d fwd dense"), flops.toString());
        assertEquals(2L * 18 * 4, flops.get("matmul"), flops.toString());
        assertEquals(2L * 64 * 24, flops.get("conv2d fwd 1x1"), flops.toString());
        assertEquals(2 * (2L * 64 * 24) + 2 * (2L * 64 * 9 * 6), flops.get(
                "conv2d bwd-input+weight depthwise + batch norm+silu + conv2d bwd 1x1"), flops.toString());
        assertTrue(flops.entrySet().stream()
                .filter(e -> !e.getKey().startsWith("conv2d") && !e.getKey().equals("matmul"))
                .allMatch(e -> e.getValue() == 0), "other ops count no FLOPs: " + flops);
        String table = profiler.table(1_000_000_000L);
        assertTrue(table.lines().findFirst().orElseThrow().trim().endsWith("GFLOP/s"), table);
        assertEquals(1, table.lines().filter(l -> l.startsWith("conv2d fwd dense") && l.matches(".*\\d+\\.\\d$"))
                .count(), "the convolution's row ends in its rate:\n" + table);
        profiler.reset();
    }

    @Test
    void convolutionsSplitByShapeOnRequest() {
        ConvSpec stride2 = ConvSpec.of(2, 2, 1, 96);
        Shape x = Shape.of(8, 112, 112, 96);
        Shape depthwise = Shape.of(5, 5, 1, 96);
        assertEquals("conv2d fwd depthwise", ProfilingBackend.convName("fwd", x, depthwise, stride2, false));
        assertEquals("conv2d bwd-input depthwise [8, 112, 112, 96] k5x5 s2 -> 96",
                ProfilingBackend.convName("bwd-input", x, depthwise, stride2, true));
        assertEquals("conv2d fwd 1x1 [8, 56, 56, 24] k1x1 s1 -> 144", ProfilingBackend.convName("fwd",
                Shape.of(8, 56, 56, 24), Shape.of(1, 1, 24, 144), ConvSpec.of(1, 0, 1, 1), true));
    }

    @Test
    void batchNormsSplitByShapeOnRequest() {
        Shape x = Shape.of(8, 112, 112, 32);
        assertEquals("batch norm+silu bwd", ProfilingBackend.shaped("batch norm+silu bwd", x, false));
        assertEquals("batch norm+silu bwd [8, 112, 112, 32]", ProfilingBackend.shaped("batch norm+silu bwd", x, true));
    }

    @Test
    void gradientsFlowThroughTheAliasAndAreTimed() {
        ProfilingBackend profiler = Backends.profiled(Device.CPU);
        profiler.reset();
        Tensor w = Init.normal(new Generator(5), Shape.of(3, 3, 2, 4), 0, 1, Device.CPU).to(profiler.device())
                .requiresGrad(true);
        Tensor x = Init.normal(new Generator(6), Shape.of(1, 6, 6, 2), 0, 1, profiler.device());
        Functional.conv2d(x, w, null, ConvSpec.of(2, 1, 1, 1)).sum().backward();
        assertEquals(profiler.device(), w.grad().device());
        assertEquals(1L, calls(profiler).get("conv2d bwd-weight dense"), calls(profiler).toString());
    }

    /**
     * A tensor used twice (the squeeze-excitation pattern) gets its two gradients summed in place into the one a
     * rule computed, and a leaf takes its computed gradient without a copy.
     */
    @Test
    void autogradSumsIntoGradientsItOwnsWithoutNewTensors() {
        ProfilingBackend profiler = Backends.profiled(Device.CPU);
        Tensor w = Init.normal(new Generator(7), Shape.of(2, 3, 3, 4), 0, 1, profiler.device()).requiresGrad(true);
        Tensor y = w.silu();
        Tensor out = y.mul(Functional.globalAvgPool(y));
        profiler.reset();
        out.sum().backward();
        Map<String, Long> calls = calls(profiler);
        assertEquals(1L, calls.get("accumulate (in place)"), calls.toString());
        assertFalse(calls.containsKey("binary add"), calls.toString());
        assertFalse(calls.containsKey("copy contiguous"), calls.toString());
    }

    /** A clock of parallel work that adds fixed amounts to its totals at each read. */
    private record SteppingClock(long loopStep, long busyStep, int threads, long[] totals)
            implements ProfilingBackend.ParallelClock {
        SteppingClock(long loopStep, long busyStep, int threads) {
            this(loopStep, busyStep, threads, new long[2]);
        }

        @Override
        public long loopNanos() {
            return totals[0] += loopStep;
        }

        @Override
        public long busyNanos() {
            return totals[1] += busyStep;
        }
    }

    private static ProfilingBackend.OpTime timeOf(ProfilingBackend profiler, String op) {
        return profiler.times().stream().filter(t -> t.op().equals(op)).findFirst().orElseThrow();
    }

    /** Adds on the profiling alias, timed with {@code clock}: their {@link ProfilingBackend.OpTime}. */
    private static ProfilingBackend.OpTime addsTimedWith(ProfilingBackend.ParallelClock clock) {
        ProfilingBackend profiler = Backends.profiled(Device.CPU);
        profiler.reset();
        profiler.countParallelTime(clock);
        try {
            Tensor x = Init.normal(new Generator(8), Shape.of(64, 64), 0, 1, profiler.device());
            for (int i = 0; i < 5; i++) {
                x = x.add(x);
            }
            return timeOf(profiler, "binary add");
        } finally {
            profiler.countParallelTime(null);
        }
    }

    /** With no parallel loop open during an op, all of it is serial, and all threads but one idled through it. */
    @Test
    void anOpWithoutParallelLoopsIsSerialAndIdlesTheOtherThreads() {
        ProfilingBackend.OpTime adds = addsTimedWith(new SteppingClock(0, 0, 4));
        assertEquals(5, adds.calls());
        assertEquals(adds.nanos(), adds.serialNanos());
        // Each call: elapsed − elapsed / 4, rounded down per call.
        long expected = adds.nanos() - adds.nanos() / 4;
        assertTrue(Math.abs(adds.idleNanos() - expected) <= adds.calls(), adds + ", expected idle " + expected);
    }

    /** Loops open and threads busy for longer than the op itself (clock rounding): no serial or idle time. */
    @Test
    void serialAndIdleTimesNeverExceedTheOpOrGoNegative() {
        ProfilingBackend.OpTime adds = addsTimedWith(new SteppingClock(1_000_000_000_000L, 1_000_000_000_000L, 2));
        assertEquals(0, adds.serialNanos(), adds.toString());
        assertEquals(0, adds.idleNanos(), adds.toString());
    }

    @Test
    void theTableShowsSerialAndIdleTimeOnlyWithAClock() {
        ProfilingBackend profiler = Backends.profiled(Device.CPU);
        addsTimedWith(null);
        ProfilingBackend.OpTime untimed = timeOf(profiler, "binary add");
        assertEquals(-1, untimed.serialNanos());
        assertEquals(-1, untimed.idleNanos());
        String plain = profiler.table(1_000_000_000L);
        assertFalse(plain.contains("serial ms") || plain.contains("idle ms"), plain);

        addsTimedWith(new SteppingClock(0, 0, 2));
        String split = profiler.table(1_000_000_000L);
        String header = split.lines().findFirst().orElseThrow();
        assertTrue(header.contains("serial ms") && header.contains("idle ms") && header.endsWith("GFLOP/s"), split);
        // Outside primitives one of the two threads works: all of that time serial, half of it idle.
        long outside = 1_000_000_000L - profiler.times().stream().mapToLong(ProfilingBackend.OpTime::nanos).sum();
        String row = split.lines().filter(l -> l.startsWith("(outside primitives)")).findFirst().orElseThrow();
        assertTrue(row.matches(".*\\s" + String.format(Locale.ROOT, "%.2f\\s+%.2f", outside / 1e6,
                (outside - outside / 2) / 1e6)), split);
        profiler.reset();
    }

    /**
     * The CPU pool's own clock: a large elementwise op runs in parallel loops, so its serial time is below its
     * time (were the loops not counted, all of it would be serial).
     */
    @Test
    void theCpuPoolsClockSeesAnOpsParallelLoops() {
        assumeTrue(CpuThreads.parallelism() > 1, "one thread: no parallel loops to see");
        ProfilingBackend profiler = Backends.profiled(Device.CPU);
        profiler.reset();
        Tensor x = Init.normal(new Generator(9), Shape.of(1024, 1024), 0, 1, profiler.device());
        CpuThreads.startLoopStatistics();
        profiler.countParallelTime(CpuThreads.statisticsClock());
        try {
            for (int i = 0; i < 3; i++) {
                x = x.add(x);
            }
        } finally {
            profiler.countParallelTime(null);
            CpuThreads.stopLoopStatistics();
        }
        ProfilingBackend.OpTime adds = timeOf(profiler, "binary add");
        assertTrue(adds.serialNanos() >= 0 && adds.serialNanos() < adds.nanos(), adds.toString());
        assertTrue(adds.idleNanos() >= 0 && adds.idleNanos() < adds.nanos(), adds.toString());
        profiler.reset();
    }
}
