package dev.vertebra.cuda;

import dev.vertebra.core.Backend;
import dev.vertebra.core.BackendProvider;
import dev.vertebra.core.Device;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes {@code cuda:N} devices known to {@link dev.vertebra.core.Backends}. Asking for availability loads the
 * driver library and counts devices; when that fails (no driver, no GPU, no NVRTC or cuBLAS) the reason says
 * which and where it looked, and nothing else is affected.
 */
public final class CudaBackendProvider implements BackendProvider {
    private static final Map<Integer, CudaBackend> OPEN = new ConcurrentHashMap<>();

    /** Called by {@link java.util.ServiceLoader}; does no work until asked for availability. */
    public CudaBackendProvider() {
    }

    @Override
    public String kind() {
        return "cuda";
    }

    @Override
    public Availability availability() {
        CudaRuntime rt = CudaRuntime.get();
        if (rt == null) {
            return Availability.no(CudaRuntime.failure());
        }
        return Availability.yes(rt.deviceCount + " device(s): " + deviceNames(rt) + "; " + rt.describe());
    }

    private static String deviceNames(CudaRuntime rt) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < rt.deviceCount; i++) {
            names.add("cuda:" + i + " " + rt.driver.deviceName(rt.driver.device(i)));
        }
        return String.join(", ", names);
    }

    @Override
    public Backend open(Device device) {
        if (!device.kind().equals(kind())) {
            throw new IllegalArgumentException("the CUDA provider cannot open " + device);
        }
        CudaRuntime rt = CudaRuntime.get();
        if (rt == null) {
            throw new IllegalStateException("CUDA is unavailable: " + CudaRuntime.failure());
        }
        if (device.index() >= rt.deviceCount) {
            throw new IllegalArgumentException(device + " does not exist: " + rt.deviceCount + " CUDA device(s) present");
        }
        return OPEN.computeIfAbsent(device.index(), i -> new CudaBackend(device, rt));
    }

    @Override
    public List<Device> devices() {
        CudaRuntime rt = CudaRuntime.get();
        List<Device> out = new ArrayList<>();
        for (int i = 0; rt != null && i < rt.deviceCount; i++) {
            out.add(new Device("cuda", i));
        }
        return out;
    }
}
