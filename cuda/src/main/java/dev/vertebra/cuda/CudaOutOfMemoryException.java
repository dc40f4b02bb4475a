package dev.vertebra.cuda;

/**
 * The device could not provide a block even after the allocator emptied its cache and the JVM collected
 * unreachable tensors. Names the request and the allocator's state at the time.
 */
public final class CudaOutOfMemoryException extends CudaException {
    private static final long serialVersionUID = 1L;

    private final long requestedBytes;

    public CudaOutOfMemoryException(long requestedBytes, int status, String errorName, String state) {
        super(Library.DRIVER, "cuMemAlloc_v2", status, errorName,
                "out of device memory allocating " + requestedBytes + " bytes; " + state);
        this.requestedBytes = requestedBytes;
    }

    /** Bytes the failed allocation asked for (after rounding to the allocator's bucket). */
    public long requestedBytes() {
        return requestedBytes;
    }
}
