package dev.vertebra.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryScopeTest {
    private static final int N = MemoryScope.MIN_POOLED_ELEMENTS * 2;

    @AfterEach
    void emptyThePool() {
        MemoryScope.releaseCached();
    }

    private static Object array(Tensor t) {
        return ((CpuStorage) t.storage()).array();
    }

    private static Tensor filled(int n, double value) {
        return Tensor.full(Shape.of(n), DType.FLOAT32, Device.CPU, value);
    }

    @Test
    void theNextScopeReusesTheArraysAndZerosWhatMustBeZero() {
        Object first;
        try (MemoryScope _ = MemoryScope.open()) {
            first = array(filled(N, 7));
        }
        assertEquals(4L * N, MemoryScope.cachedBytes());
        try (MemoryScope _ = MemoryScope.open()) {
            Tensor zeros = Tensor.zeros(Shape.of(N), DType.FLOAT32, Device.CPU);
            assertSame(first, array(zeros), "the array of the previous scope is reused");
            assertArrayEquals(new float[N], zeros.toFloatArray(), "reused memory is cleared for zeros()");
            assertEquals(0, MemoryScope.cachedBytes());
        }
    }

    @Test
    void aTensorUsedAfterItsScopeClosedThrows() {
        Tensor dead;
        try (MemoryScope _ = MemoryScope.open()) {
            dead = filled(N, 1).mul(2);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, dead::toFloatArray);
        assertTrue(e.getMessage().contains("MemoryScope"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> dead.add(1));
        assertTrue(((CpuStorage) dead.storage()).isReleased());
    }

    @Test
    void keptTensorsAndSmallTensorsOutliveTheScope() {
        Tensor kept;
        Tensor small;
        try (MemoryScope _ = MemoryScope.open()) {
            kept = MemoryScope.keep(filled(N, 3).mul(2));
            small = filled(16, 5);
        }
        assertEquals(4L * N, MemoryScope.cachedBytes(), "only the temporary operand went back to the pool");
        assertEquals(6f, kept.toFloatArray()[N - 1]);
        assertEquals(5f, small.toFloatArray()[15]);
        try (MemoryScope _ = MemoryScope.open()) {
            assertNotSame(array(kept), array(filled(N, 0)));
            assertNotSame(array(kept), array(filled(N, 0)));
        }
        assertEquals(6f, kept.toFloatArray()[0]);
    }

    @Test
    void arraysCopiedOutInAScopeBelongToTheCaller() {
        float[] copied;
        try (MemoryScope _ = MemoryScope.open()) {
            copied = filled(N, 3).mul(2).toFloatArray();
        }
        try (MemoryScope _ = MemoryScope.open()) {
            filled(N, -1);
            filled(N, -1).mul(5);
        }
        assertEquals(6f, copied[0], "the next scope did not reuse the caller's array");
        assertEquals(6f, copied[N - 1]);
    }

    @Test
    void keepingAViewKeepsItsBase() {
        Tensor base;
        Tensor view;
        try (MemoryScope _ = MemoryScope.open()) {
            base = filled(N, 2);
            view = MemoryScope.keep(base.reshape(2, N / 2).transpose(0, 1));
        }
        assertEquals(2f, base.toFloatArray()[0]);
        assertEquals(2f, view.toFloatArray()[N - 1]);
    }

    @Test
    void tensorsMadeOutsideAnyScopeAreNeverPooled() {
        Tensor outside = filled(N, 4);
        try (MemoryScope _ = MemoryScope.open()) {
            outside.mul(2);
        }
        assertEquals(4f, outside.toFloatArray()[0]);
        assertFalse(((CpuStorage) outside.storage()).isReleased());
    }

    @Test
    void nestedScopesFreeTheirOwnTensors() {
        try (MemoryScope _ = MemoryScope.open()) {
            Tensor a = filled(N, 1);
            Tensor b;
            try (MemoryScope _ = MemoryScope.open()) {
                b = filled(N, 2);
            }
            assertThrows(IllegalStateException.class, b::toFloatArray);
            assertEquals(1f, a.toFloatArray()[0], "the outer scope's tensor lives on");
            assertTrue(MemoryScope.isOpen());
        }
        assertFalse(MemoryScope.isOpen());
    }

    @Test
    void closingAScopeClosesAnInnerOneLeftOpen() {
        Tensor inner;
        try (MemoryScope _ = MemoryScope.open()) {
            MemoryScope.open();                    // never closed, as when an exception skips its close
            inner = filled(N, 2);
        }
        assertFalse(MemoryScope.isOpen(), "no scope is left current on this thread");
        assertThrows(IllegalStateException.class, inner::toFloatArray);
    }

    @Test
    void aScopeClosesOnlyOnItsOwnThread() throws InterruptedException, ExecutionException {
        MemoryScope scope = MemoryScope.open();
        try {
            Throwable thrown = CompletableFuture.supplyAsync(() -> {
                try {
                    scope.close();
                    return null;
                } catch (IllegalStateException e) {
                    return e;
                }
            }).get();
            assertInstanceOf(IllegalStateException.class, thrown);
            // Allocations on other threads (data-loader workers) are ordinary memory.
            Tensor elsewhere = CompletableFuture.supplyAsync(() -> filled(N, 9)).get();
            scope.close();
            assertEquals(9f, elsewhere.toFloatArray()[0]);
        } finally {
            scope.close();
        }
    }

    @Test
    void arraysTheNextScopeDoesNotNeedAreDropped() {
        try (MemoryScope _ = MemoryScope.open()) {
            filled(N, 1);
        }
        try (MemoryScope _ = MemoryScope.open()) {
            filled(N + 1, 1);
        }
        assertEquals(4L * (N + 1), MemoryScope.cachedBytes(), "the first scope's unused array is gone");
    }

    @Test
    void backwardInAScopeGivesTheSameGradientsAndRecyclesIntermediateOnes() {
        float[] data = new float[N];
        for (int i = 0; i < N; i++) {
            data[i] = (float) Math.sin(i * 0.37) * 2;
        }
        float[] expected = gradient(data);
        Tensor x = Tensor.of(data, N).requiresGrad(true);
        float[] scoped;
        try (MemoryScope _ = MemoryScope.open()) {
            Tensor h = x.mul(x).add(1).silu().mul(x.sigmoid()).add(x.tanh());
            h.sum().backward();
            assertTrue(MemoryScope.cachedBytes() > 0, "consumed gradients went back to the pool during backward");
            scoped = x.grad().toFloatArray();
        }
        assertArrayEquals(expected, scoped, "bit for bit");
        assertArrayEquals(expected, x.grad().toFloatArray(), "the leaf's gradient outlives the scope");
    }

    private static float[] gradient(float[] data) {
        Tensor x = Tensor.of(data, N).requiresGrad(true);
        x.mul(x).add(1).silu().mul(x.sigmoid()).add(x.tanh()).sum().backward();
        return x.grad().toFloatArray();
    }

    /** A stand-in for an accelerator buffer: records its close. */
    private static final class FakeDeviceBuffer implements DeviceStorage {
        private final int size;
        private int closes;

        FakeDeviceBuffer(int size) {
            this.size = size;
        }

        @Override
        public Device device() {
            return Device.parse("cuda:0");
        }

        @Override
        public DType dtype() {
            return DType.BFLOAT16;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public void close() {
            closes++;
        }
    }

    @Test
    void deviceBuffersCloseWithTheirScopeUnlessKeptOrSmall() {
        FakeDeviceBuffer big = new FakeDeviceBuffer(MemoryScope.MIN_POOLED_ELEMENTS);
        FakeDeviceBuffer kept = new FakeDeviceBuffer(N);
        FakeDeviceBuffer small = new FakeDeviceBuffer(MemoryScope.MIN_POOLED_ELEMENTS - 1);
        assertFalse(MemoryScope.adopt(big), "no scope open: left to the garbage collector");
        try (MemoryScope _ = MemoryScope.open()) {
            assertTrue(MemoryScope.adopt(big));
            assertTrue(MemoryScope.adopt(kept));
            assertFalse(MemoryScope.adopt(small), "small buffers are not scoped, as small arrays are not");
            assertTrue(MemoryScope.keep(kept));
            assertFalse(MemoryScope.keep(kept), "kept once is kept");
            assertEquals(0, big.closes);
        }
        assertEquals(1, big.closes);
        assertEquals(0, kept.closes);
        assertEquals(0, small.closes);
    }

    @Test
    void autogradHandsDeviceBuffersBackEarlyAndNestedScopesCloseTheirOwn() {
        FakeDeviceBuffer outer = new FakeDeviceBuffer(N);
        FakeDeviceBuffer inner = new FakeDeviceBuffer(N);
        FakeDeviceBuffer consumed = new FakeDeviceBuffer(N);
        try (MemoryScope _ = MemoryScope.open()) {
            MemoryScope.adopt(outer);
            try (MemoryScope _ = MemoryScope.open()) {
                MemoryScope.adopt(inner);
                MemoryScope.adopt(consumed);
                MemoryScope.recycle(consumed);
                assertEquals(1, consumed.closes, "recycled: closed at once");
            }
            assertEquals(1, inner.closes);
            assertEquals(0, outer.closes, "the outer scope is still open");
            MemoryScope.recycle(inner);
            assertEquals(1, inner.closes, "a buffer no open scope owns is not closed twice");
        }
        assertEquals(1, outer.closes);
        assertEquals(1, consumed.closes);
    }
}
