package dev.vertebra.efficientnet;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A table of an EfficientNet's stages with output resolutions and the cost of one forward pass at the
 * configuration's resolution, computed from the configuration alone (nothing is allocated, so B7 is instant).
 *
 * <p>Multiply-adds count convolutions (including the squeeze-and-excitation 1×1 convolutions) and the classifier;
 * batch norm, activations, pooling, the SE gate product and residual additions are left out, as in the figures
 * torchvision publishes (B0: 0.39 G). FLOPs are reported as 2 × multiply-adds.
 *
 * <pre>{@code
 * ModelSummary s = ModelSummary.of(EfficientNetConfig.b3());
 * System.out.println(s.render());          // the last line is "parameters: 12233232"
 * }</pre>
 *
 * @param config       the configuration summarised
 * @param rows         stem, the seven stages and the head
 * @param multiplyAdds multiply-adds of one image at {@code config.resolution()}
 * @param parameters   learnable parameters
 */
public record ModelSummary(EfficientNetConfig config, List<Row> rows, long multiplyAdds, long parameters) {

    /**
     * One line of the table.
     *
     * @param stage      "stem", "1" … "7", "head"
     * @param block      layer or block type
     * @param kernel     kernel size
     * @param stride     stride of the first layer or block
     * @param channels   output channels
     * @param repeats    number of blocks
     * @param resolution output side (square input)
     */
    public record Row(String stage, String block, int kernel, int stride, int channels, int repeats, int resolution) {
    }

    public ModelSummary {
        rows = List.copyOf(rows);
    }

    /** Summarises {@code config} at its resolution. */
    public static ModelSummary of(EfficientNetConfig config) {
        List<Row> rows = new ArrayList<>();
        int side = half(config.resolution());
        long macs = conv(side, config.inChannels(), config.stemChannels(), 3, 1);
        rows.add(new Row("stem", "Conv3x3-BN-SiLU", 3, 2, config.stemChannels(), 1, side));
        List<StageSpec> stages = config.stages();
        List<List<BlockSpec>> blocks = config.blocks();
        for (int s = 0; s < stages.size(); s++) {
            for (BlockSpec b : blocks.get(s)) {
                if (b.hasExpansion()) {
                    macs += conv(side, b.inChannels(), b.expandedChannels(), 1, 1);
                }
                side = b.stride() == 2 ? half(side) : side;
                macs += conv(side, b.expandedChannels(), b.expandedChannels(), b.kernel(), b.expandedChannels());
                macs += 2L * b.expandedChannels() * b.squeezeChannels();
                macs += conv(side, b.expandedChannels(), b.outChannels(), 1, 1);
            }
            StageSpec st = stages.get(s);
            rows.add(new Row(Integer.toString(s + 1), st.blockType(), st.kernel(), st.stride(), st.outChannels(),
                    st.repeats(), side));
        }
        macs += conv(side, stages.getLast().outChannels(), config.headChannels(), 1, 1);
        rows.add(new Row("head", "Conv1x1-BN-SiLU", 1, 1, config.headChannels(), 1, side));
        macs += (long) config.headChannels() * config.numClasses();
        return new ModelSummary(config, rows, macs, config.parameterCount());
    }

    /** Output side of a stride-2 layer with (k−1)/2 or TF-SAME padding: both give ⌈side/2⌉. */
    private static int half(int side) {
        return (side + 1) / 2;
    }

    private static long conv(int side, int in, int out, int kernel, int groups) {
        return (long) side * side * out * (in / groups) * kernel * kernel;
    }

    /** FLOPs, counted as 2 × multiply-adds. */
    public long flops() {
        return 2 * multiplyAdds;
    }

    /** The table, the cost and, as the last line, {@code parameters: N}. */
    public String render() {
        StringBuilder s = new StringBuilder();
        EfficientNetConfig c = config;
        s.append(String.format(Locale.ROOT, "EfficientNet-%s: width %.3f, depth %.3f, input %d×%d×%d, %d classes%n",
                c.name(), c.widthMult(), c.depthMult(), c.resolution(), c.resolution(), c.inChannels(),
                c.numClasses()));
        s.append(String.format(Locale.ROOT, "%-6s %-16s %6s %6s %8s %7s %10s%n", "stage", "block", "kernel", "stride",
                "channels", "repeats", "output"));
        for (Row r : rows) {
            s.append(String.format(Locale.ROOT, "%-6s %-16s %6d %6d %8d %7d %10s%n", r.stage(), r.block(), r.kernel(),
                    r.stride(), r.channels(), r.repeats(), r.resolution() + "×" + r.resolution()));
        }
        s.append(String.format(Locale.ROOT, "multiply-adds: %.3f G (convolutions and classifier)%n",
                multiplyAdds / 1e9));
        s.append(String.format(Locale.ROOT, "FLOPs: %.3f G (2 × multiply-adds) at %d×%d%n", flops() / 1e9,
                c.resolution(), c.resolution()));
        s.append("parameters: ").append(parameters);
        return s.toString();
    }
}
