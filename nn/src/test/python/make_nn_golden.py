"""Golden files for the nn module, computed by PyTorch (and NumPy for TensorFlow's RMSprop).

Run from the repository root with Debian's python3-torch:

    /usr/bin/python3 nn/src/test/python/make_nn_golden.py

Writes nn/src/test/resources/golden/*.safetensors. The safetensors files are written by hand from the format
specification (8-byte little-endian header length, JSON header, little-endian C-order data) because no
safetensors package is assumed. Image tensors for Vertebra are stored NHWC; state dicts keep PyTorch's names
and layouts (conv weights OIHW), exactly as torch's state_dict() returns them.
"""

import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "golden")

DTYPES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int64"): "I64"}


def write_safetensors(name, tensors, metadata=None):
    """tensors: ordered dict name -> numpy array (float32, float64 or int64)."""
    header = {}
    chunks = []
    offset = 0
    for key, array in tensors.items():
        array = np.array(array, order="C")  # ascontiguousarray would turn 0-d arrays into 1-d
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[key] = {"dtype": DTYPES[array.dtype], "shape": list(array.shape),
                       "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


def np32(t):
    return t.detach().cpu().numpy().astype(np.float32)


def nchw_to_nhwc(t):
    return np32(t.permute(0, 2, 3, 1))


def small_net():
    """The same layer stack as the Java test builds with Vertebra's Sequential."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=1, padding=1, bias=True),
        nn.BatchNorm2d(8, eps=1e-3, momentum=0.01),
        nn.SiLU(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 5),
    )


def make_modules():
    torch.manual_seed(1)
    net = small_net()
    # Non-trivial running statistics and affine parameters, so evaluation mode tests something.
    with torch.no_grad():
        for bn in (net[1], net[4]):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 2.0)
            bn.num_batches_tracked.fill_(7)
    x = torch.randn(2, 3, 9, 9)
    tensors = {}
    for key, value in net.state_dict().items():
        tensors["state." + key] = value.numpy().copy() if value.dtype == torch.int64 else np32(value)
    tensors["x_nhwc"] = nchw_to_nhwc(x)
    net.eval()
    with torch.no_grad():
        tensors["eval_out"] = np32(net(x))
    net.train()
    out = net(x)
    tensors["train_out"] = np32(out)
    for key, value in net.state_dict().items():
        if "running" in key or "num_batches" in key:
            tensors["after_train." + key] = value.numpy().copy() if value.dtype == torch.int64 else np32(value)
    write_safetensors("small_net.safetensors", tensors, {"producer": "torch " + torch.__version__})


def optimizer_case(make_optimizer):
    """Three steps on two parameters with fixed gradients; records the parameters after each step."""
    gen = torch.Generator().manual_seed(11)
    w = torch.randn(4, 3, generator=gen)
    b = torch.randn(3, generator=gen)
    grads = [(torch.randn(4, 3, generator=gen), torch.randn(3, generator=gen)) for _ in range(3)]
    tensors = {"w0": np32(w), "b0": np32(b)}
    pw = nn.Parameter(w.clone())
    pb = nn.Parameter(b.clone())
    opt = make_optimizer([pw, pb])
    for step, (gw, gb) in enumerate(grads, start=1):
        tensors[f"grad_w{step}"] = np32(gw)
        tensors[f"grad_b{step}"] = np32(gb)
        pw.grad = gw.clone()
        pb.grad = gb.clone()
        opt.step()
        tensors[f"w{step}"] = np32(pw)
        tensors[f"b{step}"] = np32(pb)
    return tensors


def tf_rmsprop(tensors, lr, rho, momentum, eps, centered):
    """TensorFlow's ApplyRMSProp / ApplyCenteredRMSProp from their documented formulas, ms starting at one
    (tf.compat.v1.train.RMSPropOptimizer's slot initialiser), in float64:

        ms  = rho·ms + (1 − rho)·g²
        mg  = rho·mg + (1 − rho)·g                 (centered only)
        mom = momentum·mom + lr·g / sqrt(ms − mg² + eps)
        var = var − mom
    """
    out = {}
    for name in ("w", "b"):
        var = tensors[name + "0"].astype(np.float64)
        ms = np.ones_like(var)
        mg = np.zeros_like(var)
        mom = np.zeros_like(var)
        for step in (1, 2, 3):
            g = tensors[f"grad_{name}{step}"].astype(np.float64)
            ms = rho * ms + (1 - rho) * g * g
            denom = ms + eps
            if centered:
                mg = rho * mg + (1 - rho) * g
                denom = ms - mg * mg + eps
            mom = momentum * mom + lr * g / np.sqrt(denom)
            var = var - mom
            out[f"{name}{step}"] = var.astype(np.float32)
    return out


def make_optimizers():
    cases = {
        "sgd_nesterov_wd": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        "sgd_dampening": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3),
        "adam_wd": lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
        "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99, eps=1e-8),
        "rmsprop_centered_momentum_wd": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6,
                                                                      momentum=0.9, centered=True,
                                                                      weight_decay=0.01),
    }
    for name, make in cases.items():
        write_safetensors(f"optim_{name}.safetensors", optimizer_case(make))
    base = optimizer_case(lambda p: torch.optim.SGD(p, lr=0.0))
    for name, centered in (("tf_rmsprop", False), ("tf_rmsprop_centered", True)):
        tensors = {k: v for k, v in base.items() if k in ("w0", "b0") or k.startswith("grad_")}
        tensors.update(tf_rmsprop(base, lr=0.01, rho=0.9, momentum=0.9, eps=1e-3, centered=centered))
        write_safetensors(f"optim_{name}.safetensors", tensors)


def schedule_values(make_scheduler, base_lr, steps):
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=base_lr)
    sched = make_scheduler(opt)
    values = [opt.param_groups[0]["lr"]]
    for _ in range(steps - 1):
        opt.step()
        sched.step()
        values.append(opt.param_groups[0]["lr"])
    return np.array(values, dtype=np.float64)


def warmup_cosine_factor(warmup, total, min_factor):
    def factor(step):
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return min_factor + (1 - min_factor) * 0.5 * (1 + math.cos(math.pi * progress))
    return factor


def make_schedules():
    tensors = {
        "one_cycle": schedule_values(lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, max_lr=0.1, total_steps=20, pct_start=0.3, anneal_strategy="cos", div_factor=25.0,
            final_div_factor=1e4, cycle_momentum=False), 0.1, 20),
        "step": schedule_values(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 0.1, 10),
        "warmup_cosine": schedule_values(lambda o: torch.optim.lr_scheduler.LambdaLR(
            o, warmup_cosine_factor(3, 12, 0.01)), 0.1, 14),
    }
    write_safetensors("schedules.safetensors", tensors,
                      {"one_cycle": "max_lr=0.1 total=20 pct_start=0.3 div=25 final_div=1e4",
                       "step": "base=0.1 step_size=3 gamma=0.5",
                       "warmup_cosine": "base=0.1 warmup=3 total=12 min_factor=0.01"})


def make_losses():
    torch.manual_seed(5)
    logits = torch.randn(6, 8) * 3
    targets = (torch.rand(6, 8) > 0.6).float()
    pos = torch.tensor([2.0] * 7 + [4.0])
    neg = torch.tensor([1.0] * 7 + [2.0])
    # Per-column positive/negative weights are a per-element weight chosen by the target.
    element_weight = targets * pos + (1 - targets) * neg
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, weight=element_weight,
                                                               reduction="none")
    ce_logits = torch.randn(5, 4)
    labels = torch.tensor([0, 3, 1, 1, 2])
    tensors = {
        "logits": np32(logits), "targets": np32(targets), "pos_weight": np32(pos), "neg_weight": np32(neg),
        "bce_none": np32(bce), "bce_mean": np32(bce.mean()), "bce_sum": np32(bce.sum()),
        "ce_logits": np32(ce_logits), "ce_labels": labels.numpy(),
        "ce_ls0.1_mean": np32(torch.nn.functional.cross_entropy(ce_logits, labels, label_smoothing=0.1)),
    }
    write_safetensors("losses.safetensors", tensors)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_default_dtype(torch.float32)
    make_modules()
    make_optimizers()
    make_schedules()
    make_losses()


if __name__ == "__main__":
    main()
