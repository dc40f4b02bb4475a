package dev.vertebra.examples;

import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import dev.vertebra.core.Generator;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Tensor;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.core.io.Npy;
import dev.vertebra.efficientnet.EfficientNet;
import dev.vertebra.efficientnet.EfficientNetConfig;
import dev.vertebra.efficientnet.EfficientNetWeights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code vertebra logits --model b0 --weights W.safetensors --input X.npy --output Y.npy [--classes N]
 * [--device cuda]}: an eval forward pass of an EfficientNet with torchvision- (or timm-) named weights on float32 NCHW images, as PyTorch
 * users hold them; writes float32 logits {@code [N, classes]}. The input channels follow the input file.
 */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Run an EfficientNet on NCHW float32 images (.npy) and write the logits (.npy).")
final class LogitsCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", required = true, description = "b0 … b7")
    private String model;

    @Option(names = "--weights", required = true, description = "safetensors file, torchvision or timm names")
    private Path weights;

    @Option(names = "--input", required = true, description = "float32 images [N, C, H, W] (.npy)")
    private Path input;

    @Option(names = "--output", required = true, description = "float32 logits [N, classes] (.npy) to write")
    private Path output;

    @Option(names = "--classes", defaultValue = "1000", description = "classifier outputs (default: ${DEFAULT-VALUE})")
    private int classes;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda, cuda:N … (default: ${DEFAULT-VALUE})")
    private String device;

    @Override
    public Integer call() {
        try {
            run();
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            // Bad files and shapes are the user's to fix: the message names them, a stack trace would bury it.
            return Failures.report(spec, e);
        }
    }

    private void run() throws IOException {
        HostArray images = Npy.read(input);
        int[] shape = images.shape();
        if (images.dtype() != DType.FLOAT32 || shape.length != 4 || shape[1] < 1 || shape[2] < 1 || shape[3] < 1) {
            throw new IllegalArgumentException("--input " + input + " must hold float32 images [N, C, H, W] (NCHW), got "
                    + images.dtype() + " " + Arrays.toString(shape));
        }
        EfficientNetConfig config = EfficientNetConfig.named(model).withClasses(classes).withInChannels(shape[1]);
        EfficientNet net = new EfficientNet(config, new Generator(0));
        EfficientNetWeights.load(net, weights);
        Device dev = Devices.open(device);
        net.to(dev);
        net.eval();
        try (NoGrad _ = NoGrad.enter()) {
            // PyTorch's NCHW at the boundary, Vertebra's NHWC inside.
            Tensor x = Tensor.fromHost(images, Device.CPU).to(dev).permute(0, 2, 3, 1).contiguous();
            Tensor logits = net.forward(x);
            Npy.write(output, logits.contiguous().toHost());
        }
        spec.commandLine().getOut().printf("wrote %s: logits [%d, %d]%n", output, shape[0], classes);
        spec.commandLine().getOut().flush();
    }
}
