package dev.vertebra.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The CUDA driver API ({@code libcuda.so.1}) through FFM. The {@code _v2} entry points are bound by name, as
 * cuda.h's macros would pick them; every status is checked and a failure becomes a {@link CudaException}
 * carrying {@code cuGetErrorName}'s name. Handles (contexts, streams, modules, functions, events) are
 * {@link MemorySegment} addresses; device pointers are {@code long}s ({@code CUdeviceptr}).
 */
// Binding native code is what this class is for: the restricted FFM methods are its job.
@SuppressWarnings("restricted")
final class Driver {
    static final int ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    static final int ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    static final int ERROR_OUT_OF_MEMORY = 2;

    private static final String LIB = "libcuda.so.1";
    private static final FunctionDescriptor I_I = FunctionDescriptor.of(JAVA_INT, JAVA_INT);
    private static final FunctionDescriptor I_P = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    private static final FunctionDescriptor I_L = FunctionDescriptor.of(JAVA_INT, JAVA_LONG);
    private static final FunctionDescriptor I_PP = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
    private static final FunctionDescriptor I_PI = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT);
    private static final FunctionDescriptor I_PL = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG);

    private final String location;
    private final MethodHandle cuGetErrorName;
    private final MethodHandle cuGetErrorString;
    private final MethodHandle cuInit;
    private final MethodHandle cuDriverGetVersion;
    private final MethodHandle cuDeviceGetCount;
    private final MethodHandle cuDeviceGet;
    private final MethodHandle cuDeviceGetName;
    private final MethodHandle cuDeviceGetAttribute;
    private final MethodHandle cuDevicePrimaryCtxRetain;
    private final MethodHandle cuCtxSetCurrent;
    private final MethodHandle cuMemAlloc;
    private final MethodHandle cuMemFree;
    private final MethodHandle cuMemAllocHost;
    private final MethodHandle cuMemFreeHost;
    private final MethodHandle cuMemGetInfo;
    private final MethodHandle cuMemcpyHtoDAsync;
    private final MethodHandle cuMemcpyDtoHAsync;
    private final MethodHandle cuMemcpyDtoDAsync;
    private final MethodHandle cuMemsetD8Async;
    private final MethodHandle cuModuleLoadData;
    private final MethodHandle cuModuleGetFunction;
    private final MethodHandle cuLaunchKernel;
    private final MethodHandle cuStreamCreate;
    private final MethodHandle cuStreamSynchronize;
    private final MethodHandle cuEventCreate;
    private final MethodHandle cuEventRecord;
    private final MethodHandle cuEventSynchronize;
    private final MethodHandle cuEventElapsedTime;
    private final MethodHandle cuEventDestroy;

    Driver() {
        NativeLibraries.Loaded lib = NativeLibraries.open(List.of(LIB), List.of());
        SymbolLookup l = lib.lookup();
        location = lib.location();
        cuGetErrorName = NativeCall.bind(l, LIB, "cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        cuGetErrorString = NativeCall.bind(l, LIB, "cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        cuInit = NativeCall.bind(l, LIB, "cuInit", I_I);
        cuDriverGetVersion = NativeCall.bind(l, LIB, "cuDriverGetVersion", I_P);
        cuDeviceGetCount = NativeCall.bind(l, LIB, "cuDeviceGetCount", I_P);
        cuDeviceGet = NativeCall.bind(l, LIB, "cuDeviceGet", I_PI);
        cuDeviceGetName = NativeCall.bind(l, LIB, "cuDeviceGetName",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDeviceGetAttribute = NativeCall.bind(l, LIB, "cuDeviceGetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDevicePrimaryCtxRetain = NativeCall.bind(l, LIB, "cuDevicePrimaryCtxRetain", I_PI);
        cuCtxSetCurrent = NativeCall.bind(l, LIB, "cuCtxSetCurrent", I_P);
        cuMemAlloc = NativeCall.bind(l, LIB, "cuMemAlloc_v2", I_PL);
        cuMemFree = NativeCall.bind(l, LIB, "cuMemFree_v2", I_L);
        cuMemAllocHost = NativeCall.bind(l, LIB, "cuMemAllocHost_v2", I_PL);
        cuMemFreeHost = NativeCall.bind(l, LIB, "cuMemFreeHost", I_P);
        cuMemGetInfo = NativeCall.bind(l, LIB, "cuMemGetInfo_v2", I_PP);
        cuMemcpyHtoDAsync = NativeCall.bind(l, LIB, "cuMemcpyHtoDAsync_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
        cuMemcpyDtoHAsync = NativeCall.bind(l, LIB, "cuMemcpyDtoHAsync_v2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemcpyDtoDAsync = NativeCall.bind(l, LIB, "cuMemcpyDtoDAsync_v2",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemsetD8Async = NativeCall.bind(l, LIB, "cuMemsetD8Async",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS));
        cuModuleLoadData = NativeCall.bind(l, LIB, "cuModuleLoadData", I_PP);
        cuModuleGetFunction = NativeCall.bind(l, LIB, "cuModuleGetFunction",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuLaunchKernel = NativeCall.bind(l, LIB, "cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuStreamCreate = NativeCall.bind(l, LIB, "cuStreamCreate", I_PI);
        cuStreamSynchronize = NativeCall.bind(l, LIB, "cuStreamSynchronize", I_P);
        cuEventCreate = NativeCall.bind(l, LIB, "cuEventCreate", I_PI);
        cuEventRecord = NativeCall.bind(l, LIB, "cuEventRecord", I_PP);
        cuEventSynchronize = NativeCall.bind(l, LIB, "cuEventSynchronize", I_P);
        // cuda.h maps cuEventDestroy to cuEventDestroy_v2 (since CUDA 4.0); the plain name is the old ABI.
        cuEventDestroy = NativeCall.bindFirst(l, LIB, I_P, "cuEventDestroy_v2", "cuEventDestroy");
        // CUDA 12.8 added cuEventElapsedTime_v2 (cuda.h 13 maps the plain name to it); older drivers lack it.
        cuEventElapsedTime = NativeCall.bindFirst(l, LIB, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
                "cuEventElapsedTime_v2", "cuEventElapsedTime");
    }

    /** Where libcuda was found. */
    String location() {
        return location;
    }

    /** Throws a {@link CudaException} for a non-zero status of {@code call}. */
    void check(int status, String call) {
        if (status != 0) {
            throw failure(status, call);
        }
    }

    CudaException failure(int status, String call) {
        return new CudaException(CudaException.Library.DRIVER, call, status, errorName(status), errorString(status));
    }

    String errorName(int status) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int s = NativeCall.status(() -> (int) cuGetErrorName.invokeExact(status, p));
            return s == 0 ? NativeCall.cString(p.get(ADDRESS, 0)) : "CUDA_ERROR_" + status;
        }
    }

    private String errorString(int status) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int s = NativeCall.status(() -> (int) cuGetErrorString.invokeExact(status, p));
            return s == 0 ? NativeCall.cString(p.get(ADDRESS, 0)) : null;
        }
    }

    void init() {
        check(NativeCall.status(() -> (int) cuInit.invokeExact(0)), "cuInit");
    }

    int driverVersion() {
        return intOut("cuDriverGetVersion", cuDriverGetVersion);
    }

    int deviceCount() {
        return intOut("cuDeviceGetCount", cuDeviceGetCount);
    }

    private int intOut(String call, MethodHandle handle) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check(NativeCall.status(() -> (int) handle.invokeExact(p)), call);
            return p.get(JAVA_INT, 0);
        }
    }

    /** The CUdevice handle (an int) of ordinal {@code ordinal}. */
    int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check(NativeCall.status(() -> (int) cuDeviceGet.invokeExact(p, ordinal)), "cuDeviceGet");
            return p.get(JAVA_INT, 0);
        }
    }

    String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(256);
            check(NativeCall.status(() -> (int) cuDeviceGetName.invokeExact(p, 256, device)), "cuDeviceGetName");
            return p.getString(0);
        }
    }

    int attribute(int device, int attribute) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check(NativeCall.status(() -> (int) cuDeviceGetAttribute.invokeExact(p, attribute, device)),
                    "cuDeviceGetAttribute");
            return p.get(JAVA_INT, 0);
        }
    }

    MemorySegment primaryContext(int device) {
        return handleOut("cuDevicePrimaryCtxRetain", p -> (int) cuDevicePrimaryCtxRetain.invokeExact(p, device));
    }

    void setCurrent(MemorySegment context) {
        check(NativeCall.status(() -> (int) cuCtxSetCurrent.invokeExact(context)), "cuCtxSetCurrent");
    }

    /** Allocates device memory; returns the raw status too so the allocator can react to out-of-memory. */
    long memAlloc(long bytes, int[] statusOut) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            int s = NativeCall.status(() -> (int) cuMemAlloc.invokeExact(p, bytes));
            statusOut[0] = s;
            return s == 0 ? p.get(JAVA_LONG, 0) : 0;
        }
    }

    void memFree(long pointer) {
        check(NativeCall.status(() -> (int) cuMemFree.invokeExact(pointer)), "cuMemFree_v2");
    }

    /** Page-locked host memory of {@code bytes}, as a segment of that size. */
    MemorySegment memAllocHost(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(NativeCall.status(() -> (int) cuMemAllocHost.invokeExact(p, bytes)), "cuMemAllocHost_v2");
            return p.get(ADDRESS, 0).reinterpret(bytes);
        }
    }

    void memFreeHost(MemorySegment host) {
        check(NativeCall.status(() -> (int) cuMemFreeHost.invokeExact(host)), "cuMemFreeHost");
    }

    /** {free, total} device memory in bytes. */
    long[] memInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG);
            MemorySegment total = a.allocate(JAVA_LONG);
            check(NativeCall.status(() -> (int) cuMemGetInfo.invokeExact(free, total)), "cuMemGetInfo_v2");
            return new long[]{free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        }
    }

    void copyHostToDevice(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        check(NativeCall.status(() -> (int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream)),
                "cuMemcpyHtoDAsync_v2");
    }

    void copyDeviceToHost(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        check(NativeCall.status(() -> (int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream)),
                "cuMemcpyDtoHAsync_v2");
    }

    void copyDeviceToDevice(long dst, long src, long bytes, MemorySegment stream) {
        check(NativeCall.status(() -> (int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream)),
                "cuMemcpyDtoDAsync_v2");
    }

    void memsetBytes(long dst, byte value, long bytes, MemorySegment stream) {
        check(NativeCall.status(() -> (int) cuMemsetD8Async.invokeExact(dst, value, bytes, stream)), "cuMemsetD8Async");
    }

    MemorySegment loadModule(MemorySegment image) {
        return handleOut("cuModuleLoadData", p -> (int) cuModuleLoadData.invokeExact(p, image));
    }

    MemorySegment function(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cName = a.allocateFrom(name);
            return handleOut("cuModuleGetFunction(" + name + ")",
                    p -> (int) cuModuleGetFunction.invokeExact(p, module, cName));
        }
    }

    void launch(String name, MemorySegment function, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes,
                MemorySegment stream, MemorySegment params) {
        int status = NativeCall.status(() -> (int) cuLaunchKernel.invokeExact(function, gx, gy, gz, bx, by, bz,
                sharedBytes, stream, params, MemorySegment.NULL));
        if (status != 0) {
            // The call's name only when it failed: a string per launch otherwise.
            check(status, "cuLaunchKernel(" + name + ")");
        }
    }

    MemorySegment createStream() {
        return handleOut("cuStreamCreate", p -> (int) cuStreamCreate.invokeExact(p, 0));
    }

    void synchronize(MemorySegment stream) {
        check(NativeCall.status(() -> (int) cuStreamSynchronize.invokeExact(stream)), "cuStreamSynchronize");
    }

    MemorySegment createEvent() {
        return handleOut("cuEventCreate", p -> (int) cuEventCreate.invokeExact(p, 0));
    }

    void destroyEvent(MemorySegment event) {
        check(NativeCall.status(() -> (int) cuEventDestroy.invokeExact(event)), "cuEventDestroy");
    }

    void record(MemorySegment event, MemorySegment stream) {
        check(NativeCall.status(() -> (int) cuEventRecord.invokeExact(event, stream)), "cuEventRecord");
    }

    void synchronizeEvent(MemorySegment event) {
        check(NativeCall.status(() -> (int) cuEventSynchronize.invokeExact(event)), "cuEventSynchronize");
    }

    float elapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_FLOAT);
            check(NativeCall.status(() -> (int) cuEventElapsedTime.invokeExact(p, start, end)), "cuEventElapsedTime");
            return p.get(JAVA_FLOAT, 0);
        }
    }

    @FunctionalInterface
    private interface HandleCall {
        int call(MemorySegment out) throws Throwable;
    }

    private MemorySegment handleOut(String call, HandleCall c) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(NativeCall.status(() -> c.call(p)), call);
            return p.get(ADDRESS, 0);
        }
    }
}
