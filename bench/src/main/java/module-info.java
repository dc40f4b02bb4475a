/** Vertebra benchmarks: JMH kernels and side-by-side runs. */
module dev.vertebra.bench {
    requires dev.vertebra.core;
    requires dev.vertebra.data;
    requires jmh.core;
    requires jdk.incubator.vector;
    requires java.management;
}
