/**
 * Fast CPU kernels on plain {@code float[]} arrays: a shared worker pool ({@link dev.vertebra.core.cpu.CpuThreads}),
 * a packed, register-blocked SGEMM ({@link dev.vertebra.core.cpu.Sgemm}), GEMM-based convolution
 * ({@link dev.vertebra.core.cpu.Conv2dGemm}) and depthwise convolution
 * ({@link dev.vertebra.core.cpu.DepthwiseConv2d}) on channels-last (NHWC) activations.
 *
 * <p>Nothing here knows about tensors or autograd: every kernel takes arrays, offsets and leading dimensions, so
 * the CPU backend can call them on any storage view it holds.
 */
package dev.vertebra.core.cpu;
