package dev.vertebra.efficientnet;

/**
 * One MBConv block: 1×1 expansion to {@code expandedChannels} (absent when equal to {@code inChannels}),
 * depthwise {@code kernel}×{@code kernel} with {@code stride}, squeeze-and-excitation through
 * {@code squeezeChannels}, 1×1 projection to {@code outChannels}; a residual connection, dropped per sample with
 * probability {@code dropPath} in training, when the stride is 1 and the channels match.
 *
 * <pre>{@code
 * BlockSpec first = EfficientNetConfig.b0().blocks().get(1).getFirst();   // 16 → 96 → 24, stride 2
 * }</pre>
 */
public record BlockSpec(int inChannels, int outChannels, int expandedChannels, int squeezeChannels, int kernel,
                        int stride, double dropPath) {

    /** True when the block starts with a 1×1 expansion convolution. */
    public boolean hasExpansion() {
        return expandedChannels != inChannels;
    }

    /** True when the block adds its input to its output. */
    public boolean hasResidual() {
        return stride == 1 && inChannels == outChannels;
    }
}
