package dev.vertebra.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vertebra.core.cpu.Conv2dShape;
import org.junit.jupiter.api.Test;

/** The work the benchmarks claim per call: shapes parsed from their parameters and the rates they count. */
class BenchmarkWorkTest {

    @Test
    void depthwiseLayerNamesGiveB0Shapes() {
        Conv2dShape s = DepthwiseConvBenchmark.parse("112x96k3s2");
        assertEquals(Conv2dShape.symmetric(8, 112, 112, 96, 96, 3, 2, 1, 1, 96), s);
        assertEquals(56, s.outHeight());
        Conv2dShape five = DepthwiseConvBenchmark.parse("28x240k5s1");
        assertEquals(2, five.padTop());
        assertEquals(28, five.outWidth());
    }

    @Test
    void aBatchAfterTheSlashGivesThe128InputShapes() {
        Conv2dShape s = DepthwiseConvBenchmark.parse("64x96k3s2/32");
        assertEquals(Conv2dShape.symmetric(32, 64, 64, 96, 96, 3, 2, 1, 1, 96), s);
        assertEquals(32, s.outHeight());
        assertEquals(8, DepthwiseConvBenchmark.batchOf("28x240k5s1"));
        assertEquals("16x40x240k5s1", DepthwiseConvBenchmark.shapeOf("16x40x240k5s1/32"));
        assertEquals(32, DepthwiseConvBenchmark.batchOf("16x40x240k5s1/32"));
    }

    @Test
    void depthwiseWorkCountsEachOperandOnceAndTwoFlopsPerTap() {
        Conv2dShape s = DepthwiseConvBenchmark.parse("56x144k5s2");
        // x [8, 56, 56, 144], y [8, 28, 28, 144], w [5, 5, 1, 144]
        assertEquals((8 * 56 * 56 * 144 + 8 * 28 * 28 * 144 + 25 * 144) * 4.0, DepthwiseConvBenchmark.bytes(s));
        assertEquals(2.0 * 8 * 28 * 28 * 144 * 25, DepthwiseConvBenchmark.flops(s));
    }

    @Test
    void ratesAccumulatePerCallAgainstTheRightLimit() {
        Rate memory = new Rate();
        memory.memoryBound(2e9, 1e9);
        memory.memoryBound(2e9, 1e9);
        assertEquals(4.0, memory.gigabytes, 1e-12);
        assertEquals(2.0, memory.gigaflops, 1e-12);
        assertEquals(4.0 / Rate.COPY_GBS, memory.ofLimit, 1e-12);

        Rate compute = new Rate();
        compute.computeBound(1e9, 3e9);
        assertEquals(3.0 / Rate.PEAK_GFLOPS, compute.ofLimit, 1e-12);
    }

    @Test
    void coldCacheCyclesEnoughCopiesToLeaveTheCaches() {
        // Small activations: up to 8 copies; large ones: at least 2, so consecutive calls never share an input.
        assertEquals(8, ColdCache.copiesFor(1 << 20));
        assertEquals(2, ColdCache.copiesFor(1L << 30));
        assertTrue(ColdCache.copiesFor(77L << 20) >= 2);
    }
}
