#!/usr/bin/python3
"""Fashion-MNIST with torchvision's EfficientNet: the PyTorch side of `./vertebra fashion-mnist`.

Same recipe as the Vertebra command (see its defaults): EfficientNet-B0 stages scaled by width 0.25 and depth 0.25,
one input channel, 10 classes, no dropout, no stochastic depth; 28×28 images zero-padded to 32×32, scaled to
[0, 1] and normalised with mean 0.2860, std 0.3530; AdamW (betas 0.9/0.999, eps 1e-8, weight decay 0.01 on every
parameter), learning rate 2e-3 with a per-step cosine decay to 0 and no warmup; cross-entropy; the first
--train-limit training images, shuffled each epoch with the same SplitMix64 Fisher–Yates permutation as Vertebra;
the full 10,000-image test set. Prints per-epoch loss, test accuracy and wall time; the last line is
"test accuracy: <x>".

    /usr/bin/python3 examples/src/test/python/fashion_mnist_torch.py --epochs 2 --train-limit 6000

Needs Debian's python3-torch, python3-torchvision and dataset-fashion-mnist.
"""
import argparse
import gzip
import math
import struct
import time
from pathlib import Path

import torch
from torch import nn
from torchvision.models import efficientnet

MEAN, STD = 0.2860, 0.3530
MASK = (1 << 64) - 1


def read_idx(path, rank):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    if magic != 0x800 | rank:
        raise ValueError(f"{path}: not an IDX file of rank {rank} (magic {magic:#x})")
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return torch.frombuffer(bytearray(data[4 + 4 * rank:]), dtype=torch.uint8).reshape(dims)


def images(path, limit):
    x = read_idx(path, 3)[:limit].float().div(255)
    x = nn.functional.pad(x, (2, 2, 2, 2))                   # 28×28 → 32×32, background value
    return x.sub(MEAN).div(STD).unsqueeze(1).contiguous()    # [N, 1, 32, 32]


def permutation(n, seed, epoch):
    """Fisher–Yates driven by SplitMix64 seeded with seed·1000003 + epoch: the order Vertebra's command uses."""
    state = (seed * 1000003 + epoch) & MASK
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        j = z % (i + 1)
        order[i], order[j] = order[j], order[i]
    return torch.tensor(order)


def model(width, depth):
    setting, last = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=width, depth_mult=depth)
    net = efficientnet.EfficientNet(setting, dropout=0.0, stochastic_depth_prob=0.0, num_classes=10,
                                    last_channel=last)
    stem = net.features[0][0]
    net.features[0][0] = nn.Conv2d(1, stem.out_channels, 3, stride=2, padding=1, bias=False)
    nn.init.kaiming_normal_(net.features[0][0].weight, mode="fan_out")  # torchvision's convolution init
    return net


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--train-limit", type=int, default=6000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=float, default=0.25)
    p.add_argument("--depth", type=float, default=0.25)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    data = Path(a.data)
    x_train = images(data / "train-images-idx3-ubyte.gz", a.train_limit)
    y_train = read_idx(data / "train-labels-idx1-ubyte.gz", 1)[:a.train_limit].long()
    x_test = images(data / "t10k-images-idx3-ubyte.gz", None)
    y_test = read_idx(data / "t10k-labels-idx1-ubyte.gz", 1).long()
    n = len(y_train)

    net = model(a.width, a.depth)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    steps_per_epoch = math.ceil(n / a.batch)
    total = a.epochs * steps_per_epoch
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {n} training images, "
          f"{len(y_test)} test images; width {a.width} depth {a.depth}, "
          f"{sum(q.numel() for q in net.parameters())} parameters")
    step = 0
    accuracy = 0.0
    start = time.perf_counter()
    for epoch in range(a.epochs):
        net.train()
        order = permutation(n, a.seed, epoch)
        loss_sum = 0.0
        for b in range(0, n, a.batch):
            idx = order[b:b + a.batch]
            for g in opt.param_groups:
                g["lr"] = a.lr * 0.5 * (1 + math.cos(math.pi * step / total))
            loss = nn.functional.cross_entropy(net(x_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            step += 1
        net.eval()
        correct = 0
        with torch.no_grad():
            for b in range(0, len(y_test), 500):
                correct += (net(x_test[b:b + 500]).argmax(1) == y_test[b:b + 500]).sum().item()
        accuracy = correct / len(y_test)
        print(f"epoch {epoch + 1}/{a.epochs}: loss {loss_sum / n:.4f}, test accuracy {accuracy:.4f}, "
              f"wall {time.perf_counter() - start:.1f} s")
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
