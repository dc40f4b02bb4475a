package dev.vertebra.cuda;

/**
 * The process-wide CUDA libraries, loaded once: the driver (initialised), NVRTC, cuBLAS and, when present and not
 * switched off, cuDNN (optional: without it the backend runs its own kernels). Loading never
 * throws to callers that only ask whether CUDA is usable: {@link #get()} records why it failed, and
 * {@link #failure()} says so in words.
 */
final class CudaRuntime {
    private static final Object LOCK = new Object();
    private static volatile CudaRuntime instance;
    private static volatile String failure;

    final Driver driver;
    final Nvrtc nvrtc;
    final Cublas cublas;
    /** Null when cuDNN is missing, unusable or switched off; {@link #cudnnStatus} says which. */
    final Cudnn cudnn;
    final String cudnnStatus;
    final int deviceCount;

    private CudaRuntime(Driver driver, Nvrtc nvrtc, Cublas cublas, Cudnn cudnn, String cudnnStatus, int deviceCount) {
        this.driver = driver;
        this.nvrtc = nvrtc;
        this.cublas = cublas;
        this.cudnn = cudnn;
        this.cudnnStatus = cudnnStatus;
        this.deviceCount = deviceCount;
    }

    /** The loaded runtime, or null when CUDA cannot be used here (see {@link #failure()}). */
    static CudaRuntime get() {
        if (instance == null && failure == null) {
            synchronized (LOCK) {
                if (instance == null && failure == null) {
                    load();
                }
            }
        }
        return instance;
    }

    /** Why {@link #get()} returned null. */
    static String failure() {
        get();
        return failure;
    }

    private static void load() {
        Driver driver;
        try {
            driver = new Driver();
        } catch (CudaLibraryNotFoundException e) {
            failure = "no NVIDIA driver: " + e.getMessage();
            return;
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            failure = "cannot bind libcuda.so.1: " + e;
            return;
        }
        int count;
        try {
            driver.init();
            count = driver.deviceCount();
        } catch (CudaException e) {
            failure = "the NVIDIA driver (" + driver.location() + ") has no usable GPU: " + e.getMessage();
            return;
        }
        if (count == 0) {
            failure = "the NVIDIA driver (" + driver.location() + ") reports no CUDA device";
            return;
        }
        Nvrtc nvrtc;
        Cublas cublas;
        try {
            nvrtc = new Nvrtc();
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            failure = "NVRTC (the CUDA run-time compiler) is unusable: " + e.getMessage();
            return;
        }
        try {
            cublas = new Cublas();
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            failure = "cuBLAS is unusable: " + e.getMessage();
            return;
        }
        Cudnn cudnn = null;
        String cudnnStatus;
        if (!CudnnSettings.enabled()) {
            cudnnStatus = "cuDNN switched off (" + CudnnSettings.SWITCH + ")";
        } else {
            try {
                cudnn = new Cudnn();
                cudnnStatus = "cuDNN " + cudnn.versionText() + " (" + cudnn.location() + ")";
            } catch (RuntimeException | UnsatisfiedLinkError e) {
                cudnnStatus = "no cuDNN, convolutions and batch norm on own kernels: " + e.getMessage();
            }
        }
        instance = new CudaRuntime(driver, nvrtc, cublas, cudnn, cudnnStatus, count);
    }

    /** One line: driver version and where each library came from. */
    String describe() {
        int v = driver.driverVersion();
        return "CUDA driver " + v / 1000 + "." + (v % 1000) / 10 + " (" + driver.location() + "), NVRTC "
                + nvrtc.version() + " (" + nvrtc.location() + "), cuBLAS (" + cublas.location() + "), " + cudnnStatus;
    }
}
