package dev.vertebra.nn;

import dev.vertebra.core.Backends;
import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Init;
import dev.vertebra.core.ProfilingBackend;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Buffers, and the counter batch norm keeps on the host until it is read. */
class BufferTest {

    @Test
    void incrementsShowWhenTheBufferIsReadAndOnlyOnce() {
        Buffer counter = new Buffer(Tensor.full(Shape.of(), DType.INT64, Device.CPU, 5));
        counter.increment(1);
        counter.increment(2);
        assertEquals(8, counter.data().item());
        assertEquals(8, counter.data().item(), "a second read adds nothing");
        counter.increment(1);
        assertEquals(DType.INT64, counter.data().dtype());
        assertEquals(9, counter.data().item());
    }

    @Test
    void copyingOrReplacingTheValueDropsWhatWasCounted() {
        Buffer counter = new Buffer(Tensor.full(Shape.of(), DType.INT64, Device.CPU, 5));
        counter.increment(3);
        counter.copyFrom(Tensor.full(Shape.of(), DType.INT64, Device.CPU, 40));
        assertEquals(40, counter.data().item());
        counter.increment(3);
        counter.replace(Tensor.full(Shape.of(), DType.INT64, Device.CPU, 7));
        assertEquals(7, counter.data().item());
    }

    @Test
    void batchNormCountsItsBatchesWithoutDeviceWorkAndTheStateDictSeesThem() {
        ProfilingBackend profiler = Backends.profiled(Device.CPU);
        Device alias = profiler.device();
        BatchNorm2d bn = new BatchNorm2d(4);
        bn.to(alias);
        Tensor x = Init.normal(new Generator(3), Shape.of(2, 3, 3, 4), 0, 1, Device.CPU).to(alias);
        profiler.reset();
        bn.forward(x);
        bn.forward(x);
        bn.forward(x);
        List<String> ops = profiler.times().stream().map(ProfilingBackend.OpTime::op).toList();
        assertTrue(ops.stream().noneMatch(op -> op.startsWith("copy") || op.contains("(scalar)")),
                "counting takes no device op: " + ops);
        assertEquals(3, bn.stateDict().get("num_batches_tracked").item());
    }
}
