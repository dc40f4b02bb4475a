package dev.vertebra.core.cpu;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.attribute.CodeAttribute;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every helper of the CPU kernels that takes or returns a vector fits C2's always-inline size (MaxInlineSize, 35
 * bytes of bytecode). C2 inlines a larger method only where it finds the call hot; where it does not, each vector
 * passed is boxed, and which sites it finds hot changes with unrelated code: once, a B0 training step went from 29
 * MB to 502 MB of allocation and 2–4× the time (bench/NOTES.md). The exceptions below are called only from the hot
 * loops of their kernels, or only for rare ops.
 */
class VectorHelperSizeTest {

    private static final int MAX_INLINE_SIZE = 35;
    private static final Map<String, String> EXCEPTIONS = Map.of(
            "VectorExp.expOfNumbers", "called once per kernel method (or through exp), from its hot loop",
            "VectorExp.expOfNegatedInRange", "SiLU's exponential, called once per kernel method from its hot loop"
                    + " (or through expOfNegatedForSilu)",
            "FloatElementwise.combineOther", "the rare binary ops (ADD and MUL dispatch before it)");

    @Test
    void vectorHelpersAreSmallEnoughToInlineAnywhere() throws IOException, URISyntaxException {
        List<String> tooLarge = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        Path classes = Path.of(FloatElementwise.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (FileSystem jar = Files.isDirectory(classes) ? null : FileSystems.newFileSystem(classes)) {
            Path root = jar == null ? classes : jar.getPath("/");
            Path cpu = root.resolve("dev/vertebra/core/cpu");
            try (Stream<Path> files = Files.list(cpu)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                    ClassModel model = ClassFile.of().parse(Files.readAllBytes(file));
                    String owner = model.thisClass().asInternalName().replaceFirst(".*/", "");
                    for (MethodModel m : model.methods()) {
                        String descriptor = m.methodType().stringValue();
                        if (!descriptor.contains("Ljdk/incubator/vector/")) {
                            continue;
                        }
                        String name = owner + "." + m.methodName().stringValue();
                        int size = m.code().map(code -> ((CodeAttribute) code).codeLength()).orElse(0);
                        seen.add(name);
                        if (size > MAX_INLINE_SIZE && !EXCEPTIONS.containsKey(name)) {
                            tooLarge.add(name + descriptor + ": " + size + " bytes");
                        }
                    }
                }
            }
        }
        assertTrue(seen.contains("FloatElementwise.combine"), "the scan found the vector helpers: " + seen);
        assertEquals(List.of(), tooLarge, "vector helpers above " + MAX_INLINE_SIZE + " bytes of bytecode");
    }
}
