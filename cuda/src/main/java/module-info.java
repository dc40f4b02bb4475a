/**
 * Vertebra's NVIDIA GPU backend: the CUDA driver API, NVRTC, cuBLAS and (optionally)
 * cuDNN bound with the FFM API, kernels compiled
 * at run time, and a caching device allocator. Found by {@link dev.vertebra.core.Backends} through
 * {@link dev.vertebra.core.BackendProvider}; a machine without a GPU never opens a native library beyond the probe.
 */
module dev.vertebra.cuda {
    requires transitive dev.vertebra.core;

    exports dev.vertebra.cuda;

    provides dev.vertebra.core.BackendProvider with dev.vertebra.cuda.CudaBackendProvider;
}
