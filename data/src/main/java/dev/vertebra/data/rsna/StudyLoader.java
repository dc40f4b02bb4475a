package dev.vertebra.data.rsna;

import dev.vertebra.core.Generator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BiConsumer;

/**
 * Streams studies: a pool of decode threads loads them ahead of the consumer into a bounded queue, and hands
 * them out in a fixed order (a seeded shuffle of the list, or the list's order). At most {@code prefetch}
 * studies are loaded or loading at any time, counting the one just handed out, plus the previous one while the
 * consumer still holds it — whatever the dataset's size.
 *
 * <pre>{@code
 * try (var loader = new StudyLoader<>(train.studies(), RsnaDataset::load, 2, 4, new Generator(1),
 *                                     (done, total) -> {})) {
 *     for (PreparedStudy p : loader) { ... }
 * }
 * }</pre>
 *
 * @param <T> what a study becomes
 */
public final class StudyLoader<T> implements Iterable<T>, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StudyLoader.class);

    /** Loads one study. */
    @FunctionalInterface
    public interface Load<T> {
        T load(RsnaDataset.Study study) throws IOException;
    }

    private final List<RsnaDataset.Study> order;
    private final Load<T> load;
    private final int prefetch;
    private final ExecutorService pool;
    private final BiConsumer<Integer, Integer> progress;
    private boolean iterated;

    /**
     * @param studies  what to load
     * @param load     how to load one (runs on the decode threads)
     * @param threads  decode threads
     * @param prefetch studies loaded ahead (≥ 1): the memory bound
     * @param shuffle  order of the epoch; null keeps the list's order
     * @param progress called with (studies handed out, total) after each one
     */
    public StudyLoader(List<RsnaDataset.Study> studies, Load<T> load, int threads, int prefetch, Generator shuffle,
                       BiConsumer<Integer, Integer> progress) {
        if (threads < 1 || prefetch < 1) {
            throw new IllegalArgumentException("threads " + threads + ", prefetch " + prefetch);
        }
        List<RsnaDataset.Study> copy = new ArrayList<>(studies);
        if (shuffle != null) {
            for (int i = copy.size() - 1; i > 0; i--) {
                int j = shuffle.nextInt(i + 1);
                copy.set(j, copy.set(i, copy.get(j)));
            }
        }
        this.order = List.copyOf(copy);
        this.load = load;
        this.prefetch = prefetch;
        this.progress = progress;
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "study-loader");
            t.setDaemon(true);
            return t;
        });
    }

    /** The order studies come out in. */
    public List<RsnaDataset.Study> order() {
        return order;
    }

    /**
     * The studies, loaded. Only one pass: a new epoch is a new loader. Load failures surface as
     * {@link UncheckedIOException} from {@code next()}.
     */
    @Override
    public Iterator<T> iterator() {
        if (iterated) {
            throw new IllegalStateException("a StudyLoader is iterated once; make a new one per epoch");
        }
        iterated = true;
        BlockingQueue<Future<T>> queue = new ArrayBlockingQueue<>(prefetch);
        return new Iterator<>() {
            private int submitted;
            private int handed;

            private void fill() {
                // Submitting only while the queue has room keeps loaded-but-unconsumed studies ≤ prefetch.
                while (submitted < order.size() && queue.remainingCapacity() > 0) {
                    RsnaDataset.Study study = order.get(submitted++);
                    queue.add(pool.submit(() -> load.load(study)));
                }
            }

            @Override
            public boolean hasNext() {
                return handed < order.size();
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                fill();
                Future<T> next = queue.remove();
                T value;
                try {
                    value = next.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while loading", e);
                } catch (ExecutionException e) {
                    String uid = order.get(handed).uid();
                    if (e.getCause() instanceof IOException io) {
                        throw new UncheckedIOException("study " + uid + ": " + io.getMessage(), io);
                    }
                    throw new IllegalStateException("study " + uid + " failed to load", e.getCause());
                }
                handed++;
                progress.accept(handed, order.size());
                LOG.debug("loaded study {}/{}", handed, order.size());
                return value;
            }
        };
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
