package dev.vertebra.cuda;

import java.util.List;

/** None of a library's versioned names could be opened in any searched place. */
public final class CudaLibraryNotFoundException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CudaLibraryNotFoundException(List<String> names, List<String> searched, String lastError) {
        super(String.join(" or ", names) + " not found (searched: the " + NativeLibraries.PATH_VARIABLE
                + " override, the system loader" + (searched.isEmpty() ? "" : ", " + String.join(", ", searched))
                + ")" + (lastError == null ? "" : "; last error: " + lastError));
    }
}
