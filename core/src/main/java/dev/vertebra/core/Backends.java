package dev.vertebra.core;

import dev.vertebra.core.reference.ReferenceBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds the backend instance behind a {@link Device}. The CPU and reference backends are built in; others
 * (cuda) come through {@link BackendProvider} services found on the module or class path.
 *
 * <pre>{@code
 * Backend cpu = Backends.get(Device.CPU);
 * for (Backends.Info info : Backends.describe()) System.out.println(info);
 * }</pre>
 */
public final class Backends {
    private static final Map<Device, Backend> OPEN = new ConcurrentHashMap<>();
    private static volatile Device defaultDevice = Device.CPU;
    private static volatile boolean tf32 = Boolean.getBoolean("vertebra.cuda.tf32");

    private Backends() {
    }

    /** The backend serving {@code device}, opened on first use. */
    public static Backend get(Device device) {
        if (device.isProfiled()) {
            // Open the timed backend first: a map must not be updated from inside its own computeIfAbsent.
            Backend timed = get(device.unprofiled());
            return OPEN.computeIfAbsent(device, d -> new ProfilingBackend(timed, d));
        }
        return OPEN.computeIfAbsent(device, Backends::open);
    }

    /**
     * The profiling backend of {@code device}'s {@link Device#profiled()} alias: tensors and modules moved to
     * {@code profiled(d).device()} run on {@code d}'s backend with each primitive timed.
     */
    public static ProfilingBackend profiled(Device device) {
        return (ProfilingBackend) get(device.profiled());
    }

    private static Backend open(Device device) {
        return switch (device.kind()) {
            case "cpu" -> CpuBackendHolder.INSTANCE;
            case "cpu-reference" -> new ReferenceBackend(device);
            default -> {
                for (BackendProvider p : providers()) {
                    if (p.kind().equals(device.kind())) {
                        BackendProvider.Availability a = p.availability();
                        if (!a.available()) {
                            throw new IllegalStateException("device " + device + " is unavailable: " + a.reason());
                        }
                        yield p.open(device);
                    }
                }
                throw new IllegalArgumentException("no backend for device '" + device
                        + "': known kinds are cpu, cpu-reference" + extraKinds());
            }
        };
    }

    private static String extraKinds() {
        StringBuilder sb = new StringBuilder();
        for (BackendProvider p : providers()) {
            sb.append(", ").append(p.kind());
        }
        return sb.toString();
    }

    private static List<BackendProvider> providers() {
        List<BackendProvider> list = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(list::add);
        return list;
    }

    /** The device tensors are created on when none is named (cpu unless changed). */
    public static Device defaultDevice() {
        return defaultDevice;
    }

    /** Changes the device used by factories that take none. */
    public static void setDefaultDevice(Device device) {
        get(device);
        defaultDevice = device;
    }

    /**
     * Lets accelerators run float32 matmuls and convolutions on TF32 tensor cores (inputs rounded to a 10-bit
     * mantissa, float32 accumulation), as {@code torch.backends.cuda.matmul.allow_tf32} and
     * {@code torch.backends.cudnn.allow_tf32} do. Backends read it at every call; the CPU backends always compute
     * full float32. Off unless {@code -Dvertebra.cuda.tf32=true}.
     */
    public static void allowTf32(boolean allowed) {
        tf32 = allowed;
    }

    /** Whether float32 matmuls and convolutions may use TF32 ({@link #allowTf32}). */
    public static boolean tf32Allowed() {
        return tf32;
    }

    /** Every backend kind known here, with whether it can run and why not. */
    public static List<Info> describe() {
        List<Info> infos = new ArrayList<>();
        infos.add(new Info("cpu", true, CpuBackendHolder.describe()));
        infos.add(new Info("cpu-reference", true, "plain loops, double accumulation (the test oracle)"));
        for (BackendProvider p : providers()) {
            BackendProvider.Availability a = p.availability();
            infos.add(new Info(p.kind(), a.available(), a.reason()));
        }
        return infos;
    }

    /** One backend kind's availability. */
    public record Info(String kind, boolean available, String detail) {
        @Override
        public String toString() {
            return kind + ": " + (available ? "available" : "unavailable") + " (" + detail + ")";
        }
    }
}
