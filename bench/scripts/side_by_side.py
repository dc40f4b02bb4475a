#!/usr/bin/env python3
"""EfficientNet-B0 end to end, Vertebra next to PyTorch on this CPU, alternating, in one run.

Workloads (the PyTorch CPU reference's): inference b=8 224², training b=8 224², training b=32 128²; 8 outputs,
BCE-with-logits against random targets, SGD momentum 0.9 (lr 0.01). For each workload and round the two
libraries run one after the other as separate processes (Vertebra: ./vertebra bench-model; PyTorch: this script
in worker mode, torchvision's efficientnet_b0 in channels_last, torch.set_num_threads(THREADS)), so both see the
same machine load. Each process reports the median step time over the measured steps and its peak RSS; the
table gives the median over rounds and the ratio Vertebra / PyTorch.

    bench/scripts/side_by_side.py                       # 1 round, 3 warm-up + 5 measured steps
    bench/scripts/side_by_side.py --rounds 3 --steps 10
    bench/scripts/side_by_side.py --plain-malloc         # PyTorch without the malloc settings below
    bench/scripts/side_by_side.py --heap sized           # Vertebra's heap sized per workload (G1)
    VERTEBRA_JAVA_OPTS=-Xmx6g bench/scripts/side_by_side.py

Run with Debian's python3-torch and python3-torchvision (/usr/bin/python3).
"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKLOADS = [("infer", 8, 224), ("train", 8, 224), ("train", 32, 128)]
# The same on the JVM side. bench-model runs each step in a MemoryScope, so a step reuses the arrays of the one before
# and allocates little else (about 30 MB a training step, 17 MB an inference step), but that little still lands on
# fresh heap pages while ZGC grows the heap toward its maximum (half the RAM by default), and first touches are page
# faults (4 KiB shared-memory pages, slow on these machines). A 2 GB heap committed and touched at start holds the
# largest workload's pooled step (about 1 GB), measures the steady state from the first measured step, as the malloc
# settings do for PyTorch, and keeps peak RSS lower than the default heap does (2.3 against 2.6 GB for training).
# VERTEBRA_JAVA_OPTS= (empty) runs the launcher's defaults.
DEFAULT_JAVA_OPTS = "-Xms2g -Xmx2g -XX:+AlwaysPreTouch"
# --heap sized: G1 (allocation is rare once a MemoryScope pools the step, so its pauses are too) and the smallest
# heap tried that runs each workload at about the 2 GB heap's speed, 1.3-2.4x the memory a step pools (123, 592 and
# 843 MB, bench-model's "reused between steps"): what a JVM deployment would size, and the JVM's own share of the
# peak RSS is then about 130 MB. Smaller heaps tried: inference 300 MB runs as fast as 400 MB (1 ms of GC a step);
# training b=8 850 MB spends 1-2 ms a step in GC, 800 MB 2-3 ms, against under 1 ms at 900 MB; b=32 at 1050 MB 2 ms
# a step against 1 ms at 1100 MB, and runs out of memory at 900 MB. (The training heaps were 950 MB and 1200 MB
# until the expansion's activation stopped being kept for the depthwise weight gradient.)
SIZED_JAVA_OPTS = {("infer", 8, 224): "300m", ("train", 8, 224): "900m", ("train", 32, 128): "1100m"}
# glibc returns large freed blocks to the kernel (munmap / trim) and PyTorch's CPU allocator frees every activation
# each step, so without these a step spends a third of its time in page faults: here 9.7 img/s inference instead of
# 95 (see bench/NOTES.md). The settings keep freed memory in the process, as a caching allocator would; they are
# what a PyTorch user tuning CPU training sets (or gets from jemalloc/tcmalloc). --plain-malloc leaves them out.
TORCH_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "68719476736",
                "MALLOC_TOP_PAD_": "1073741824"}


def torch_worker(args):
    """One PyTorch run; prints per-step times, peak RSS and (last) img/s, as bench-model does."""
    import torch
    import torchvision
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    train = args.mode == "train"
    model = torchvision.models.efficientnet_b0(num_classes=args.classes).to(memory_format=torch.channels_last)
    model.train(train)
    images = torch.randn(args.batch, 3, args.size, args.size).to(memory_format=torch.channels_last)
    targets = torch.rand(args.batch, args.classes)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        if train:
            optimiser.zero_grad(set_to_none=True)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(images), targets)
            loss.backward()
            optimiser.step()
        else:
            with torch.no_grad():
                model(images)

    print(f"torch {torch.__version__} threads={torch.get_num_threads()} {args.mode} b={args.batch} "
          f"size={args.size}", flush=True)
    for i in range(args.warmup):
        start = time.perf_counter()
        step()
        print(f"warm-up {i + 1}: {(time.perf_counter() - start) * 1e3:.1f} ms", flush=True)
    times = []
    for i in range(args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
        print(f"step {i + 1}: {times[-1] * 1e3:.1f} ms", flush=True)
    median = statistics.median(times)
    print(f"median: {median * 1e3:.1f} ms/step")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6:.0f} MB")
    print(f"img/s: {args.batch / median:.2f}")


def parse(output, what):
    img = re.findall(r"^img/s: ([0-9.]+)\s*$", output, re.M)
    rss = re.findall(r"^peak RSS: ([0-9.]+) MB\s*$", output, re.M)
    if not img:
        sys.exit(f"{what}: no img/s line in its output:\n{output}")
    return float(img[-1]), float(rss[-1]) if rss else float("nan")


def run(cmd, env, what):
    result = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.exit(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return parse(result.stdout, what)


def java_opts(args, workload):
    """VERTEBRA_JAVA_OPTS for a workload: the caller's when set, else the --heap policy's."""
    if "VERTEBRA_JAVA_OPTS" in os.environ:
        return os.environ["VERTEBRA_JAVA_OPTS"]
    if args.heap == "sized":
        heap = SIZED_JAVA_OPTS[workload]
        return f"-XX:+UseG1GC -Xms{heap} -Xmx{heap} -XX:+AlwaysPreTouch"
    return DEFAULT_JAVA_OPTS


def driver(args):
    env = dict(os.environ)
    env.setdefault("VERTEBRA_JAVA_OPTS", DEFAULT_JAVA_OPTS)
    common = ["--steps", str(args.steps), "--warmup", str(args.warmup), "--classes", str(args.classes)]
    # Build once up front, so no Vertebra run pays for compiling.
    subprocess.run([os.path.join(ROOT, "vertebra"), "--version"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    torch_env = dict(env) if args.plain_malloc else {**env, **TORCH_MALLOC}
    results = {}
    for mode, batch, size in WORKLOADS:
        for r in range(args.rounds):
            shape = ["--mode", mode, "--batch", str(batch), "--size", str(size)]
            v = run([os.path.join(ROOT, "vertebra"), "bench-model", "--model", "b0", "--device", "cpu"]
                    + shape + common, {**env, "VERTEBRA_JAVA_OPTS": java_opts(args, (mode, batch, size))}, "vertebra")
            t = run([args.python, os.path.abspath(__file__), "torch", "--threads", str(args.threads)] + shape + common,
                    torch_env, "pytorch")
            results.setdefault((mode, batch, size), []).append((v, t))
            print(f"round {r + 1} {mode} b={batch} {size}²: vertebra {v[0]:.2f} img/s ({v[1]:.0f} MB), "
                  f"pytorch {t[0]:.2f} img/s ({t[1]:.0f} MB)", flush=True)

    print()
    print(f"EfficientNet-B0, {args.warmup} warm-up + {args.steps} measured steps (median), {args.rounds} round(s) "
          f"alternating, VERTEBRA_JAVA_OPTS={' / '.join(java_opts(args, w) for w in WORKLOADS)}, "
          f"torch threads={args.threads}, "
          f"torch malloc {'plain' if args.plain_malloc else 'tuned'}")
    print("| workload | Vertebra img/s | PyTorch img/s | Vertebra / PyTorch | Vertebra peak RSS | PyTorch peak RSS |")
    print("|---|---|---|---|---|---|")
    for (mode, batch, size), runs in results.items():
        ratios = [v[0] / t[0] for v, t in runs]
        vi = statistics.median(v[0] for v, _ in runs)
        ti = statistics.median(t[0] for _, t in runs)
        vm = max(v[1] for v, _ in runs)
        tm = max(t[1] for _, t in runs)
        print(f"| {mode} b={batch} {size}² | {vi:.2f} | {ti:.2f} | {statistics.median(ratios):.3f} | "
              f"{vm / 1e3:.2f} GB | {tm / 1e3:.2f} GB |")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command")
    w = sub.add_parser("torch", help="one PyTorch run (used by the driver)")
    w.add_argument("--mode", choices=["train", "infer"], required=True)
    w.add_argument("--batch", type=int, required=True)
    w.add_argument("--size", type=int, required=True)
    for q in (p, w):
        q.add_argument("--steps", type=int, default=5)
        q.add_argument("--warmup", type=int, default=3)
        q.add_argument("--classes", type=int, default=8)
        q.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--plain-malloc", action="store_true",
                   help="run PyTorch with glibc's default malloc settings (slow here: page faults every step)")
    p.add_argument("--python", default="/usr/bin/python3", help="the python with torch (default: %(default)s)")
    p.add_argument("--heap", choices=["fixed", "sized"], default="fixed",
                   help="Vertebra's heap: fixed 2 GB (the launcher's ZGC), or sized per workload with G1 "
                        "(default: %(default)s; VERTEBRA_JAVA_OPTS overrides both)")
    args = p.parse_args()
    if args.command == "torch":
        torch_worker(args)
    else:
        driver(args)


if __name__ == "__main__":
    main()
