package dev.vertebra.examples.fmnist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One split of Fashion-MNIST, ready for a network: each 28×28 image zero-padded to 32×32 (the background
 * value), scaled to [0, 1] and normalised with the training set's mean 0.2860 and standard deviation 0.3530.
 *
 * <pre>{@code
 * FashionMnist train = FashionMnist.load(FashionMnist.DEBIAN_DIR, FashionMnist.Split.TRAIN, 20_000);
 * float[] first = train.image(0);   // [32, 32, 1], NHWC for one image
 * }</pre>
 *
 * @param pixels the images {@code [N, 32, 32, 1]}, row-major
 * @param labels the classes 0–9, {@code [N]}
 */
public record FashionMnist(float[] pixels, long[] labels) {

    /** Where Debian's {@code dataset-fashion-mnist} package puts the files. */
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /** Side of the padded images. */
    public static final int SIDE = 32;
    /** Values per padded image. */
    public static final int IMAGE_SIZE = SIDE * SIDE;
    public static final int CLASSES = 10;

    private static final int RAW_SIDE = 28;
    private static final int PAD = (SIDE - RAW_SIDE) / 2;
    private static final float MEAN = 0.2860f;
    private static final float STD = 0.3530f;

    /** The two splits and their file names. */
    public enum Split {
        TRAIN("train"), TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        Path images(Path dir) {
            return dir.resolve(prefix + "-images-idx3-ubyte.gz");
        }

        Path labels(Path dir) {
            return dir.resolve(prefix + "-labels-idx1-ubyte.gz");
        }
    }

    public FashionMnist {
        if (pixels.length != labels.length * IMAGE_SIZE) {
            throw new IllegalArgumentException(labels.length + " labels need " + (long) labels.length * IMAGE_SIZE
                    + " pixels, got " + pixels.length);
        }
    }

    /** True when {@code dir} holds the four gzipped IDX files. */
    public static boolean present(Path dir) {
        for (Split s : Split.values()) {
            if (!Files.isRegularFile(s.images(dir)) || !Files.isRegularFile(s.labels(dir))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The first {@code limit} images of a split (all of them when {@code limit} is at least the split's size).
     *
     * @throws IdxFormatException when a file is not the IDX the split needs, or images and labels disagree
     */
    public static FashionMnist load(Path dir, Split split, int limit) throws IOException {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be ≥ 1, got " + limit);
        }
        Path imageFile = split.images(dir);
        Path labelFile = split.labels(dir);
        Idx images = Idx.read(imageFile);
        Idx labels = Idx.read(labelFile);
        int[] imageDims = images.dims();
        int[] labelDims = labels.dims();
        if (imageDims.length != 3 || imageDims[1] != RAW_SIDE || imageDims[2] != RAW_SIDE) {
            throw new IdxFormatException(imageFile + ": expected images [N, 28, 28], got " + Arrays.toString(imageDims));
        }
        if (labelDims.length != 1 || labelDims[0] != imageDims[0]) {
            throw new IdxFormatException(labelFile + ": expected " + imageDims[0] + " labels [N], got "
                    + Arrays.toString(labelDims));
        }
        int n = Math.min(limit, imageDims[0]);
        long[] y = new long[n];
        float[] x = new float[n * IMAGE_SIZE];
        float background = -MEAN / STD;
        Arrays.fill(x, background);
        for (int i = 0; i < n; i++) {
            y[i] = labels.unsigned(i);
            if (y[i] >= CLASSES) {
                throw new IdxFormatException(labelFile + ": label " + i + " is " + y[i] + ", must be 0–9");
            }
            for (int r = 0; r < RAW_SIDE; r++) {
                int src = (i * RAW_SIDE + r) * RAW_SIDE;
                int dst = i * IMAGE_SIZE + (r + PAD) * SIDE + PAD;
                for (int c = 0; c < RAW_SIDE; c++) {
                    x[dst + c] = (images.unsigned(src + c) / 255f - MEAN) / STD;
                }
            }
        }
        return new FashionMnist(x, y);
    }

    public int size() {
        return labels.length;
    }

    /** Copies the images at {@code indices} into a batch {@code [indices.length, 32, 32, 1]}. */
    public float[] gather(int[] indices) {
        float[] out = new float[indices.length * IMAGE_SIZE];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(pixels, indices[i] * IMAGE_SIZE, out, i * IMAGE_SIZE, IMAGE_SIZE);
        }
        return out;
    }

    /** The labels at {@code indices}. */
    public long[] gatherLabels(int[] indices) {
        long[] out = new long[indices.length];
        for (int i = 0; i < indices.length; i++) {
            out[i] = labels[indices[i]];
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FashionMnist(float[] p, long[] l) && Arrays.equals(pixels, p) && Arrays.equals(labels, l);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(pixels) + Arrays.hashCode(labels);
    }

    @Override
    public String toString() {
        return "FashionMnist[" + size() + " images]";
    }
}
