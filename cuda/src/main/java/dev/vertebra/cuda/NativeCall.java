package dev.vertebra.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/** Small helpers shared by the bindings: looking up symbols and turning status codes into exceptions. */
// Binding native code is what this class is for: the restricted FFM methods are its job.
@SuppressWarnings("restricted")
final class NativeCall {
    private static final Linker LINKER = Linker.nativeLinker();

    private NativeCall() {
    }

    /** A call that returns a status code; the {@code Throwable} is MethodHandle.invokeExact's. */
    @FunctionalInterface
    interface StatusCall {
        int call() throws Throwable;
    }

    /** A downcall handle for {@code name}, or an error naming the missing symbol and the library. */
    static MethodHandle bind(SymbolLookup lookup, String library, String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError(
                "symbol " + name + " not found in " + library));
        return LINKER.downcallHandle(symbol, descriptor);
    }

    /** Like {@link #bind} but tries each name in turn (newer versioned symbol first). */
    static MethodHandle bindFirst(SymbolLookup lookup, String library, FunctionDescriptor descriptor, String... names) {
        for (String name : names) {
            if (lookup.find(name).isPresent()) {
                return bind(lookup, library, name, descriptor);
            }
        }
        throw new UnsatisfiedLinkError("none of " + String.join(", ", names) + " found in " + library);
    }

    /** Runs a native call and returns its status; native-call plumbing failures become unchecked errors. */
    static int status(StatusCall call) {
        return invoke(call::call);
    }

    /** A call that returns a 64-bit integer (version queries). */
    @FunctionalInterface
    interface LongCall {
        long call() throws Throwable;
    }

    /** Runs a native call that returns a 64-bit integer. */
    static long longResult(LongCall call) {
        return invoke(call::call);
    }

    /** A call that returns a pointer. */
    @FunctionalInterface
    interface PointerCall {
        MemorySegment call() throws Throwable;
    }

    /** Runs a native call that returns a pointer (error-string functions). */
    static MemorySegment status0(PointerCall call) {
        return invoke(call::call);
    }

    @FunctionalInterface
    private interface Invocation<T> {
        T call() throws Throwable;
    }

    /** The one place where a method handle's checked Throwable becomes an unchecked error. */
    private static <T> T invoke(Invocation<T> call) {
        try {
            return call.call();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    /** Reads a NUL-terminated C string returned by a library (null pointers become "?"). */
    static String cString(MemorySegment pointer) {
        if (pointer == null || pointer.equals(MemorySegment.NULL)) {
            return "?";
        }
        return pointer.reinterpret(4096).getString(0);
    }
}
