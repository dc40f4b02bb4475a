package dev.vertebra.core;

import dev.vertebra.core.io.HostArray;

/**
 * Tensor memory on the Java heap: one primitive array whose Java type follows the dtype ({@code float[]} for
 * FLOAT32, {@code double[]} for FLOAT64, {@code long[]} for INT64, {@code int[]} for INT32, {@code short[]} for
 * INT16 and the raw bits of FLOAT16/BFLOAT16, {@code byte[]} for UINT8).
 *
 * <p>Fast kernels use the typed accessors ({@link #floats()}); generic code (the reference backend, casts) uses
 * {@link #get(int)}/{@link #set(int, double)}.
 */
public final class CpuStorage implements Storage {
    private final DType dtype;
    /**
     * Null once handed back to a {@link MemoryScope}'s pool: every access then throws. Volatile so that a thread
     * that reads a dead tensor sees the release rather than the reused array.
     */
    private volatile Object array;
    private final int size;
    /** The open scope this storage's array returns to, or null for garbage-collected memory. */
    private MemoryScope scope;

    private CpuStorage(DType dtype, Object array, int size) {
        this.dtype = dtype;
        this.array = array;
        this.size = size;
    }

    /** Zero-filled storage of {@code size} elements (from the current {@link MemoryScope}'s pool when one is open). */
    public static CpuStorage allocate(DType dtype, int size) {
        return dtype == DType.FLOAT32 ? scoped(MemoryScope.floats(size, true), size) : allocateUnpooled(dtype, size);
    }

    /**
     * Zero-filled storage that never comes from or goes back to a {@link MemoryScope}'s pool: for arrays handed to
     * a caller, who owns them.
     */
    public static CpuStorage allocateUnpooled(DType dtype, int size) {
        Object array = switch (dtype) {
            case FLOAT32 -> new float[size];
            case FLOAT64 -> new double[size];
            case INT64 -> new long[size];
            case INT32 -> new int[size];
            case INT16, FLOAT16, BFLOAT16 -> new short[size];
            case UINT8 -> new byte[size];
        };
        return new CpuStorage(dtype, array, size);
    }

    /**
     * float32 storage whose contents are unspecified (reused memory from the current {@link MemoryScope}'s pool):
     * for kernels that write every element of their output.
     */
    public static CpuStorage allocateUninitialized(int size) {
        return scoped(MemoryScope.floats(size, false), size);
    }

    private static CpuStorage scoped(float[] array, int size) {
        CpuStorage s = new CpuStorage(DType.FLOAT32, array, size);
        s.scope = MemoryScope.adopt(s, size);
        return s;
    }

    MemoryScope scope() {
        return scope;
    }

    /** Leaves the scope: the array stays with this storage and is garbage-collected with it. */
    void detachFromScope() {
        scope = null;
    }

    /** Gives up the array (for the pool); every later access throws. */
    float[] release() {
        float[] a = (float[]) live();
        array = null;
        scope = null;
        return a;
    }

    /** True once the array was handed back to a {@link MemoryScope}: the tensors on it are dead. */
    public boolean isReleased() {
        return array == null;
    }

    private Object live() {
        Object a = array;
        if (a == null) {
            throw new IllegalStateException("this tensor's memory was handed back when its MemoryScope closed; "
                    + "keep a tensor that must outlive its scope with MemoryScope.keep, or read it inside the scope");
        }
        return a;
    }

    /** Wraps (does not copy) a host array's backing data. */
    public static CpuStorage wrap(HostArray host) {
        return new CpuStorage(host.dtype(), host.data(), host.size());
    }

    /** Wraps (does not copy) a float array. */
    public static CpuStorage wrap(float[] data) {
        return new CpuStorage(DType.FLOAT32, data, data.length);
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int size() {
        return size;
    }

    /** The backing Java array (its type follows the dtype). */
    public Object array() {
        return live();
    }

    /** The backing array of a FLOAT32 storage. */
    public float[] floats() {
        if (live() instanceof float[] f) {
            return f;
        }
        throw new IllegalStateException("storage holds " + dtype + ", not float32");
    }

    /** The backing array of a FLOAT64 storage. */
    public double[] doubles() {
        if (live() instanceof double[] d) {
            return d;
        }
        throw new IllegalStateException("storage holds " + dtype + ", not float64");
    }

    /** Element {@code i} converted to double (unsigned for UINT8, decoded for the 16-bit floats). */
    public double get(int i) {
        return switch (live()) {
            case float[] a -> a[i];
            case double[] a -> a[i];
            case long[] a -> a[i];
            case int[] a -> a[i];
            case byte[] a -> a[i] & 0xFF;
            case short[] a -> switch (dtype) {
                case FLOAT16 -> Float.float16ToFloat(a[i]);
                case BFLOAT16 -> Float.intBitsToFloat(a[i] << 16);
                default -> a[i];
            };
            default -> throw new IllegalStateException("unexpected backing array " + array.getClass());
        };
    }

    /** Element {@code i} as a long, exact for the integer types. */
    public long getLong(int i) {
        return switch (live()) {
            case long[] a -> a[i];
            case int[] a -> a[i];
            case byte[] a -> a[i] & 0xFF;
            case short[] a when dtype == DType.INT16 -> a[i];
            default -> (long) get(i);
        };
    }

    /**
     * Stores {@code v} at {@code i}, converted to the dtype: rounded to nearest-even for the float types,
     * truncated toward zero for the integer types (as a C cast, which is what PyTorch's {@code .to()} does).
     */
    public void set(int i, double v) {
        switch (live()) {
            case float[] a -> a[i] = (float) v;
            case double[] a -> a[i] = v;
            case long[] a -> a[i] = (long) v;
            case int[] a -> a[i] = (int) (long) v;
            case byte[] a -> a[i] = (byte) (long) v;
            case short[] a -> a[i] = switch (dtype) {
                case FLOAT16 -> toFloat16((float) v);
                case BFLOAT16 -> toBfloat16((float) v);
                default -> (short) (long) v;
            };
            default -> throw new IllegalStateException("unexpected backing array " + array.getClass());
        }
    }

    /** Stores an integer value exactly (for the integer types). */
    public void setLong(int i, long v) {
        switch (live()) {
            case long[] a -> a[i] = v;
            case int[] a -> a[i] = (int) v;
            case byte[] a -> a[i] = (byte) v;
            case short[] a when dtype == DType.INT16 -> a[i] = (short) v;
            default -> set(i, v);
        }
    }

    /**
     * float32 → float16 bits, round to nearest even. Every NaN becomes the canonical quiet NaN with its sign, so
     * all backends agree bit for bit whatever NaN payload their arithmetic produced.
     */
    public static short toFloat16(float f) {
        if (Float.isNaN(f)) {
            return (short) (((Float.floatToRawIntBits(f) >>> 16) & 0x8000) | 0x7E00);
        }
        return Float.floatToFloat16(f);
    }

    /** float32 → bfloat16 bits, round to nearest even; NaN becomes the canonical quiet NaN with its sign. */
    public static short toBfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) (((bits >>> 16) & 0x8000) | 0x7FC0);
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
