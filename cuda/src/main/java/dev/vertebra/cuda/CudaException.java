package dev.vertebra.cuda;

/**
 * A failed call into a CUDA library. Carries the library, the C function that failed, its numeric status and
 * the library's own name for it ({@code CUDA_ERROR_ILLEGAL_ADDRESS}, {@code NVRTC_ERROR_COMPILATION},
 * {@code CUBLAS_STATUS_NOT_SUPPORTED}, {@code CUDNN_STATUS_BAD_PARAM}, …), so a log line says what went wrong without a header at hand.
 */
public class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The native library a status code came from. */
    public enum Library {
        DRIVER, NVRTC, CUBLAS, CUDNN
    }

    private final Library library;
    private final String call;
    private final int status;
    private final String errorName;

    public CudaException(Library library, String call, int status, String errorName, String detail) {
        super(library.name().toLowerCase(java.util.Locale.ROOT) + ": " + call + " failed with " + errorName
                + " (" + status + ")" + (detail == null || detail.isBlank() ? "" : ": " + detail));
        this.library = library;
        this.call = call;
        this.status = status;
        this.errorName = errorName;
    }

    /** Which library reported the error. */
    public Library library() {
        return library;
    }

    /** The C function that failed, e.g. {@code cuMemAlloc_v2}. */
    public String call() {
        return call;
    }

    /** The numeric status the function returned. */
    public int status() {
        return status;
    }

    /** The library's symbolic name for the status, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return errorName;
    }
}
