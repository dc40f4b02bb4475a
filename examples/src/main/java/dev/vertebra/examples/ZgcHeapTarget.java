package dev.vertebra.examples;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Map;

/**
 * ZGC's soft heap limit ({@code SoftMaxHeapSize}) kept at twice the live heap, at least {@value #FLOOR_MIB} MiB, from
 * the first major collection on, for the command line's processes.
 *
 * <p>Why: by default the soft limit is the maximum heap (half the RAM under the launcher), so ZGC collects rarely and
 * each step's few tens of megabytes of new objects land on heap pages never touched before; a first touch is a page
 * fault, tens of microseconds on a virtual machine. B0 training at batch 8, 224², ran its first ~35 steps at about half
 * speed under the defaults; with a 2 GiB limit, half the system time and full speed within ~15 steps (bench/NOTES.md,
 * "Fourteenth round"). A soft limit below the live heap makes ZGC collect back to back (B0 at batch 8 with 512 MiB:
 * 313 against 215 ms a step), so the limit follows what each major collection leaves live, and only ever rises.
 *
 * <p>Nothing changes under another collector, when the command line sets the heap size or the soft limit, or on a
 * runtime without the {@code jdk.management} module.
 */
final class ZgcHeapTarget {
    private static final Logger LOG = LoggerFactory.getLogger(ZgcHeapTarget.class);

    static final long FLOOR_MIB = 2048;
    private static final long MIB = 1L << 20;
    private static final String SOFT_MAX = "SoftMaxHeapSize";

    /** The limit last set here, in bytes (0: none yet). */
    private static volatile long installed;

    private ZgcHeapTarget() {
    }

    /**
     * The soft limit to hold, in bytes: twice {@code liveBytes}, at least {@value #FLOOR_MIB} MiB and at least
     * {@code currentBytes} (it never falls), at most {@code maxBytes}.
     */
    static long target(long liveBytes, long currentBytes, long maxBytes) {
        long wanted = Math.max(Math.max(2 * liveBytes, FLOOR_MIB * MIB), currentBytes);
        return Math.min(wanted, maxBytes);
    }

    /** From the first major collection on, the soft limit follows the live heap, where the conditions above allow. */
    static void install() {
        if (ModuleLayer.boot().findModule("jdk.management").isEmpty()) {
            return;
        }
        List<GarbageCollectorMXBean> collectors = ManagementFactory.getGarbageCollectorMXBeans();
        if (collectors.stream().noneMatch(c -> c.getName().startsWith("ZGC"))) {
            return;
        }
        HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        if (setByUser(vm.getVMOption("MaxHeapSize")) || setByUser(vm.getVMOption(SOFT_MAX))) {
            return;
        }
        long max = Runtime.getRuntime().maxMemory();
        if (max < 2 * FLOOR_MIB * MIB) {
            return; // a small heap: its default limit is near the floor anyway
        }
        // Armed by the first major collection (ZGC's first warm-up cycle, at a tenth of the maximum heap), not at
        // start: a limit of 2 GiB from the start brings that cycle and the next two forward, into the first seconds of
        // a process that allocates little (B0 inference), where they took one of two cores.
        for (GarbageCollectorMXBean collector : collectors) {
            if (collector.getName().contains("Major Cycles") && collector instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener((n, _) -> afterCollection(vm, n, max), null, null);
            }
        }
    }

    /** After a major collection: the limit follows the heap it left live. */
    private static void afterCollection(HotSpotDiagnosticMXBean vm, Notification n, long max) {
        if (!n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
            return;
        }
        var info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
        long live = 0;
        for (Map.Entry<String, MemoryUsage> pool : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
            if (pool.getKey().startsWith("ZGC")) { // the heap's generations, not metaspace or code
                live += pool.getValue().getUsed();
            }
        }
        raise(vm, target(live, installed, max));
    }

    private static boolean setByUser(VMOption option) {
        return option.getOrigin() != VMOption.Origin.DEFAULT && option.getOrigin() != VMOption.Origin.ERGONOMIC;
    }

    private static synchronized void raise(HotSpotDiagnosticMXBean vm, long bytes) {
        if (bytes > installed) {
            try {
                vm.setVMOption(SOFT_MAX, Long.toString(bytes));
                installed = bytes;
                LOG.debug("ZGC soft heap limit {} MiB", bytes / MIB);
            } catch (IllegalArgumentException e) {
                LOG.warn("could not set ZGC's soft heap limit to {} MiB: {}", bytes / MIB, e.getMessage());
                installed = Long.MAX_VALUE; // do not try again after every collection
            }
        }
    }
}
