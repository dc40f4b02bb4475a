package dev.vertebra.efficientnet;

import dev.vertebra.core.Device;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.Safetensors;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.SequencedMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads the golden files written by src/test/python/make_effnet_golden.py and compares tensors with them. */
final class GoldenFiles {

    private GoldenFiles() {
    }

    /** All tensors of {@code golden/<name>} on the CPU, in file order. */
    static SequencedMap<String, Tensor> read(String name) {
        try (InputStream in = GoldenFiles.class.getResourceAsStream("/golden/" + name)) {
            assertNotNull(in, "missing golden file " + name + "; run make_effnet_golden.py");
            SequencedMap<String, Tensor> out = new LinkedHashMap<>();
            Safetensors.read(in).tensors().forEach((k, v) -> out.put(k, Tensor.fromHost(v, Device.CPU)));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The raw bytes of a golden file. */
    static byte[] bytes(String name) {
        try (InputStream in = GoldenFiles.class.getResourceAsStream("/golden/" + name)) {
            assertNotNull(in, "missing golden file " + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** max |actual − expected| / max |expected|: the error relative to the tensor's scale. */
    static double relativeError(Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape().dims(), actual.shape().dims(), "shapes differ");
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < e.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - e[i]));
            scale = Math.max(scale, Math.abs(e[i]));
        }
        assertTrue(scale > 0, "expected tensor is all zeros");
        return diff / scale;
    }

    /** NCHW (PyTorch's image layout) → NHWC, contiguous. */
    static Tensor nchwToNhwc(Tensor x) {
        return x.permute(0, 2, 3, 1).contiguous();
    }

    /** NHWC → NCHW, contiguous. */
    static Tensor nhwcToNchw(Tensor x) {
        return x.permute(0, 3, 1, 2).contiguous();
    }
}
