"""Golden files for the efficientnet module, computed by torchvision's EfficientNet.

Run from the repository root with Debian's python3-torch and python3-torchvision:

    /usr/bin/python3 efficientnet/src/test/python/make_effnet_golden.py

writes efficientnet/src/test/resources/golden/{small_b0,small_b5,small_b0_tf}{,_io}.safetensors: reduced-width/depth models
that keep B0's and B5's block structure and batch-norm settings (8 classes, seeded random weights), and for each
an input, the eval logits, the train-mode logits, the input gradient and some parameter gradients of a weighted
BCE-with-logits loss. small_b0_tf is the TensorFlow variant (SAME padding, eps 1e-3). Weights keep PyTorch's names and layouts; images stay NCHW as PyTorch holds them.

The full-size B0 comparison, outside the test suite:

    /usr/bin/python3 efficientnet/src/test/python/make_effnet_golden.py --full-b0 DIR
    ./vertebra logits --model b0 --weights DIR/b0.safetensors --input DIR/input.npy --output DIR/vertebra.npy
    /usr/bin/python3 efficientnet/src/test/python/make_effnet_golden.py --compare DIR

Safetensors files are written by hand from the format specification (8-byte little-endian header length, JSON
header, little-endian C-order data), so no safetensors package is needed.
"""

import json
import os
import struct
import sys
from functools import partial

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf, efficientnet_b0

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "golden")
DTYPES = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}
CLASSES = 8


def write_safetensors(path, tensors):
    """tensors: dict name -> numpy array (float32 or int64), written in insertion order."""
    header, chunks, offset = {}, [], 0
    for key, array in tensors.items():
        array = np.array(array, order="C")  # ascontiguousarray would turn 0-d arrays into 1-d
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[key] = {"dtype": DTYPES[array.dtype], "shape": list(array.shape),
                       "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


def state_dict_arrays(model):
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}


def randomise(model):
    """Random BN affine parameters and conv/linear biases, so that swapped or ignored ones change the outputs."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.6, 1.4)
                m.bias.uniform_(-0.2, 0.2)
            elif isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                m.bias.uniform_(-0.2, 0.2)


def settle_running_statistics(model, shape, passes=3):
    """Train-mode passes over random data: with default running statistics (0, 1) the eval logits would hardly
    depend on the input, and a wrong layout could pass unnoticed."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average: the statistics settle fully in a few passes
    model.train()
    with torch.no_grad():
        for _ in range(passes):
            model(torch.randn(shape) * 1.5 + 0.3)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    model.eval()


def assert_input_dependent(model, logits):
    """The logits of two different inputs must differ clearly, relative to the input-dependent part of the logits
    (the classifier bias alone would make any two inputs look alike)."""
    varying = logits - model.classifier[1].bias.detach()
    spread = (logits[0] - logits[1]).abs().max().item()
    scale = varying.abs().max().item()
    assert spread > 0.2 * scale, f"logits of different inputs barely differ ({spread} vs {scale})"


def small_model(width, depth, eps, momentum):
    setting, last_channel = _efficientnet_conf("efficientnet_b0", width_mult=width, depth_mult=depth)
    return EfficientNet(setting, dropout=0.0, stochastic_depth_prob=0.0, num_classes=CLASSES,
                        norm_layer=partial(nn.BatchNorm2d, eps=eps, momentum=momentum), last_channel=last_channel)


# Parameters whose gradients are compared. (A BN shift feeding, through a linear layer, a training-mode BN has a
# gradient of zero up to rounding, e.g. features.4.1.block.3.1.bias: such parameters make no test.)
def tf_same_padding(model):
    """TensorFlow's "SAME" padding in every convolution (timm's tf_efficientnet_bX): output ceil(in / stride), the
    odd extra pixel at the bottom/right, applied by a pre-hook since torchvision's convolutions pad symmetrically."""
    def pad(conv, inputs):
        (x,) = inputs
        amounts = []
        for size, k, s in ((x.shape[3], conv.kernel_size[1], conv.stride[1]),
                           (x.shape[2], conv.kernel_size[0], conv.stride[0])):
            total = max((-(-size // s) - 1) * s + k - size, 0)
            amounts += [total // 2, total - total // 2]
        return (F.pad(x, amounts),)

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.padding = (0, 0)
            m.register_forward_pre_hook(pad)
    return model


GRADIENTS = ["features.0.0.weight", "features.0.1.weight", "features.2.0.block.1.0.weight",
             "features.2.0.block.2.fc1.bias", "features.4.1.block.2.fc2.bias", "features.4.1.block.3.0.weight",
             "features.8.1.bias", "classifier.1.weight"]


def make_small(name, width, depth, eps, momentum, seed, tf_same=False):
    torch.manual_seed(seed)
    model = small_model(width, depth, eps, momentum)
    if tf_same:
        tf_same_padding(model)
    randomise(model)
    size = 72  # not a multiple of 32: exercises the odd sizes of stride-2 layers
    settle_running_statistics(model, (4, 3, size, size))
    write_safetensors(os.path.join(OUT, name + ".safetensors"), state_dict_arrays(model))

    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        logits = model(x)
    assert_input_dependent(model, logits)

    model.train()
    xg = x.clone().requires_grad_(True)
    train_logits = model(xg)
    targets = (torch.rand(2, CLASSES) > 0.5).float()
    column_weights = torch.linspace(0.5, 2.0, CLASSES)
    loss = F.binary_cross_entropy_with_logits(train_logits, targets, weight=column_weights)
    loss.backward()
    params = dict(model.named_parameters())
    io = {"input": x.numpy(), "eval_logits": logits.numpy(), "train_logits": train_logits.detach().numpy(),
          "targets": targets.numpy(), "column_weights": column_weights.numpy(),
          "loss": loss.detach().reshape(1).numpy(), "input_grad": xg.grad.numpy()}
    for key in GRADIENTS:
        grad = params[key].grad
        assert grad.abs().max() > 1e-4 * xg.grad.abs().max(), f"{key}: gradient too small to compare"
        io["grad." + key] = grad.numpy()
    io["after.features.0.1.running_mean"] = model.features[0][1].running_mean.numpy()
    io["after.features.0.1.running_var"] = model.features[0][1].running_var.numpy()
    write_safetensors(os.path.join(OUT, name + "_io.safetensors"), io)
    print(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, loss {loss.item():.6f}")


def full_b0(directory):
    os.makedirs(directory, exist_ok=True)
    torch.manual_seed(0)
    model = efficientnet_b0()
    randomise(model)
    settle_running_statistics(model, (4, 3, 224, 224), passes=2)
    write_safetensors(os.path.join(directory, "b0.safetensors"), state_dict_arrays(model))
    # Smooth random images of different contrast: pooled features of two white-noise images are nearly equal.
    x = F.interpolate(torch.randn(2, 3, 14, 14), size=224, mode="bilinear", align_corners=False)
    x = x * torch.tensor([1.0, 2.0]).reshape(2, 1, 1, 1) + 0.1 * torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        logits = model(x)
    assert_input_dependent(model, logits)
    np.save(os.path.join(directory, "input.npy"), x.numpy())
    np.save(os.path.join(directory, "torchvision.npy"), logits.numpy())
    print("wrote", directory)


def compare(directory):
    expected = np.load(os.path.join(directory, "torchvision.npy")).astype(np.float64)
    actual = np.load(os.path.join(directory, "vertebra.npy")).astype(np.float64)
    assert expected.shape == actual.shape, (expected.shape, actual.shape)
    diff = np.abs(actual - expected)
    print(f"max |diff| {diff.max():.3e}; max |diff| / max |logit| {diff.max() / np.abs(expected).max():.3e}; "
          f"max elementwise relative (|diff| / (|expected| + 1e-3)) {(diff / (np.abs(expected) + 1e-3)).max():.3e}")


if __name__ == "__main__":
    torch.set_num_threads(2)
    if len(sys.argv) == 3 and sys.argv[1] == "--full-b0":
        full_b0(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "--compare":
        compare(sys.argv[2])
    else:
        os.makedirs(OUT, exist_ok=True)
        make_small("small_b0", width=0.25, depth=0.5, eps=1e-5, momentum=0.1, seed=1)
        make_small("small_b5", width=0.4, depth=0.6, eps=1e-3, momentum=0.01, seed=5)
        make_small("small_b0_tf", width=0.25, depth=0.5, eps=1e-3, momentum=0.1, seed=7, tf_same=True)
