package dev.vertebra.core;

/**
 * Storage in an accelerator's memory. Backends outside core (cuda) implement this; buffers are released with
 * {@link #close()}, and using a closed buffer throws {@link IllegalStateException}.
 */
public non-sealed interface DeviceStorage extends Storage, AutoCloseable {

    /** The device the memory belongs to. */
    Device device();

    @Override
    void close();
}
