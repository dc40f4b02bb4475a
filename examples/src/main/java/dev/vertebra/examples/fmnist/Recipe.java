package dev.vertebra.examples.fmnist;

/**
 * The fixed Fashion-MNIST training recipe, shared with the PyTorch script
 * ({@code examples/src/test/python/fashion_mnist_torch.py}): EfficientNet-B0 stages scaled by {@code width} and
 * {@code depth}, one input channel, 10 classes, no dropout and no stochastic depth; AdamW (betas 0.9/0.999, eps
 * 1e-8, {@code weightDecay} on every parameter) with a per-step cosine decay of {@code lr} to 0 and no warmup;
 * cross-entropy; the first {@code trainLimit} training images, reshuffled each epoch by {@link #permutation}.
 *
 * @param epochs      passes over the training subset
 * @param trainLimit  training images used (the first ones of the file)
 * @param batch       images per step (the last step of an epoch takes what is left)
 * @param lr          peak learning rate
 * @param weightDecay AdamW's decoupled weight decay
 * @param seed        seeds weight initialisation and the data order
 * @param width       width multiplier over B0
 * @param depth       depth multiplier over B0
 */
public record Recipe(int epochs, int trainLimit, int batch, double lr, double weightDecay, long seed, double width,
                     double depth) {

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    public Recipe {
        if (epochs < 1 || trainLimit < 1 || batch < 1) {
            throw new IllegalArgumentException("epochs, training images and batch must be ≥ 1, got " + epochs + ", "
                    + trainLimit + ", " + batch);
        }
        if (!(lr > 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("lr must be > 0 and weight decay ≥ 0, got " + lr + ", " + weightDecay);
        }
    }

    /**
     * The order of the {@code n} training images in {@code epoch}: Fisher–Yates driven by SplitMix64 seeded with
     * {@code seed·1000003 + epoch}. Written out rather than taken from a library so that the PyTorch script can
     * produce the very same order.
     */
    public int[] permutation(int n, int epoch) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        long state = seed * 1000003 + epoch;
        for (int i = n - 1; i > 0; i--) {
            state += GOLDEN_GAMMA;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            int j = (int) Long.remainderUnsigned(z, i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
