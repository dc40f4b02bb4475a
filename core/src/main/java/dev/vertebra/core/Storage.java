package dev.vertebra.core;

/**
 * The memory behind one or more tensors. A closed set: CPU memory, or memory owned by an accelerator backend
 * (which lives in another module and therefore implements the non-sealed {@link DeviceStorage}).
 */
public sealed interface Storage permits CpuStorage, DeviceStorage {

    /** Element type of every element. */
    DType dtype();

    /** Number of elements. */
    int size();
}
