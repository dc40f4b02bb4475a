package dev.vertebra.examples.trainer;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on a terminal stream (stderr): done/total, loss, images per second and the time left.
 * Redraws in place with a carriage return; {@link #close()} ends the line.
 */
public final class ProgressBar implements AutoCloseable {
    private static final int WIDTH = 24;
    private final PrintStream out;
    private final String label;
    private final long total;
    private final long start = System.nanoTime();
    private long lastDraw;

    public ProgressBar(PrintStream out, String label, long total) {
        this.out = out;
        this.label = label;
        this.total = Math.max(1, total);
    }

    /** Shows {@code done} of total with the running loss (left out when NaN) and the images processed so far. */
    public void update(long done, double loss, long images) {
        long now = System.nanoTime();
        if (done < total && now - lastDraw < 200_000_000L) {
            return;
        }
        lastDraw = now;
        double seconds = (now - start) / 1e9;
        double rate = images / Math.max(seconds, 1e-9);
        double eta = done == 0 ? 0 : seconds * (total - done) / done;
        int filled = (int) (WIDTH * done / total);
        String lossText = Double.isNaN(loss) ? "" : String.format(Locale.ROOT, " loss %.4f", loss);
        out.printf(Locale.ROOT, "\r%s [%s%s] %d/%d%s  %.1f img/s  ETA %s ", label, "=".repeat(filled),
                " ".repeat(WIDTH - filled), done, total, lossText, rate, clock(done >= total ? seconds : eta));
        out.flush();
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    @Override
    public void close() {
        out.println();
        out.flush();
    }
}
