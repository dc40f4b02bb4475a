/** End-to-end model benchmarks: EfficientNet training and inference throughput, with a per-op profile. */
package dev.vertebra.bench.model;
