package dev.vertebra.examples;

import com.sun.management.HotSpotDiagnosticMXBean;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ZgcHeapTargetTest {
    private static final long MIB = 1L << 20;
    private static final long FLOOR = ZgcHeapTarget.FLOOR_MIB * MIB;

    @Test
    void theLimitIsTwiceTheLiveHeapAboveTheFloor() {
        assertEquals(FLOOR, ZgcHeapTarget.target(0, 0, 12_000 * MIB));
        assertEquals(FLOOR, ZgcHeapTarget.target(700 * MIB, 0, 12_000 * MIB));
        assertEquals(3_000 * MIB, ZgcHeapTarget.target(1_500 * MIB, FLOOR, 12_000 * MIB));
    }

    @Test
    void theLimitNeverFallsNorPassesTheMaximumHeap() {
        assertEquals(5_000 * MIB, ZgcHeapTarget.target(1_000 * MIB, 5_000 * MIB, 12_000 * MIB));
        assertEquals(12_000 * MIB, ZgcHeapTarget.target(9_000 * MIB, FLOOR, 12_000 * MIB));
        assertEquals(1_000 * MIB, ZgcHeapTarget.target(0, 0, 1_000 * MIB));
    }

    @Test
    void anotherCollectorKeepsItsDefaultLimit() {
        boolean zgc = ManagementFactory.getGarbageCollectorMXBeans().stream()
                .anyMatch(c -> c.getName().startsWith("ZGC"));
        assumeTrue(!zgc, "this JVM runs ZGC, whose limit install() is meant to change");
        HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        String before = vm.getVMOption("SoftMaxHeapSize").getValue();

        ZgcHeapTarget.install();

        assertEquals(before, vm.getVMOption("SoftMaxHeapSize").getValue());
    }
}
