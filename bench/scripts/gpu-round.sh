#!/usr/bin/env bash
# One round of GPU performance work in one call, on a GPU machine without a JDK or Maven (`bash cuda/gpu-bundle.sh`
# prepares .gpu/ on the build machine), from the repository root:
#
#   VERTEBRA_BENCH_AB="-Dswitch=true;-Dother=true" bash bench/scripts/gpu-round.sh LOGDIR
#
# 1. the cuda module's tests and the ChannelTiming probe (cuda/gpu-check.sh, ConvTiming skipped);
# 2. Nsight Compute over KernelProfile's batch-norm and depthwise kernels (cuda/gpu-ncu.sh);
# 3. B0 training beside PyTorch in fp32, tf32 and bf16, the A/B variants of VERTEBRA_BENCH_AB, Vertebra fp32 at
#    batch 32 (VERTEBRA_BENCH_BATCHES; with each run's host time to queue a step: host- or kernel-bound?), and
#    profiled fp32 and bf16 steps (bench/scripts/gpu-bench.sh; VERTEBRA_BENCH_WARMUP / VERTEBRA_BENCH_STEPS apply
#    to both sides).
# About four minutes on an H200 with two A/B variants. Logs go to LOGDIR (default gpu-logs): tests.log, ncu.csv,
# ncu.log, bench.log; the summary goes to stdout.
set -uo pipefail
logs=${1:-gpu-logs}
mkdir -p "$logs"
gpu=${VERTEBRA_GPU_DIR:-.gpu}
export VERTEBRA_JAVA=$gpu/jre/bin/java VERTEBRA_LIB=$gpu/lib PYTHONUNBUFFERED=1
start=$(date +%s)
stamp() { echo "== $1 at $(( $(date +%s) - start )) s"; }

stamp "tests"
VERTEBRA_TIMING_BATCH=0 timeout 150 bash cuda/gpu-check.sh > "$logs/tests.log" 2>&1
echo "tests exit status $?"
grep -E '^\[ +[0-9]+ (tests (successful|failed|skipped|aborted)|containers failed)' "$logs/tests.log"
sed -n '/^== batch norm and column sums timing/,/^total BN/p' "$logs/tests.log"

stamp "kernel profile"
timeout 90 bash cuda/gpu-ncu.sh "$logs/ncu.csv" > "$logs/ncu.log" 2>&1
echo "ncu exit status $?"
grep -vE '^WARNING' "$logs/ncu.log" | tail -30

stamp "benchmarks"
VERTEBRA_BENCH_PROFILE=1 VERTEBRA_BENCH_BATCHES=${VERTEBRA_BENCH_BATCHES-32} bash bench/scripts/gpu-bench.sh 2>&1 |
    tee "$logs/bench.log" | grep -E '^==|img/s|host time'

stamp "done"
