package dev.vertebra.efficientnet;

/**
 * One stage of an EfficientNet after width/depth scaling: {@code repeats} MBConv blocks, the first with
 * {@code stride} and {@code inChannels}, the others stride 1 from {@code outChannels} to {@code outChannels}.
 *
 * <pre>{@code
 * for (StageSpec s : EfficientNetConfig.b0().stages()) System.out.println(s.blockType() + " ×" + s.repeats());
 * }</pre>
 */
public record StageSpec(int expandRatio, int kernel, int stride, int inChannels, int outChannels, int repeats) {

    /** The paper's name for the block: "MBConv1" (no expansion) or "MBConv6". */
    public String blockType() {
        return "MBConv" + expandRatio;
    }
}
