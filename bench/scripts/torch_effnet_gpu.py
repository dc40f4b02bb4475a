#!/usr/bin/env python3
"""EfficientNet-B0 training throughput in PyTorch on a GPU: the counterpart of
`./vertebra bench-model --device cuda` (8 outputs, BCE-with-logits on random targets, SGD momentum 0.9,
random images), channels_last, in fp32, tf32 or bf16 (autocast).

    python3 bench/scripts/torch_effnet_gpu.py --batch 64 --size 224 --precision fp32 --steps 10

Prints per-step times and, last, `img/s: <X>` (the median step), as bench-model does.
"""
import argparse
import time

import torch
import torchvision


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--classes", type=int, default=8)
    p.add_argument("--precision", choices=["fp32", "tf32", "bf16"], default="fp32")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = a.precision == "tf32"
    torch.backends.cudnn.allow_tf32 = a.precision == "tf32"
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    dev = torch.device("cuda")
    model = torchvision.models.efficientnet_b0(num_classes=a.classes).to(dev, memory_format=torch.channels_last)
    model.train()
    images = torch.randn(a.batch, 3, a.size, a.size, device=dev).to(memory_format=torch.channels_last)
    targets = torch.rand(a.batch, a.classes, device=dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.precision == "bf16"):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(images).float(), targets)
        loss.backward()
        opt.step()

    print(f"torch {torch.__version__} {torch.cuda.get_device_name()} train b={a.batch} size={a.size} {a.precision}")
    for i in range(a.warmup):
        t = time.perf_counter(); step(); torch.cuda.synchronize()
        print(f"warm-up {i + 1}: {(time.perf_counter() - t) * 1e3:.1f} ms")
    times = []
    for i in range(a.steps):
        t = time.perf_counter(); step(); torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
        print(f"step {i + 1}: {times[-1] * 1e3:.1f} ms")
    times.sort()
    med = times[len(times) // 2]
    print(f"median: {med * 1e3:.1f} ms/step")
    print(f"img/s: {a.batch / med:.1f}")


if __name__ == "__main__":
    main()
