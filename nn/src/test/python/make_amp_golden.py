"""Golden file for mixed precision: a small conv/BN/SiLU/linear network, one training forward and backward under
torch.autocast("cpu", dtype=torch.bfloat16), and the same step in float32 for scale.

Run from the repository root with Debian's python3-torch:

    /usr/bin/python3 nn/src/test/python/make_amp_golden.py

Writes nn/src/test/resources/golden/autocast_bf16.safetensors (same conventions as make_nn_golden.py: input NHWC,
state dict and gradients under PyTorch's names and layouts, conv weights OIHW):

    state.<name>            initial state dict (float32)
    x_nhwc, labels          input [4, 8, 8, 3] and class labels [4]
    bf16.logits             logits under autocast (bfloat16 values, stored as float32)
    bf16.loss               cross-entropy (float32 under autocast)
    bf16.grad.<param>       parameter gradients (float32: autocast's casts are differentiable)
    bf16.grad_x_nhwc        input gradient
    bf16.after.<buffer>     running statistics after the step
    fp32.*                  the same step without autocast
"""

import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from make_nn_golden import np32, nchw_to_nhwc, write_safetensors  # noqa: E402


def net():
    """The layer stack the Java test builds with Vertebra's Sequential."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=1, padding=1, bias=True),
        nn.SiLU(),
        nn.Conv2d(8, 16, 1, bias=False),
        nn.BatchNorm2d(16, eps=1e-3, momentum=0.01),
        nn.SiLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 5),
    )
    # (No batch norm right after the biased convolution: it would cancel the bias and leave its gradient as
    # rounding noise around zero.)


def step(model, x_nhwc, labels, prefix, tensors, autocast):
    x = torch.tensor(x_nhwc, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        logits = model(x.permute(0, 3, 1, 2))
        loss = F.cross_entropy(logits, labels)
    assert logits.dtype == (torch.bfloat16 if autocast else torch.float32)
    assert loss.dtype == torch.float32
    loss.backward()
    tensors[prefix + "logits"] = np32(logits.float())
    tensors[prefix + "loss"] = np32(loss)
    for name, p in model.named_parameters():
        assert p.grad.dtype == torch.float32
        tensors[prefix + "grad." + name] = np32(p.grad)
    tensors[prefix + "grad_x_nhwc"] = np32(x.grad)
    for name, b in model.named_buffers():
        if "running" in name:
            tensors[prefix + "after." + name] = np32(b)


def main():
    torch.manual_seed(3)
    model = net()
    with torch.no_grad():
        model[3].weight.uniform_(0.5, 1.5)
        model[3].bias.uniform_(-0.5, 0.5)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(4, 3, 8, 8) * 2
    labels = torch.tensor([0, 3, 4, 1])
    tensors = {}
    for key, value in initial.items():
        tensors["state." + key] = value.numpy().copy() if value.dtype == torch.int64 else np32(value)
    tensors["x_nhwc"] = nchw_to_nhwc(x)
    tensors["labels"] = labels.numpy()
    for prefix, autocast in (("bf16.", True), ("fp32.", False)):
        model.load_state_dict(initial)
        model.zero_grad(set_to_none=True)
        model.train()
        step(model, tensors["x_nhwc"], labels, prefix, tensors, autocast)
    write_safetensors("autocast_bf16.safetensors", tensors, {"producer": "torch " + torch.__version__})
    for name in ("logits", "loss", "grad.0.weight", "grad.7.weight", "grad_x_nhwc"):
        a = tensors["bf16." + name].astype(np.float64)
        b = tensors["fp32." + name].astype(np.float64)
        print(f"torch bf16 vs fp32 {name}: max |diff| {np.abs(a - b).max():.3g} (max |fp32| {np.abs(b).max():.3g})")


if __name__ == "__main__":
    main()
