package dev.vertebra.cuda;

import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GPU only: the allocator, buffers and host ↔ device copies of every dtype. */
class CudaMemoryTest {

    @Test
    void closedBlocksAreReusedAndClosedBuffersRefuseUse() {
        CudaBackend gpu = GpuFixture.requireGpu();
        AllocatorStats before = gpu.allocatorStats();
        CudaBuffer a = (CudaBuffer) gpu.allocate(DType.FLOAT32, 1000);
        long address = a.address();
        a.close();
        CudaBuffer b = (CudaBuffer) gpu.allocate(DType.FLOAT32, 1000);
        AllocatorStats after = gpu.allocatorStats();
        assertEquals(address, b.address(), "a freed block of the same bucket is handed out again");
        assertTrue(after.hits() > before.hits(), "reuse counts as a hit: " + after);
        assertThrows(IllegalStateException.class, a::address);
        b.close();
        b.close();
        assertTrue(gpu.allocatorStats().cachedBytes() >= CachingAllocator.bucket(4000));
    }

    @Test
    void aMemoryScopeClosesTheDeviceBuffersOfItsStep() {
        CudaBackend gpu = GpuFixture.requireGpu();
        gpu.synchronize();
        long inUse = gpu.allocatorStats().inUseBytes();
        Tensor scoped;
        Tensor kept;
        Tensor small;
        try (MemoryScope _ = MemoryScope.open()) {
            scoped = Tensor.full(Shape.of(8192), DType.FLOAT32, GpuFixture.CUDA, 1).mul(2);
            kept = MemoryScope.keep(scoped.add(1));
            small = scoped.sum();
            assertEquals(2.0, scoped.max().item());
        }
        assertThrows(IllegalStateException.class, scoped::toFloatArray, "the step's buffer was closed");
        assertEquals(3.0, kept.max().item(), "a kept tensor outlives the scope");
        assertEquals(16384.0, small.item(), "buffers under 4096 elements are left to the garbage collector");
        // In use now: the kept block and small ones; with either scoped block still held, two 32 KiB blocks or more.
        assertTrue(gpu.allocatorStats().inUseBytes() < inUse + 2 * CachingAllocator.bucket(4L * 8192),
                "the scoped buffers went back to the cache: " + gpu.allocatorStats());
    }

    @Test
    void timeMillisMeasuresQueuedWorkAndDestroysItsEvents() {
        CudaBackend gpu = GpuFixture.requireGpu();
        Tensor x = Tensor.full(Shape.of(1 << 20), DType.FLOAT32, GpuFixture.CUDA, 1);
        for (int i = 0; i < 2000; i++) {
            double ms = gpu.timeMillis(() -> x.mul(3));
            assertTrue(ms >= 0 && Double.isFinite(ms), "elapsed " + ms + " ms");
        }
    }

    @Test
    void unreachableBuffersComeBackThroughTheCleaner() throws InterruptedException {
        CudaBackend gpu = GpuFixture.requireGpu();
        gpu.synchronize();
        long inUse = gpu.allocatorStats().inUseBytes();
        for (int i = 0; i < 50; i++) {
            gpu.allocate(DType.FLOAT32, 1 << 16);
        }
        for (int i = 0; i < 100 && gpu.allocatorStats().inUseBytes() > inUse; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertTrue(gpu.allocatorStats().inUseBytes() <= inUse, "blocks of unreachable buffers return: "
                + gpu.allocatorStats());
    }

    @Test
    void hugeRequestIsATypedOutOfMemoryError() {
        CudaBackend gpu = GpuFixture.requireGpu();
        long total = gpu.memoryInfo()[1];
        int elements = Integer.MAX_VALUE;
        // float64 × 2^31 = 16 GiB: fails only on cards smaller than that, so allocate several until it does.
        java.util.List<CudaBuffer> held = new java.util.ArrayList<>();
        CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class, () -> {
            for (long got = 0; got <= total; got += 8L * elements) {
                held.add((CudaBuffer) gpu.allocate(DType.FLOAT64, elements));
            }
        });
        held.forEach(CudaBuffer::close);
        gpu.emptyCache();
        assertTrue(e.requestedBytes() >= 8L * elements, e.getMessage());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
    }

    @Test
    void everyDtypeRoundTripsAndCasts() {
        GpuFixture.requireGpu();
        Random rnd = new Random(1);
        int n = 37;
        for (DType dtype : DType.values()) {
            HostArray host = switch (dtype) {
                case FLOAT32 -> new HostArray(dtype, new int[]{n}, randomFloats(rnd, n));
                case FLOAT64 -> new HostArray(dtype, new int[]{n}, rnd.doubles(n, -1e6, 1e6).toArray());
                case INT64 -> new HostArray(dtype, new int[]{n}, rnd.longs(n).toArray());
                case INT32 -> new HostArray(dtype, new int[]{n}, rnd.ints(n).toArray());
                case INT16, FLOAT16, BFLOAT16 -> {
                    short[] s = new short[n];
                    for (int i = 0; i < n; i++) {
                        s[i] = (short) rnd.nextInt(0x7C00);
                    }
                    yield new HostArray(dtype, new int[]{n}, s);
                }
                case UINT8 -> {
                    byte[] b = new byte[n];
                    rnd.nextBytes(b);
                    yield new HostArray(dtype, new int[]{n}, b);
                }
            };
            Tensor gpu = Tensor.fromHost(host, GpuFixture.CUDA);
            assertEquals(host, gpu.toHost(), "round trip of " + dtype);
            Tensor ref = Tensor.fromHost(host, Device.REFERENCE);
            for (DType target : DType.values()) {
                assertEquals(ref.to(target).toHost(), gpu.to(target).toHost(), dtype + " → " + target);
            }
        }
    }

    @Test
    void specialValuesCastLikeTheReference() {
        GpuFixture.requireGpu();
        double[] v = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 1e300, -1e300, 65520,
                3.5, -3.5, 255.9, 256, -1, 1e-8, 70000};
        HostArray host = new HostArray(DType.FLOAT64, new int[]{v.length}, v);
        Tensor gpu = Tensor.fromHost(host, GpuFixture.CUDA);
        Tensor ref = Tensor.fromHost(host, Device.REFERENCE);
        for (DType target : DType.values()) {
            assertEquals(ref.to(target).toHost(), gpu.to(target).toHost(), "float64 → " + target);
        }
    }

    @Test
    void stridedViewsCopyAndFill() {
        CudaBackend gpu = GpuFixture.requireGpu();
        Random rnd = new Random(2);
        GpuFixture.Pair x = GpuFixture.Pair.random(rnd, -1, 1, 4, 6, 5);
        GpuFixture.Pair view = x.map(t -> t.permute(2, 0, 1).narrow(1, 1, 2));
        GpuFixture.assertClose(view.ref().contiguous(), view.gpu().contiguous(), 0, 0, "permuted narrow copy");
        Tensor target = gpu.full(Shape.of(3, 4), DType.FLOAT32, 7);
        Tensor row = Tensor.fromHost(new HostArray(DType.FLOAT32, new int[]{4}, new float[]{1, 2, 3, 4}),
                GpuFixture.CUDA);
        gpu.copyInto(row, target.narrow(0, 1, 2));
        assertArrayEquals(new float[]{7, 7, 7, 7, 1, 2, 3, 4, 1, 2, 3, 4}, target.toFloatArray());
        for (DType d : DType.values()) {
            Tensor f = gpu.full(Shape.of(5), d, 3);
            assertEquals(GpuFixture.reference().full(Shape.of(5), d, 3).toHost(), f.toHost(), "full " + d);
        }
    }

    private static float[] randomFloats(Random rnd, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) rnd.nextGaussian() * 100;
        }
        return f;
    }
}
