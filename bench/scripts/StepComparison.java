import java.lang.reflect.Constructor;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleSupplier;
import java.util.stream.Stream;

/**
 * Two builds of Vertebra, the same EfficientNet step, in one JVM: each build's jars in a class loader of their own,
 * each with its model, optimiser and batch ({@code ModelBenchmark.prepare}), their steps alternating (the order
 * flipped every pair). On a shared machine whose speed drifts by ±15 % from minute to minute, separate runs cannot
 * resolve a change of a few per cent; pairs of steps taken a few hundred milliseconds apart share the drift, so the
 * ratio within each pair is what to read.
 *
 * <pre>
 * ./vertebra dist /tmp/before            (at the baseline commit)
 * ./vertebra dist /tmp/after             (at the candidate)
 * java --add-modules jdk.incubator.vector -XX:+UseG1GC -Xms3g -Xmx3g -XX:+AlwaysPreTouch \
 *     bench/scripts/StepComparison.java /tmp/before /tmp/after train 8 224 15 50
 * </pre>
 *
 * Arguments: baseline dist, candidate dist, {@code train|infer}, batch, image side, warm-up pairs, measured pairs.
 * Prints both builds' median step and quartiles, the median of the per-pair ratios (baseline / candidate: above 1
 * when the candidate is faster) with its quartiles, and in how many pairs the candidate was faster; then whether
 * the two builds, having run the same steps from the same weights and batch, hold the same bits (a change meant to
 * be bit-identical must print "bits: the same"). Both models live in one heap: give it room for two (3 GB for B0
 * training at b=8 224², 3.5 GB at b=32 128²).
 */
public class StepComparison {

    public static void main(String[] args) throws Exception {
        if (args.length != 7) {
            System.err.println("usage: StepComparison <baseline dist> <candidate dist> train|infer <batch> <side> "
                    + "<warm-up pairs> <measured pairs>");
            System.exit(2);
        }
        String mode = args[2].toUpperCase(Locale.ROOT);
        int batch = Integer.parseInt(args[3]);
        int side = Integer.parseInt(args[4]);
        int warmup = Integer.parseInt(args[5]);
        int pairs = Integer.parseInt(args[6]);
        DoubleSupplier[] builds = {step(Path.of(args[0]), mode, batch, side),
                step(Path.of(args[1]), mode, batch, side)};
        for (int i = 0; i < warmup; i++) {
            builds[0].getAsDouble();
            builds[1].getAsDouble();
        }
        double[][] seconds = new double[2][pairs];
        double[] ratios = new double[pairs];
        int candidateFaster = 0;
        for (int i = 0; i < pairs; i++) {
            int first = i % 2; // who goes first alternates, so neither always follows the other's garbage
            seconds[first][i] = builds[first].getAsDouble();
            seconds[1 - first][i] = builds[1 - first].getAsDouble();
            ratios[i] = seconds[0][i] / seconds[1][i];
            candidateFaster += seconds[1][i] < seconds[0][i] ? 1 : 0;
        }
        System.out.printf(Locale.ROOT, "%s b=%d %d²: baseline %s, candidate %s (ms, median [quartiles])%n",
                mode.toLowerCase(Locale.ROOT), batch, side, quartiles(seconds[0], 1e3, "%.1f"),
                quartiles(seconds[1], 1e3, "%.1f"));
        System.out.printf(Locale.ROOT, "baseline / candidate per pair: %s; candidate faster in %d of %d pairs%n",
                quartiles(ratios, 1, "%.3f"), candidateFaster, pairs);
        System.out.println(bits(builds[0], builds[1]));
    }

    /**
     * Whether the two builds computed the same bits over the same steps: their {@code fingerprint()}s (every
     * parameter, gradient and buffer; for inference also the logits), where both builds have one.
     */
    private static String bits(DoubleSupplier baseline, DoubleSupplier candidate) throws Exception {
        long[] prints = new long[2];
        DoubleSupplier[] builds = {baseline, candidate};
        for (int i = 0; i < 2; i++) {
            try {
                prints[i] = (long) builds[i].getClass().getMethod("fingerprint").invoke(builds[i]);
            } catch (NoSuchMethodException e) {
                return "bits: not compared (the " + (i == 0 ? "baseline" : "candidate") + " build has no fingerprint)";
            }
        }
        return prints[0] == prints[1] ? String.format(Locale.ROOT, "bits: the same (fingerprint %016x)", prints[0])
                : String.format(Locale.ROOT, "bits: differ (fingerprints %016x and %016x)", prints[0], prints[1]);
    }

    /** A timed step of the build in {@code dist} (every jar there but the test launcher), in its own class loader. */
    private static DoubleSupplier step(Path dist, String mode, int batch, int side) throws Exception {
        List<URL> jars = new ArrayList<>();
        try (Stream<Path> files = Files.list(dist)) {
            for (Path jar : files.filter(f -> f.toString().endsWith(".jar"))
                    .filter(f -> !f.getFileName().toString().startsWith("junit")).sorted().toList()) {
                jars.add(jar.toUri().toURL());
            }
        }
        if (jars.isEmpty()) {
            throw new IllegalArgumentException("no jars in " + dist + " (make one with ./vertebra dist " + dist + ")");
        }
        ClassLoader loader = new URLClassLoader(jars.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
        Class<?> benchmark = loader.loadClass("dev.vertebra.bench.model.ModelBenchmark");
        Class<?> options = loader.loadClass("dev.vertebra.bench.model.ModelBenchmark$Options");
        Class<?> modes = loader.loadClass("dev.vertebra.bench.model.ModelBenchmark$Mode");
        Class<?> devices = loader.loadClass("dev.vertebra.core.Device");
        Constructor<?> make = options.getConstructor(String.class, int.class, int.class, modes, int.class, int.class,
                devices, int.class, boolean.class);
        Object o = make.newInstance("b0", batch, side, modes.getMethod("valueOf", String.class).invoke(null, mode), 1,
                0, devices.getField("CPU").get(null), 8, false);
        return (DoubleSupplier) benchmark.getMethod("prepare", options).invoke(null, o);
    }

    /** "median [first quartile, third quartile]" of {@code values} times {@code scale}. */
    private static String quartiles(double[] values, double scale, String format) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return String.format(Locale.ROOT, format + " [" + format + ", " + format + "]", scale * sorted[n / 2],
                scale * sorted[n / 4], scale * sorted[(3 * n) / 4]);
    }
}
