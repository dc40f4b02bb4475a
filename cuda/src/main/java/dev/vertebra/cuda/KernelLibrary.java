package dev.vertebra.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Compiles each kernel file once per device with NVRTC (lazily, on its first kernel's launch), keeps the loaded
 * modules and function handles in memory, and launches kernels on the context's stream.
 *
 * <p>Compiled images are also cached on disk under {@code ~/.cache/vertebra/cuda} (or {@code $XDG_CACHE_HOME}),
 * keyed by a SHA-256 of the source, header, options, NVRTC version and target, so later runs skip NVRTC.
 */
final class KernelLibrary {
    static final int BLOCK = 256;
    private static final int MAX_GRID = 1 << 20;

    private final Driver driver;
    private final Nvrtc nvrtc;
    private final CudaContext context;
    private final int deviceSm;
    private final int targetSm;
    private final boolean cubin;
    private final Map<String, MemorySegment> modules = new ConcurrentHashMap<>();
    private final Map<String, MemorySegment> functions = new ConcurrentHashMap<>();

    KernelLibrary(Driver driver, Nvrtc nvrtc, CudaContext context, int deviceSm) {
        this.driver = driver;
        this.nvrtc = nvrtc;
        this.context = context;
        this.deviceSm = deviceSm;
        int best = -1;
        for (int sm : nvrtc.supportedArchitectures()) {
            if (sm <= deviceSm) {
                best = Math.max(best, sm);
            }
        }
        if (best < 0) {
            throw new IllegalStateException("NVRTC " + nvrtc.version() + " cannot generate code for sm_" + deviceSm);
        }
        this.targetSm = best;
        // Machine code for the device's own architecture; PTX (JIT-compiled by the driver) for a newer device.
        this.cubin = best == deviceSm;
    }

    /** e.g. "sm_90 cubin" or "compute_120 ptx for sm_121". */
    String target() {
        return cubin ? "sm_" + targetSm + " cubin" : "compute_" + targetSm + " ptx for sm_" + deviceSm;
    }

    MemorySegment function(String file, String name) {
        return functions.computeIfAbsent(name, n -> driver.function(module(file), n));
    }

    private MemorySegment module(String file) {
        return modules.computeIfAbsent(file, f -> {
            context.makeCurrent();
            byte[] image = compiled(f);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment data = a.allocate(image.length + 1L);
                data.copyFrom(MemorySegment.ofArray(image));
                return driver.loadModule(data);
            }
        });
    }

    private byte[] compiled(String file) {
        String source = KernelSources.read(file + ".cu");
        String header = KernelSources.read(KernelSources.HEADER);
        String key = hash(source, header, String.join(" ", KernelSources.OPTIONS), nvrtc.version(), target());
        Path cached = cacheDirectory().resolve(file + "-" + key + (cubin ? ".cubin" : ".ptx"));
        try {
            if (Files.isRegularFile(cached)) {
                return Files.readAllBytes(cached);
            }
        } catch (IOException e) {
            // An unreadable cache entry is only a missed shortcut: compile instead.
        }
        byte[] image = nvrtc.compile(file + ".cu", source, Map.of(KernelSources.HEADER, header), targetSm, cubin,
                KernelSources.OPTIONS).bytes();
        try {
            Files.createDirectories(cached.getParent());
            Path tmp = Files.createTempFile(cached.getParent(), file, ".tmp");
            Files.write(tmp, image);
            Files.move(tmp, cached, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | UnsupportedOperationException e) {
            // A read-only home only costs a recompilation next run; the in-memory module is what is used now.
        }
        return image;
    }

    private static Path cacheDirectory() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("vertebra").resolve("cuda");
    }

    private static String hash(String... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String p : parts) {
                md.update(p.getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest(), 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Launches a 1-D grid-stride kernel over {@code n} elements (nothing when n is 0). */
    void launch1d(String file, String name, long n, Consumer<KernelArgs> args) {
        if (n <= 0) {
            return;
        }
        int grid = (int) Math.min((n + BLOCK - 1) / BLOCK, MAX_GRID);
        launch(file, name, grid, 1, 1, BLOCK, 1, 0, args);
    }

    /** Launches with an explicit grid, block and dynamic shared memory. */
    void launch(String file, String name, int gx, int gy, int gz, int bx, int by, int sharedBytes,
                Consumer<KernelArgs> args) {
        MemorySegment f = function(file, name);
        context.makeCurrent();
        NativeScratch scratch = NativeScratch.current();
        long mark = scratch.mark();
        try {
            KernelArgs k = new KernelArgs(scratch);
            args.accept(k);
            driver.launch(name, f, gx, gy, gz, bx, by, 1, sharedBytes, context.stream(), k.build());
        } finally {
            scratch.release(mark);
        }
    }
}
