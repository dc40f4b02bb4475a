#!/usr/bin/env python3
"""The first steps of EfficientNet-B0 in fresh JVMs: two Vertebra builds, or two sets of JVM options, alternating.

What StepComparison.java (compiled steps of two builds in one JVM) cannot show: the warm-up, when every kernel
first runs as C1 code and the JIT compilers share the cores with the steps. Each pair runs variant A and variant B
as separate processes of `./vertebra bench-model --warmup 0` (the order flipped every pair, so both see the same
machine load), and the script prints, per variant and run: step 1, the sum of all steps, and the median of each
window of steps (2-3, 4-10: what the side-by-side script's 3 warm-up + 7 measured steps take, 13-19, 20 on), with
the number of pairs in which B's window was the faster. The figures of bench/NOTES.md's twenty-third round came
from runs like these.

    bench/scripts/first_steps.py --a OLD_DIST --b NEW_DIST --mode infer --steps 20 --pairs 8
    bench/scripts/first_steps.py --b-opts="-XX:-TieredCompilation" --mode train --steps 12 --pairs 4

A variant's build is a `./vertebra dist` folder (VERTEBRA_LIB), or the repository's own build when not given. The
heap is G1, sized per workload as `side_by_side.py --heap sized` sizes it, unless --heap says otherwise.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIZED_HEAPS = {("infer", 8, 224): "300m", ("train", 8, 224): "900m", ("train", 32, 128): "1100m"}
# (first, last) step numbers of each window, 1-based and inclusive; the last window runs to the final step.
WINDOWS = [(2, 3), (4, 10), (13, 19), (20, None)]
STEP = re.compile(r"^step (\d+): ([0-9.]+) ms", re.MULTILINE)


def run_steps(args, lib, opts):
    """One fresh process; its step times in ms."""
    heap = args.heap or SIZED_HEAPS.get((args.mode, args.batch, args.size))
    if heap is None:
        sys.exit(f"no sized heap for {args.mode} b={args.batch} {args.size}²: give --heap")
    env = dict(os.environ)
    env["VERTEBRA_JAVA_OPTS"] = f"-XX:+UseG1GC -Xms{heap} -Xmx{heap} -XX:+AlwaysPreTouch {opts}".strip()
    if lib:
        env["VERTEBRA_LIB"] = os.path.abspath(lib)
    else:
        env.pop("VERTEBRA_LIB", None)
    cmd = [os.path.join(ROOT, "vertebra"), "bench-model", "--model", "b0", "--device", "cpu", "--mode", args.mode,
           "--batch", str(args.batch), "--size", str(args.size), "--steps", str(args.steps), "--warmup", "0"]
    result = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    steps = [float(ms) for _, ms in STEP.findall(result.stdout)]
    if result.returncode != 0 or len(steps) != args.steps:
        sys.exit(f"bench-model failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return steps


def row(label, values, suffix=""):
    """One line: A's figures, then B's."""
    print(f"{label:>26}: A {' '.join(values['A'])}  |  B {' '.join(values['B'])}{suffix}")


def report(runs, steps):
    """Per variant and run: step 1, the total and each window's median; B's wins per window."""
    row("step 1, ms", {v: [f"{r[0]:.0f}" for r in runs[v]] for v in runs})
    row(f"steps 1-{steps}, s", {v: [f"{sum(r) / 1e3:.2f}" for r in runs[v]] for v in runs})
    for first, last in WINDOWS:
        last = steps if last is None else min(last, steps)
        if first > last:
            continue
        medians = {v: [statistics.median(r[first - 1:last]) for r in runs[v]] for v in runs}
        wins = sum(b < a for a, b in zip(medians["A"], medians["B"]))
        row(f"steps {first}-{last} median, ms", {v: [f"{m:.1f}" for m in medians[v]] for v in runs},
            f"  (B faster in {wins} of {len(medians['A'])})")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", help="variant A's dist folder (default: the repository's build)")
    p.add_argument("--b", help="variant B's dist folder (default: A's)")
    p.add_argument("--a-opts", default="", help="JVM options added for A (--a-opts=\"-XX:...\")")
    p.add_argument("--b-opts", default="", help="JVM options added for B (--b-opts=\"-XX:...\")")
    p.add_argument("--mode", choices=["train", "infer"], default="infer")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--pairs", type=int, default=4)
    p.add_argument("--heap", help="heap size for both (default: sized per workload)")
    args = p.parse_args()
    if args.steps < 1 or args.pairs < 1:
        sys.exit("need --steps and --pairs of at least 1")
    variants = {"A": (args.a, args.a_opts), "B": (args.b or args.a, args.b_opts)}
    if variants["A"] == variants["B"]:
        print("A and B are the same build and options: an A/A run, to see the spread", flush=True)
    runs = {"A": [], "B": []}
    for pair in range(args.pairs):
        for v in ("A", "B") if pair % 2 == 0 else ("B", "A"):
            runs[v].append(run_steps(args, *variants[v]))
        print(f"pair {pair + 1}: step 1 A {runs['A'][-1][0]:.0f} ms, B {runs['B'][-1][0]:.0f} ms", flush=True)
    print()
    described = {v: " ".join(filter(None, [lib or "this build", opts])) for v, (lib, opts) in variants.items()}
    print(f"B0 {args.mode} b={args.batch} {args.size}², {args.steps} steps from a fresh JVM, {args.pairs} pairs; "
          f"A = {described['A']}, B = {described['B']}")
    report(runs, args.steps)


if __name__ == "__main__":
    main()
