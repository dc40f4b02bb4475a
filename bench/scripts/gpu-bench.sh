#!/usr/bin/env bash
# EfficientNet-B0 training throughput on a GPU, Vertebra next to PyTorch on the same card, in one call:
# batch 64, 224², 8 outputs, BCE-with-logits, SGD momentum 0.9.
#
# Runs on a GPU machine without a JDK or Maven from a folder holding a jlinked runtime and the jars:
#   ../shared/gpu/make-runtime.sh .gpu java.xml,jdk.zipfs      # on the build machine: .gpu/jre
#   ./vertebra dist /tmp/dist && cp /tmp/dist/vertebra-*.jar /tmp/dist/{picocli,slf4j,jmh-core,jopt}*.jar .gpu/lib/
#   bash bench/scripts/gpu-bench.sh                            # on the GPU machine, from the repository root
set -uo pipefail
gpu=${VERTEBRA_GPU_DIR:-.gpu}
export VERTEBRA_JAVA=$gpu/jre/bin/java VERTEBRA_LIB=$gpu/lib
nvidia-smi -L
vertebra() {
    VERTEBRA_JAVA_OPTS="$1 -Xmx32g" timeout 120 ./vertebra bench-model --device cuda --model b0 --batch 64 \
        --size 224 --mode train --steps 6 --warmup 2 2>&1 | grep -vE '^WARNING|^\s+at ' | tail -12
}
torch() {
    timeout 90 python3 bench/scripts/torch_effnet_gpu.py --batch 64 --size 224 --precision "$1" --steps 10 2>&1 |
        grep -vE 'step [0-9]' | tail -3
}
echo "== Vertebra fp32 (cuDNN)"; vertebra ""
echo "== Vertebra fp32 (own kernels)"; vertebra "-Dvertebra.cudnn=false"
echo "== Vertebra tf32 (cuDNN)"; vertebra "-Dvertebra.cuda.tf32=true"
echo "== PyTorch fp32"; torch fp32
echo "== PyTorch tf32"; torch tf32
echo "== PyTorch bf16"; torch bf16
