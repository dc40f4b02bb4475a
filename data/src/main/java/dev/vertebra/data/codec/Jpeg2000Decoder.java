package dev.vertebra.data.codec;

import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decoder for JPEG 2000 (DICOM transfer syntaxes 1.2.840.10008.1.2.4.90 lossless-only and .91), delegating the
 * wavelet decoding to a javax.imageio JPEG 2000 reader (jai-imageio-jpeg2000 at run time).
 *
 * <p>That library trusts its input: corrupt packet headers can send it into an endless loop, and it sizes work
 * and memory by counts read from the stream. Two defences stand in front of it:
 * <ol>
 *   <li>The codestream is checked first ({@link Jpeg2000Codestream}): markers, tile-part lengths, geometry,
 *       components and precision against the DICOM header, coding parameters within the standard's limits, and
 *       no marker codes inside tile-part data — the corruption that made the library loop. Only the bare
 *       codestream, from SOC to EOC, is handed over (a JP2 wrapper's boxes never reach the library).</li>
 *   <li>The library runs on a daemon worker thread under a time budget of {@code base + perSample × samples}
 *       (2 s + 10 µs per sample by default, many times what a well-formed frame needs). When the budget runs
 *       out the decode fails with a {@link CodecException}. Java cannot stop a thread that does not cooperate,
 *       so the worker is abandoned: it keeps its CPU until the library gives up on its own, which for an
 *       endless loop is never. To keep a hostile corpus from piling up such threads, after
 *       {@value #MAX_ABANDONED} abandoned decodes that are still running every further JPEG 2000 decode in
 *       the process is refused with a clear error.</li>
 * </ol>
 */
public final class Jpeg2000Decoder implements FrameDecoder {

    private static final String CODEC = "JPEG 2000";

    /** Abandoned decodes still running beyond which JPEG 2000 decoding is refused for the process. */
    public static final int MAX_ABANDONED = 4;

    private static final AtomicInteger ABANDONED = new AtomicInteger();

    private final Duration base;
    private final long nanosPerSample;

    /** A decoder with the default time budget: 2 s plus 10 µs per sample. */
    public Jpeg2000Decoder() {
        this(Duration.ofSeconds(2), 10_000);
    }

    /**
     * A decoder whose library call may take {@code base + nanosPerSample × samples} before it is abandoned.
     *
     * @param base           fixed part of the budget
     * @param nanosPerSample part of the budget per sample of the frame (rows × columns × samples per pixel)
     */
    public Jpeg2000Decoder(Duration base, long nanosPerSample) {
        if (base.isNegative() || nanosPerSample < 0) {
            throw new IllegalArgumentException("negative time budget");
        }
        this.base = base;
        this.nanosPerSample = nanosPerSample;
    }

    /** Whether a javax.imageio JPEG 2000 reader is present at run time. */
    public static boolean available() {
        return ImageIO.getImageReadersByFormatName("jpeg2000").hasNext();
    }

    /** Decodes abandoned after running out of time whose library threads have not finished yet. */
    public static int abandonedDecodes() {
        return ABANDONED.get();
    }

    @Override
    public void decode(byte[] frame, FrameFormat format, int[] out, int outOffset) throws CodecException {
        if (outOffset < 0 || out.length - (long) outOffset < format.samples()) {
            throw new IllegalArgumentException("output has no room for " + format.samples() + " samples at " + outOffset);
        }
        int soc = codestreamStart(frame);
        int end = Jpeg2000Codestream.check(frame, soc, format);
        byte[] codestream = soc == 0 && end == frame.length ? frame : Arrays.copyOfRange(frame, soc, end);
        Raster raster = readWithin(codestream, budgetNanos(format));
        if (raster.getWidth() != format.columns() || raster.getHeight() != format.rows()
                || raster.getNumBands() != format.samplesPerPixel()) {
            throw new CodecException(CODEC, 0, "decoded image is " + raster.getHeight() + "x" + raster.getWidth()
                    + "x" + raster.getNumBands() + ", not what the header says");
        }
        int[] pixels = raster.getPixels(0, 0, format.columns(), format.rows(), (int[]) null);
        // Signed components come back sign-extended; the contract is the stored bit pattern.
        int mask = format.bitsAllocated() >= 32 ? -1 : (1 << format.bitsAllocated()) - 1;
        for (int i = 0; i < pixels.length; i++) {
            out[outOffset + i] = pixels[i] & mask;
        }
    }

    private long budgetNanos(FrameFormat format) {
        long perSample = Math.multiplyHigh(nanosPerSample, format.samples()) != 0
                ? Long.MAX_VALUE : nanosPerSample * format.samples();
        long total = base.toNanos() + perSample;
        return total < 0 ? Long.MAX_VALUE : total;
    }

    /** Runs the library on a daemon worker thread and waits at most {@code budget} nanoseconds for it. */
    private static Raster readWithin(byte[] codestream, long budget) throws CodecException {
        int stuck = ABANDONED.get();
        if (stuck >= MAX_ABANDONED) {
            throw new CodecException(CODEC, 0, "refusing to decode: " + stuck + " earlier JPEG 2000 decodes ran out "
                    + "of time and their library threads are still running (they cannot be stopped); restart the "
                    + "process to decode JPEG 2000 again");
        }
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("jpeg2000");
        if (!readers.hasNext()) {
            throw new CodecException(CODEC, 0, "no javax.imageio JPEG 2000 reader on the class or module path");
        }
        ImageReader reader = readers.next();
        FutureTask<Raster> task = new FutureTask<>(() -> read(reader, codestream));
        // Set by whichever comes first: the worker finishing, or the caller giving up on it.
        AtomicBoolean settled = new AtomicBoolean();
        Thread worker = Thread.ofPlatform().daemon().name("vertebra-jpeg2000-decode").unstarted(() -> {
            task.run();
            if (!settled.compareAndSet(false, true)) {
                ABANDONED.decrementAndGet(); // an abandoned decode finished after all
            }
        });
        worker.start();
        try {
            return task.get(budget, TimeUnit.NANOSECONDS);
        } catch (TimeoutException | InterruptedException e) {
            if (!settled.compareAndSet(false, true)) {
                return finished(task); // it finished in the meantime
            }
            ABANDONED.incrementAndGet();
            worker.setPriority(Thread.MIN_PRIORITY);
            worker.interrupt(); // the library does not look, but nothing is lost by asking
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                throw new CodecException(CODEC, 0, "interrupted while the JPEG 2000 decoder ran", e);
            }
            throw new CodecException(CODEC, 0, "JPEG 2000 decoder did not finish within "
                    + TimeUnit.NANOSECONDS.toMillis(budget) + " ms (malformed stream?)");
        } catch (ExecutionException e) {
            throw rejected(e.getCause());
        }
    }

    private static Raster finished(FutureTask<Raster> task) throws CodecException {
        try {
            return task.get();
        } catch (ExecutionException e) {
            throw rejected(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CodecException(CODEC, 0, "interrupted while the JPEG 2000 decoder ran", e);
        }
    }

    private static Raster read(ImageReader reader, byte[] codestream) throws IOException {
        // A memory-cached stream: ImageIO.createImageInputStream may cache through a temporary file.
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(codestream))) {
            reader.setInput(in);
            return reader.readRaster(0, null);
        } finally {
            reader.dispose();
        }
    }

    /** Whatever the library threw (it throws Error on some corrupt streams) as the codec's exception. */
    private static CodecException rejected(Throwable cause) {
        return new CodecException(CODEC, 0, "the JPEG 2000 reader rejected the stream: " + cause, cause);
    }

    /** Offset of the SOC marker: 0 for a bare codestream, or inside the 'jp2c' box of a JP2 file. */
    private static int codestreamStart(byte[] b) throws CodecException {
        if (b.length >= 2 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0x4F) {
            return 0;
        }
        int at = 0;
        while (at + 8 <= b.length) {
            long length = readInt(b, at) & 0xFFFFFFFFL;
            int type = readInt(b, at + 4);
            int header = 8;
            if (length == 1 && at + 16 <= b.length) {
                length = ((long) readInt(b, at + 8) << 32) | (readInt(b, at + 12) & 0xFFFFFFFFL);
                header = 16;
            } else if (length == 0) {
                length = b.length - at;
            }
            if (type == 0x6A703263) { // 'jp2c'
                return at + header;
            }
            if (length < header || at + length > b.length) {
                break;
            }
            at += (int) length;
        }
        throw new CodecException(CODEC, at, "neither a JPEG 2000 codestream nor a JP2 file with one");
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }
}
