/** JMH benchmarks of Vertebra's kernels; see bench/NOTES.md for the figures. */
package dev.vertebra.bench;
