/** Vertebra benchmarks: JMH kernels, the end-to-end model benchmark and side-by-side runs. */
module dev.vertebra.bench {
    requires transitive dev.vertebra.core;
    requires dev.vertebra.data;
    requires dev.vertebra.efficientnet;
    requires java.management;
    requires jdk.management;
    requires jmh.core;
    requires jdk.incubator.vector;

    exports dev.vertebra.bench.model;
}
