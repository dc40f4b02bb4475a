#!/usr/bin/env bash
# EfficientNet-B0 training throughput on a GPU, Vertebra next to PyTorch on the same card, in one call:
# batch 64, 224², 8 outputs, BCE-with-logits, SGD momentum 0.9, in fp32, tf32 and bf16 (each precision Vertebra
# then PyTorch, so the two runs of a row are minutes apart at most).
#
# Runs on a GPU machine without a JDK or Maven from .gpu/ (`bash cuda/gpu-bundle.sh` on the build machine), from
# the repository root:
#   bash bench/scripts/gpu-bench.sh [precision ...]
# VERTEBRA_BENCH_WARMUP and VERTEBRA_BENCH_STEPS (default 3 and 10) set both sides' warm-up and measured steps.
# VERTEBRA_BENCH_PROFILE=1 adds profiled fp32 and bf16 runs (per-op times of one step); VERTEBRA_BENCH_AB="-D..."
# adds runs with those JVM options (the other side of an A/B switch) after the table, in the precisions of
# VERTEBRA_BENCH_AB_PRECISIONS (default "fp32 bf16"); several variants are separated by ';'. VERTEBRA_BENCH_BATCHES
# (e.g. "32") adds Vertebra fp32 runs at those batch sizes: with the host's time to queue each step, which bench-model
# prints on a GPU, they tell a step bound by the host from one bound by the kernels.
set -uo pipefail
gpu=${VERTEBRA_GPU_DIR:-.gpu}
export VERTEBRA_JAVA=$gpu/jre/bin/java VERTEBRA_LIB=$gpu/lib
nvidia-smi -L
warmup=${VERTEBRA_BENCH_WARMUP:-3}
steps=${VERTEBRA_BENCH_STEPS:-10}
vertebra() {
    VERTEBRA_JAVA_OPTS="-Xmx32g ${jvm_extra:-}" timeout 90 ./vertebra bench-model --device cuda --model b0 \
        --batch "${batch:-64}" --size 224 --mode train --steps "$steps" --warmup "$warmup" --precision "$1" "${@:2}" 2>&1 |
        grep -vE '^WARNING|^\s+at '
}
torch() {
    timeout 60 python3 bench/scripts/torch_effnet_gpu.py --batch 64 --size 224 --precision "$1" --steps "$steps" \
        --warmup "$warmup" 2>&1 |
        grep -vE 'step [0-9]' | tail -3
}
precisions=("$@")
(( ${#precisions[@]} )) || precisions=(fp32 tf32 bf16)
for p in "${precisions[@]}"; do
    echo "== Vertebra $p"; vertebra "$p" | tail -14
    echo "== PyTorch $p"; torch "$p"
done
if [[ -n ${VERTEBRA_BENCH_AB:-} ]]; then
    IFS=';' read -ra variants <<< "$VERTEBRA_BENCH_AB"
    for options in "${variants[@]}"; do
        for p in ${VERTEBRA_BENCH_AB_PRECISIONS:-fp32 bf16}; do
            echo "== Vertebra $p with $options"; jvm_extra=$options vertebra "$p" | tail -14
        done
    done
fi
for b in ${VERTEBRA_BENCH_BATCHES:-}; do
    echo "== Vertebra fp32 at batch $b"; batch=$b vertebra fp32 | tail -14
done
if [[ ${VERTEBRA_BENCH_PROFILE:-0} == 1 ]]; then
    for p in fp32 bf16; do
        echo "== Vertebra $p, profiled"; vertebra "$p" --profile | tail -45
    done
fi
