package dev.vertebra.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * NVRTC, the run-time CUDA C++ compiler ({@code libnvrtc.so.13} or {@code .12}) through FFM. Compiles one
 * kernel source with named headers to a CUBIN for the device's exact architecture when this NVRTC knows it,
 * otherwise to PTX for the newest architecture it knows (the driver JIT-compiles that PTX).
 */
final class Nvrtc {
    private static final List<String> NAMES = List.of("libnvrtc.so.13", "libnvrtc.so.12");

    private final String location;
    private final MethodHandle nvrtcGetErrorString;
    private final MethodHandle nvrtcVersion;
    private final MethodHandle nvrtcGetNumSupportedArchs;
    private final MethodHandle nvrtcGetSupportedArchs;
    private final MethodHandle nvrtcCreateProgram;
    private final MethodHandle nvrtcCompileProgram;
    private final MethodHandle nvrtcDestroyProgram;
    private final MethodHandle nvrtcGetProgramLogSize;
    private final MethodHandle nvrtcGetProgramLog;
    private final MethodHandle nvrtcGetPTXSize;
    private final MethodHandle nvrtcGetPTX;
    private final MethodHandle nvrtcGetCUBINSize;
    private final MethodHandle nvrtcGetCUBIN;

    Nvrtc() {
        // The builtins library sits next to libnvrtc and is dlopen'ed by it lazily; loading it first from the same
        // folder makes that work when the folder is not on the loader's path (Python wheels).
        NativeLibraries.Loaded lib = NativeLibraries.open(NAMES,
                List.of("libnvrtc-builtins.so.13.0", "libnvrtc-builtins.so.13.1", "libnvrtc-builtins.so.13.2",
                        "libnvrtc-builtins.so.12.9", "libnvrtc-builtins.so.12.8", "libnvrtc-builtins.so.12.6",
                        "libnvrtc-builtins.so.12.4"));
        location = lib.location();
        SymbolLookup l = lib.lookup();
        String n = "libnvrtc";
        nvrtcGetErrorString = NativeCall.bind(l, n, "nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        nvrtcVersion = NativeCall.bind(l, n, "nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        nvrtcGetNumSupportedArchs = NativeCall.bind(l, n, "nvrtcGetNumSupportedArchs",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        nvrtcGetSupportedArchs = NativeCall.bind(l, n, "nvrtcGetSupportedArchs", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        nvrtcCreateProgram = NativeCall.bind(l, n, "nvrtcCreateProgram",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        nvrtcCompileProgram = NativeCall.bind(l, n, "nvrtcCompileProgram",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        nvrtcDestroyProgram = NativeCall.bind(l, n, "nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        FunctionDescriptor sizeOut = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        nvrtcGetProgramLogSize = NativeCall.bind(l, n, "nvrtcGetProgramLogSize", sizeOut);
        nvrtcGetProgramLog = NativeCall.bind(l, n, "nvrtcGetProgramLog", sizeOut);
        nvrtcGetPTXSize = NativeCall.bind(l, n, "nvrtcGetPTXSize", sizeOut);
        nvrtcGetPTX = NativeCall.bind(l, n, "nvrtcGetPTX", sizeOut);
        nvrtcGetCUBINSize = NativeCall.bind(l, n, "nvrtcGetCUBINSize", sizeOut);
        nvrtcGetCUBIN = NativeCall.bind(l, n, "nvrtcGetCUBIN", sizeOut);
    }

    String location() {
        return location;
    }

    private void check(int status, String call, String detail) {
        if (status != 0) {
            MemorySegment p = NativeCall.status0(() -> (MemorySegment) nvrtcGetErrorString.invokeExact(status));
            throw new CudaException(CudaException.Library.NVRTC, call, status, NativeCall.cString(p), detail);
        }
    }

    /** "major.minor" of this NVRTC. */
    String version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment major = a.allocate(JAVA_INT);
            MemorySegment minor = a.allocate(JAVA_INT);
            check(NativeCall.status(() -> (int) nvrtcVersion.invokeExact(major, minor)), "nvrtcVersion", null);
            return major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0);
        }
    }

    /** The SM numbers (e.g. 75, 80, 90) this NVRTC can generate code for, ascending. */
    int[] supportedArchitectures() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(JAVA_INT);
            check(NativeCall.status(() -> (int) nvrtcGetNumSupportedArchs.invokeExact(count)),
                    "nvrtcGetNumSupportedArchs", null);
            MemorySegment archs = a.allocate(JAVA_INT, Math.max(1, count.get(JAVA_INT, 0)));
            check(NativeCall.status(() -> (int) nvrtcGetSupportedArchs.invokeExact(archs)), "nvrtcGetSupportedArchs", null);
            return archs.asSlice(0, 4L * count.get(JAVA_INT, 0)).toArray(JAVA_INT);
        }
    }

    /** Compiled device code: a CUBIN, or PTX text (NUL-terminated) for the driver to JIT. */
    record Image(byte[] bytes, boolean cubin) {
    }

    /**
     * Compiles {@code source} (named {@code name} in diagnostics) with {@code headers} (include name → text).
     * {@code sm} is the target (e.g. 90); {@code cubin} asks for machine code rather than PTX.
     */
    Image compile(String name, String source, Map<String, String> headers, int sm, boolean cubin, List<String> options) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment program = a.allocate(ADDRESS);
            MemorySegment headerTexts = a.allocate(ADDRESS, Math.max(1, headers.size()));
            MemorySegment headerNames = a.allocate(ADDRESS, Math.max(1, headers.size()));
            int i = 0;
            for (Map.Entry<String, String> h : headers.entrySet()) {
                headerNames.setAtIndex(ADDRESS, i, a.allocateFrom(h.getKey()));
                headerTexts.setAtIndex(ADDRESS, i, a.allocateFrom(h.getValue()));
                i++;
            }
            MemorySegment src = a.allocateFrom(source);
            MemorySegment cName = a.allocateFrom(name);
            int headerCount = headers.size();
            check(NativeCall.status(() -> (int) nvrtcCreateProgram.invokeExact(program, src, cName, headerCount,
                    headerTexts, headerNames)), "nvrtcCreateProgram(" + name + ")", null);
            MemorySegment prog = program.get(ADDRESS, 0);
            try {
                List<String> all = new java.util.ArrayList<>(options);
                all.add("--gpu-architecture=" + (cubin ? "sm_" : "compute_") + sm);
                MemorySegment opts = a.allocate(ADDRESS, all.size());
                for (int k = 0; k < all.size(); k++) {
                    opts.setAtIndex(ADDRESS, k, a.allocateFrom(all.get(k)));
                }
                int optCount = all.size();
                int status = NativeCall.status(() -> (int) nvrtcCompileProgram.invokeExact(prog, optCount, opts));
                check(status, "nvrtcCompileProgram(" + name + ", " + String.join(" ", all) + ")", log(a, prog));
                MethodHandle sizeHandle = cubin ? nvrtcGetCUBINSize : nvrtcGetPTXSize;
                MethodHandle getHandle = cubin ? nvrtcGetCUBIN : nvrtcGetPTX;
                MemorySegment size = a.allocate(JAVA_LONG);
                check(NativeCall.status(() -> (int) sizeHandle.invokeExact(prog, size)), "nvrtcGet*Size", null);
                MemorySegment code = a.allocate(size.get(JAVA_LONG, 0));
                check(NativeCall.status(() -> (int) getHandle.invokeExact(prog, code)), "nvrtcGetCUBIN/PTX", null);
                return new Image(code.toArray(JAVA_BYTE), cubin);
            } finally {
                NativeCall.status(() -> (int) nvrtcDestroyProgram.invokeExact(program));
            }
        }
    }

    private String log(Arena a, MemorySegment prog) {
        MemorySegment size = a.allocate(JAVA_LONG);
        if (NativeCall.status(() -> (int) nvrtcGetProgramLogSize.invokeExact(prog, size)) != 0) {
            return null;
        }
        MemorySegment text = a.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
        if (NativeCall.status(() -> (int) nvrtcGetProgramLog.invokeExact(prog, text)) != 0) {
            return null;
        }
        return "\n" + text.getString(0);
    }
}
