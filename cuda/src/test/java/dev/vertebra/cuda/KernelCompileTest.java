package dev.vertebra.cuda;

import dev.vertebra.core.BinaryOp;
import dev.vertebra.core.ReduceOp;
import dev.vertebra.core.UnaryOp;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compiles every kernel source with {@code nvcc -ptx} (no GPU needed), with the options NVRTC gets, so a syntax
 * error cannot land; then checks that every op's kernel name the backend will ask for is in the PTX.
 */
class KernelCompileTest {

    @Test
    void everyKernelFileCompilesAndDefinesEveryOpKernel(@TempDir Path dir) throws IOException, InterruptedException {
        Path nvcc = Executables.onPath("nvcc");
        Assumptions.assumeTrue(nvcc != null, "nvcc is not on PATH: the CUDA sources were not compile-checked");
        Files.writeString(dir.resolve(KernelSources.HEADER), KernelSources.read(KernelSources.HEADER));
        StringBuilder allPtx = new StringBuilder();
        for (String file : KernelSources.FILES) {
            Path source = dir.resolve(file + ".cu");
            Files.writeString(source, KernelSources.read(file + ".cu"));
            Path ptx = dir.resolve(file + ".ptx");
            List<String> cmd = new ArrayList<>(List.of(nvcc.toString(), "-ptx", "-arch=sm_80"));
            cmd.addAll(KernelSources.OPTIONS);
            cmd.addAll(List.of("-I", dir.toString(), "-o", ptx.toString(), source.toString()));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(5, TimeUnit.MINUTES), "nvcc timed out on " + file);
            assertEquals(0, p.exitValue(), "nvcc failed on " + file + ".cu:\n" + output);
            allPtx.append(Files.readString(ptx));
        }
        String ptx = allPtx.toString();
        List<String> expected = new ArrayList<>(List.of("copy_cast", "fill", "im2col_f32", "col2im_f32",
                "depthwise_forward_f32", "depthwise_backward_input_f32", "depthwise_backward_weight_f32",
                "depthwise_forward_k3_f32", "depthwise_forward_k5_f32", "depthwise_backward_input_k3_f32",
                "depthwise_backward_input_k5_f32", "depthwise_backward_weight_k3_f32",
                "depthwise_backward_weight_k5_f32",
                "accumulate_f32", "accumulate_bf16", "scale_add_f32", "scale_add_f64",
                "pool_forward_f32", "pool_backward_f32", "channel_sums_f32", "divide_f64", "batch_norm_stats_f32",
                "batch_norm_apply_f32", "batch_norm_backward_sums_f32", "batch_norm_backward_apply_f32",
                "gather_f32", "scatter_add_f32"));
        for (String t : List.of("f32", "f64", "f16", "bf16")) {
            for (UnaryOp op : UnaryOp.values()) {
                expected.add("unary_" + op.kernel() + "_" + t);
            }
            for (BinaryOp op : BinaryOp.values()) {
                expected.add("binary_" + op.kernel() + "_" + t);
                expected.add("scalar_" + op.kernel() + "_" + t);
            }
        }
        for (String t : List.of("f32", "f64")) {
            for (ReduceOp op : ReduceOp.values()) {
                expected.add("reduce_" + op.kernel() + "_" + t);
            }
        }
        for (String name : expected) {
            assertTrue(ptx.contains(".entry " + name + "("), "no kernel " + name + " in the compiled sources");
        }
    }
}
