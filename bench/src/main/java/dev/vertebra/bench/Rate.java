package dev.vertebra.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * What a benchmark call moved and computed, reported by JMH beside the calls per second as rates: {@code gigabytes}
 * (GB/s), {@code gigaflops} (GFLOP/s) and {@code ofLimit}, the fraction of the machine's limit the call is held
 * against (copy bandwidth for memory-bound kernels, the FMA peak for compute-bound ones).
 *
 * <p>The limits are the probes of the project's reference folder ({@code peak_fma.c}, {@code stream_copy.c}); their
 * defaults are the figures recorded there for this kind of machine (352 GFLOP/s, 26 GB/s), and the probes run in
 * the same window override them: {@code -jvmArgsAppend "-Dvertebra.bench.peakGflops=424 -Dvertebra.bench.copyGBs=65"}.
 * Bytes count each operand read or written once (compulsory traffic), flops count a multiply-add as two.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Rate {

    static final double PEAK_GFLOPS = Double.parseDouble(System.getProperty("vertebra.bench.peakGflops", "352"));
    static final double COPY_GBS = Double.parseDouble(System.getProperty("vertebra.bench.copyGBs", "26"));

    /** Gigabytes moved; per second in JMH's output. */
    public double gigabytes;
    /** Gigaflops computed; per second in JMH's output. */
    public double gigaflops;
    /** Fraction of the limit; per second in JMH's output, so the achieved rate over the limit. */
    public double ofLimit;

    /** Counts one call of a kernel bound by memory bandwidth. */
    public void memoryBound(double bytes, double flops) {
        gigabytes += bytes / 1e9;
        gigaflops += flops / 1e9;
        ofLimit += bytes / 1e9 / COPY_GBS;
    }

    /** Counts one call of a kernel bound by the FMA peak. */
    public void computeBound(double bytes, double flops) {
        gigabytes += bytes / 1e9;
        gigaflops += flops / 1e9;
        ofLimit += flops / 1e9 / PEAK_GFLOPS;
    }
}
