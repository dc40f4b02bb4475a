package dev.vertebra.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds and opens the CUDA libraries by their versioned file names, so CUDA 12 and 13 installs both work and
 * nothing links against an unversioned development symlink.
 *
 * <p>Search order for each name: the directories in {@value #PATH_VARIABLE} (colon-separated), the system
 * loader (dlopen's own search: {@code LD_LIBRARY_PATH}, the ld.so cache, RUNPATHs), then the usual install
 * places: {@code /usr/local/cuda*}/lib64 and targets/x86_64-linux/lib, {@code /usr/lib/x86_64-linux-gnu}, and
 * the {@code nvidia/…/lib} folders of Python wheels (PyTorch's CUDA runtime) under the system and local Python
 * trees. Libraries stay loaded for the life of the JVM (the global arena).
 */
// Binding native code is what this class is for: the restricted FFM methods are its job.
@SuppressWarnings("restricted")
public final class NativeLibraries {
    /** Environment variable naming extra directories to search first. */
    public static final String PATH_VARIABLE = "VERTEBRA_CUDA_LIB_PATH";

    private NativeLibraries() {
    }

    /** An opened library and the file or name it was opened by. */
    public record Loaded(SymbolLookup lookup, String location) {
    }

    /**
     * Opens the first of {@code names} (most preferred first, e.g. {@code libnvrtc.so.13, libnvrtc.so.12}) found.
     * {@code companions} are opened first from the same directory when present there, so a library whose
     * dependencies sit next to it (cuBLAS needs cuBLASLt) resolves them without {@code LD_LIBRARY_PATH}.
     */
    public static Loaded open(List<String> names, List<String> companions) {
        List<Path> dirs = searchDirectories();
        String lastError = null;
        for (String name : names) {
            for (Path dir : dirs.subList(0, overrideCount())) {
                Loaded l = tryOpen(dir, name, companions);
                if (l != null) {
                    return l;
                }
            }
            try {
                return new Loaded(SymbolLookup.libraryLookup(name, Arena.global()), name + " (system loader)");
            } catch (IllegalArgumentException e) {
                lastError = e.getMessage();
            }
            for (Path dir : dirs.subList(overrideCount(), dirs.size())) {
                Loaded l = tryOpen(dir, name, companions);
                if (l != null) {
                    return l;
                }
            }
        }
        throw new CudaLibraryNotFoundException(names, dirs.stream().map(Path::toString).toList(), lastError);
    }

    private static Loaded tryOpen(Path dir, String name, List<String> companions) {
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        // A companion that fails to open (a dependency of its own missing) is tried once more after the others,
        // then left to the library's own lookup: it may not need it, and if it does its error names the file.
        List<Path> pending = new ArrayList<>();
        for (String companion : companions) {
            Path c = dir.resolve(companion);
            if (Files.isRegularFile(c) && !openQuietly(c)) {
                pending.add(c);
            }
        }
        pending.forEach(NativeLibraries::openQuietly);
        return new Loaded(SymbolLookup.libraryLookup(file, Arena.global()), file.toString());
    }

    private static boolean openQuietly(Path file) {
        try {
            SymbolLookup.libraryLookup(file, Arena.global());
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static int overrideCount() {
        return overrideDirectories().size();
    }

    private static List<Path> overrideDirectories() {
        String env = System.getenv(PATH_VARIABLE);
        List<Path> out = new ArrayList<>();
        if (env != null) {
            for (String part : env.split(":")) {
                if (!part.isBlank()) {
                    out.add(Path.of(part.trim()));
                }
            }
        }
        return out;
    }

    /** Every directory searched, override first (the system loader is tried between the two groups). */
    public static List<Path> searchDirectories() {
        Set<Path> dirs = new LinkedHashSet<>(overrideDirectories());
        List<Path> usual = new ArrayList<>();
        usual.add(Path.of("/usr/local/cuda/lib64"));
        usual.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
        for (Path versioned : children(Path.of("/usr/local"), "cuda-")) {
            usual.add(versioned.resolve("lib64"));
            usual.add(versioned.resolve("targets/x86_64-linux/lib"));
        }
        usual.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        List<Path> pythonRoots = new ArrayList<>();
        for (Path base : List.of(Path.of("/usr/lib"), Path.of("/usr/local/lib"),
                Path.of(System.getProperty("user.home"), ".local/lib"))) {
            pythonRoots.addAll(children(base, "python3"));
        }
        for (Path python : pythonRoots) {
            for (String packages : List.of("dist-packages", "site-packages")) {
                usual.addAll(wheelLibDirectories(python.resolve(packages).resolve("nvidia")));
            }
        }
        for (Path p : usual) {
            if (Files.isDirectory(p)) {
                dirs.add(p);
            }
        }
        return List.copyOf(dirs);
    }

    /** The {@code lib} folders of NVIDIA's wheels: nvidia/cublas/lib (CUDA 12) or nvidia/cu13/lib (CUDA 13). */
    private static List<Path> wheelLibDirectories(Path nvidia) {
        if (!Files.isDirectory(nvidia)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(nvidia, 3)) {
            return walk.filter(p -> p.getFileName().toString().equals("lib") && Files.isDirectory(p)).sorted().toList();
        } catch (IOException | RuntimeException e) {
            // An unreadable wheel folder only narrows the search; the not-found message lists what was searched.
            return List.of();
        }
    }

    private static List<Path> children(Path dir, String prefix) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> p.getFileName().toString().startsWith(prefix) && Files.isDirectory(p))
                    .sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
