package dev.vertebra.efficientnet;

import dev.vertebra.core.Activation;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.Functional;
import dev.vertebra.core.Generator;
import dev.vertebra.core.Tensor;
import dev.vertebra.nn.BatchNorm2d;
import dev.vertebra.nn.Conv2d;
import dev.vertebra.nn.DropPath;
import dev.vertebra.nn.Module;
import dev.vertebra.nn.Padding;
import dev.vertebra.nn.Sequential;
import dev.vertebra.nn.SiLU;

/**
 * The mobile inverted bottleneck of EfficientNet. Its children carry torchvision's names: {@code block} is a
 * Sequential of [expansion conv-BN-SiLU (only when expanding)], depthwise conv-BN-SiLU, {@link SqueezeExcitation},
 * projection conv-BN; so a B0 block's keys read {@code block.0.0.weight}, {@code block.1.1.running_mean},
 * {@code block.2.fc1.bias}, {@code block.3.1.weight}.
 *
 * <pre>{@code
 * BlockSpec spec = config.blocks().get(1).getFirst();
 * MBConv block = new MBConv(spec, config, gen);
 * Tensor y = block.forward(x);         // [N, H, W, in] → [N, H/stride, W/stride, out]
 * }</pre>
 */
public final class MBConv extends Module {
    private final BlockSpec spec;
    private final Sequential block;
    private final DropPath dropPath;

    public MBConv(BlockSpec spec, EfficientNetConfig config, Generator gen) {
        this.spec = spec;
        int expanded = spec.expandedChannels();
        Sequential layers = new Sequential();
        if (spec.hasExpansion()) {
            layers.add(convBn(spec.inChannels(), expanded, 1, 1, 1, true, config, gen));
        }
        layers.add(convBn(expanded, expanded, spec.kernel(), spec.stride(), expanded, true, config, gen));
        layers.add(new SqueezeExcitation(expanded, spec.squeezeChannels(), gen));
        layers.add(convBn(expanded, spec.outChannels(), 1, 1, 1, false, config, gen));
        block = registerModule("block", layers);
        dropPath = registerModule("stochastic_depth", new DropPath(spec.dropPath(), gen.split()));
    }

    /**
     * Conv (no bias) → BN → optional SiLU, as torchvision's {@code Conv2dNormActivation}: children "0", "1", "2".
     * Padding is (k−1)/2, or TensorFlow's "SAME" in the TF variant.
     */
    static Sequential convBn(int in, int out, int kernel, int stride, int groups, boolean activation,
                             EfficientNetConfig config, Generator gen) {
        Padding padding = config.tfSamePadding() ? Padding.same() : Padding.of((kernel - 1) / 2);
        Sequential s = new Sequential(new Conv2d(in, out, kernel, stride, padding, 1, groups, false, gen),
                new BatchNorm2d(out, config.bnEps(), config.bnMomentum()));
        return activation ? s.add(new SiLU()) : s;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (projectionBatchNorm().foldsIntoConvolution()) {
            // Where the drop path is the identity, the skip connection's addition goes into the projection.
            boolean residualInProjection = spec.hasResidual() && (!dropPath.isTraining() || dropPath.p() == 0);
            Tensor y = gatedForward(x, residualInProjection ? x : null);
            return spec.hasResidual() && !residualInProjection ? dropPath.forward(y).add(x) : y;
        }
        Tensor y = gatedTrainingForward(x);
        return spec.hasResidual() ? dropPath.forward(y).add(x) : y;
    }

    /**
     * The block when its batch norms use batch statistics (training): the layers in order, with three fusions. The
     * expansion, its batch norm + SiLU and the depthwise convolution are one op
     * ({@link BatchNorm2d#forwardSiluThenDepthwise(Conv2d, Tensor, Conv2d)}), whose backward need write neither the
     * expansion output's gradient nor the batch norm's input gradient out; the depthwise layer's batch norm + SiLU
     * sums its output for the squeeze-excitation's pooling as it writes it ({@link BatchNorm2d#forwardSiluWithMean});
     * and the squeeze-excitation's gate goes into the projection as one op ({@link Conv2d#forwardGated}), which need
     * not store the gated activation.
     */
    private Tensor gatedTrainingForward(Tensor x) {
        int se = block.size() - 2;
        SqueezeExcitation squeeze = (SqueezeExcitation) block.get(se);
        if (block.get(se - 1) instanceof Sequential last && endsInBatchNormSilu(last)
                && last.get(0) instanceof Conv2d depthwise && last.get(1) instanceof BatchNorm2d bn) {
            Tensor depthwiseOutput;
            if (se == 2 && block.get(0) instanceof Sequential expansion && endsInBatchNormSilu(expansion)
                    && expansion.get(1) instanceof BatchNorm2d expansionBn) {
                // The expansion, its batch norm + SiLU and the depthwise convolution as one op, whose backward
                // carries the depthwise input gradient through the batch norm while it is in cache, and the batch
                // norm's input gradient into the expansion's products a block at a time.
                depthwiseOutput = expansion.get(0) instanceof Conv2d pointwise
                        ? expansionBn.forwardSiluThenDepthwise(pointwise, x, depthwise)
                        : expansionBn.forwardSiluThenDepthwise(expansion.get(0).forward(x), depthwise);
            } else {
                Tensor in = x;
                for (int i = 0; i < se - 1; i++) {
                    in = block.get(i).forward(in);
                }
                depthwiseOutput = depthwise.forward(in);
            }
            return gatedTrainingTail(depthwiseOutput, bn);
        }
        Tensor h = x;
        for (int i = 0; i < se; i++) {
            h = block.get(i).forward(h);
        }
        Sequential projection = (Sequential) block.get(se + 1);
        return projection.get(1).forward(((Conv2d) projection.get(0)).forwardGated(h, squeeze.gate(h)));
    }

    /**
     * {@link #gatedTrainingForward} from the depthwise convolution's output on: its batch norm + SiLU ({@code bn})
     * summing the output for the squeeze-excitation's pooling, the gate, the gated projection and its batch norm.
     */
    private Tensor gatedTrainingTail(Tensor depthwiseOutput, BatchNorm2d bn) {
        int se = block.size() - 2;
        Functional.OutputAndMean pooled = bn.forwardSiluWithMean(depthwiseOutput);
        Tensor gate = ((SqueezeExcitation) block.get(se)).gateOfMean(pooled.mean());
        Sequential projection = (Sequential) block.get(se + 1);
        return projection.get(1).forward(((Conv2d) projection.get(0)).forwardGated(pooled.output(), gate));
    }

    /** Conv → batch norm → SiLU, as {@link #convBn} builds it with an activation. */
    private static boolean endsInBatchNormSilu(Sequential layer) {
        return layer.size() == 3 && layer.get(1) instanceof BatchNorm2d && layer.get(2) instanceof SiLU;
    }

    /**
     * The block in evaluation mode: the expansion and depthwise layers as one fused op
     * ({@link Functional#conv2dBatchNormEvalChainWithMean}, which need not write the expanded activation and pools
     * the depthwise output for the squeeze-excitation as it writes it), then the squeeze-excitation's gate and the
     * projection conv → BN as one fused op
     * ({@link Conv2d#forwardBatchNorm(Tensor, Tensor, BatchNorm2d, Activation)}), which folds the gate into the 1×1
     * weights instead of scaling the widest activation of the block, and adds {@code residual} (null: none) as it
     * finishes each block of its output.
     */
    private Tensor gatedForward(Tensor x, Tensor residual) {
        int se = block.size() - 2;
        SqueezeExcitation squeeze = (SqueezeExcitation) block.get(se);
        Tensor h = x;
        Tensor gate = null;
        int i = 0;
        if (spec.hasExpansion() && folds(0) && folds(1) && se == 2) {
            // The squeeze-excitation's pooling comes with the depthwise output, summed while its rows are in cache.
            Functional.ConvBatchNorm expansion = withBatchNorm(0, x.dim(1), x.dim(2));
            Functional.ConvBatchNorm depthwise = withBatchNorm(1, x.dim(1), x.dim(2));
            Functional.OutputAndMean pooled = Functional.conv2dBatchNormEvalChainWithMean(x, expansion, depthwise);
            h = pooled.output();
            gate = squeeze.gateOfMean(pooled.mean());
            i = 2;
        } else if (!spec.hasExpansion() && folds(0) && se == 1) {
            // The same for the depthwise layer alone (no expansion: B0's first block).
            Functional.OutputAndMean pooled = Functional.conv2dBatchNormEvalWithMean(x,
                    withBatchNorm(0, x.dim(1), x.dim(2)));
            h = pooled.output();
            gate = squeeze.gateOfMean(pooled.mean());
            i = 1;
        }
        for (; i < se; i++) {
            h = block.get(i).forward(h);
        }
        if (gate == null) {
            gate = squeeze.gate(h);
        }
        Conv2d projection = (Conv2d) ((Sequential) block.get(se + 1)).get(0);
        return residual == null ? projection.forwardBatchNorm(h, gate, projectionBatchNorm(), Activation.NONE)
                : projection.forwardBatchNormResidual(h, gate, projectionBatchNorm(), residual);
    }

    /**
     * {@code forward(stem.forward(x))} for a first block without expansion or residual (EfficientNet's), with the
     * stem (conv → BN → SiLU) and this block's depthwise layer fused, so that the stem's output (8 × 112² × 32 floats
     * for B0 at 224²) is never written whole. In evaluation the stem, its batch norm + SiLU and the depthwise layer
     * are one op ({@link Functional#conv2dBatchNormEvalChainWithMean}, pooling the depthwise output for the
     * squeeze-excitation as it writes it): the values of the two calls. In training the stem's batch norm + SiLU and
     * the depthwise convolution are one op ({@link BatchNorm2d#forwardSiluThenDepthwise(Tensor, Conv2d)}), whose
     * backward carries the depthwise input gradient through the stem's batch norm while it is in cache, then the
     * rest of the block as {@link #forward} runs it: the values of the two calls, the gradients within the fused
     * backward's rounding (its batch norm sums add per image row). Null, with nothing computed, when the stem or this
     * block does not have that form or its batch norms are some folding and some not.
     */
    Tensor forwardAfterStem(Tensor x, Sequential stem) {
        if (spec.hasExpansion() || spec.hasResidual() || block.size() != 3 || !endsInBatchNormSilu(stem)
                || !(stem.get(0) instanceof Conv2d stemConv) || !(stem.get(1) instanceof BatchNorm2d stemBn)
                || !(block.get(0) instanceof Sequential layer) || !endsInBatchNormSilu(layer)) {
            return null;
        }
        boolean projectionFolds = projectionBatchNorm().foldsIntoConvolution();
        if (folds(0) && projectionFolds && stemBn.foldsIntoConvolution()) {
            ConvSpec stemSpec = stemConv.spec(x);
            int height = stemSpec.outHeight(x.dim(1), stemConv.kernel());
            int width = stemSpec.outWidth(x.dim(2), stemConv.kernel());
            Functional.OutputAndMean pooled = Functional.conv2dBatchNormEvalChainWithMean(x,
                    stemConv.withBatchNorm(x.dim(1), x.dim(2), stemBn, Activation.SILU),
                    withBatchNorm(0, height, width));
            Tensor gate = ((SqueezeExcitation) block.get(1)).gateOfMean(pooled.mean());
            Sequential projection = (Sequential) block.get(2);
            return ((Conv2d) projection.get(0)).forwardBatchNorm(pooled.output(), gate, projectionBatchNorm(),
                    Activation.NONE);
        }
        if (folds(0) || projectionFolds || stemBn.foldsIntoConvolution() || !(layer.get(0) instanceof Conv2d depthwise)
                || !(layer.get(1) instanceof BatchNorm2d bn)) {
            return null;
        }
        return gatedTrainingTail(stemBn.forwardSiluThenDepthwise(stemConv.forward(x), depthwise), bn);
    }

    /** Whether layer i (conv → BN → SiLU) has a batch norm that folds into its convolution. */
    private boolean folds(int i) {
        return ((BatchNorm2d) ((Sequential) block.get(i)).get(1)).foldsIntoConvolution();
    }

    /** Layer i (conv → BN → SiLU) for inputs of height × width, as a fused op takes it. */
    private Functional.ConvBatchNorm withBatchNorm(int i, int height, int width) {
        Sequential layer = (Sequential) block.get(i);
        return ((Conv2d) layer.get(0)).withBatchNorm(height, width, (BatchNorm2d) layer.get(1), Activation.SILU);
    }

    private BatchNorm2d projectionBatchNorm() {
        return (BatchNorm2d) ((Sequential) block.get(block.size() - 1)).get(1);
    }

    /** The block's channels, kernel, stride and drop-path probability. */
    public BlockSpec spec() {
        return spec;
    }
}
