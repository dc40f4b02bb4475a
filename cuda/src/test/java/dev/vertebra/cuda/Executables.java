package dev.vertebra.cuda;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the tools the compile and emulation tests run (nvcc, g++), as a shell would. */
final class Executables {

    private Executables() {
    }

    /** The first executable {@code name} on {@code PATH}, or null. */
    static Path onPath(String name) {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }
}
