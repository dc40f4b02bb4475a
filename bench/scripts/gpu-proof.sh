#!/usr/bin/env bash
# The whole GPU check in one call, on a GPU machine without a JDK or Maven (`bash cuda/gpu-bundle.sh` prepares .gpu/
# on the build machine), from the repository root:
#
#   bash bench/scripts/gpu-proof.sh [LOGDIR]
#
# 1. the cuda module's tests (conformance on cuda:0, mixed precision, cuDNN), while PyTorch writes the EfficientNet
#    golden files on the CPU: the reduced models of the test suite and a full-size B0 with its logits;
# 2. the torchvision golden test on cuda:0 against those files (when .gpu/eff-test-classes holds efficientnet's
#    test classes), and full-size B0 logits from Vertebra on the CPU and on cuda:0 against PyTorch's;
# 3. B0 training throughput beside PyTorch (bench/scripts/gpu-bench.sh: fp32, tf32, bf16, a profiled fp32 step);
# 4. the demo on cuda:0 (VERTEBRA_PROOF_DEMO_EPOCHS=E shortens it to E epochs).
# Each part logs to LOGDIR (default gpu-logs); LOGDIR/golden.tar holds the regenerated golden files.
set -uo pipefail
logs=${1:-gpu-logs}
mkdir -p "$logs"
gpu=${VERTEBRA_GPU_DIR:-.gpu}
export VERTEBRA_JAVA=$gpu/jre/bin/java VERTEBRA_LIB=$gpu/lib PYTHONUNBUFFERED=1
golden=$(mktemp -d)
trap 'rm -rf "$golden"' EXIT
start=$(date +%s)
stamp() { echo "== $1 at $(( $(date +%s) - start )) s"; }

stamp "tests and golden files"
VERTEBRA_TIMING_BATCH=0 timeout 240 bash cuda/gpu-check.sh > "$logs/tests.log" 2>&1 &
tests=$!
{
    python3 -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__)'
    timeout 120 python3 efficientnet/src/test/python/make_effnet_golden.py &&
        tar -cf "$logs/golden.tar" -C efficientnet/src/test/resources golden
    timeout 120 python3 efficientnet/src/test/python/make_effnet_golden.py --full-b0 "$golden"
} > "$logs/golden.log" 2>&1
wait $tests
echo "tests exit status $?"
grep -E '^\[ +[0-9]+ (tests (successful|failed|skipped|aborted)|containers failed)' "$logs/tests.log"
sed -n '/^== batch norm and column sums timing/,/^total BN/p' "$logs/tests.log"

if [[ -d $gpu/eff-test-classes ]]; then
    stamp "torchvision golden test on cuda:0"
    cp_entries=$gpu/eff-test-classes:efficientnet/src/test/resources
    for jar in "$gpu"/lib/*.jar; do [[ $jar == *console-standalone* ]] || cp_entries=$cp_entries:$jar; done
    timeout 90 "$VERTEBRA_JAVA" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xss4m \
        -Dvertebra.test.device=cuda -jar "$(ls "$gpu"/lib/junit-platform-console-standalone*.jar | head -1)" execute \
        --disable-banner --disable-ansi-colors --details=tree -cp "$cp_entries" \
        --select-class dev.vertebra.efficientnet.TorchvisionGoldenTest > "$logs/golden-test.log" 2>&1
    echo "golden test exit status $?"
    grep -E '^\[ +[0-9]+ tests (successful|failed)' "$logs/golden-test.log"
fi

stamp "full-size B0 logits"
for device in cpu cuda; do
    echo "-- $device"
    rm -f "$golden/vertebra.npy"
    timeout 120 ./vertebra logits --model b0 --weights "$golden/b0.safetensors" --input "$golden/input.npy" \
        --output "$golden/vertebra.npy" --device $device 2>&1 | grep -vE '^WARNING' &&
        python3 efficientnet/src/test/python/make_effnet_golden.py --compare "$golden"
done 2>&1 | tee "$logs/logits.log"

stamp "benchmarks"
VERTEBRA_BENCH_PROFILE=1 bash bench/scripts/gpu-bench.sh 2>&1 | tee "$logs/bench.log" | grep -E '^==|img/s'

stamp "demo on cuda:0"
timeout 200 ./vertebra demo --device cuda --data /tmp/vertebra-demo-data --out /tmp/vertebra-demo-run \
    ${VERTEBRA_PROOF_DEMO_EPOCHS:+--epochs "$VERTEBRA_PROOF_DEMO_EPOCHS"} > "$logs/demo.log" 2>&1
echo "demo exit status $?"
tail -12 "$logs/demo.log"
stamp "done"
