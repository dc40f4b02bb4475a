#!/usr/bin/env bash
# Runs the cuda module's tests on a GPU machine that has no JDK and no Maven.
#
# Prepare .gpu/ on a build machine with `bash cuda/gpu-bundle.sh` (a jlinked Java 25 in .gpu/jre, the jars with the
# JUnit console launcher in .gpu/lib, cuda/target/test-classes in .gpu/test-classes). Then, on the GPU machine, from
# the repository root:
#   bash cuda/gpu-check.sh
# Exit status: the JUnit launcher's (0 when every test passed). Everything is logged to stdout.
set -uo pipefail

gpu=${VERTEBRA_GPU_DIR:-.gpu}
java=$gpu/jre/bin/java
echo "== GPU"
nvidia-smi -L || echo "nvidia-smi failed (no driver?)"
echo "== CUDA libraries"
ldconfig -p | grep -E 'libcuda\.so|cublas|nvrtc|cudnn' || echo "(none in the ld.so cache)"
find / \( -name 'libcublas.so*' -o -name 'libnvrtc.so*' -o -name 'libcudnn.so*' \) -not -path '/proc/*' 2>/dev/null | head -20
echo "VERTEBRA_CUDA_LIB_PATH=${VERTEBRA_CUDA_LIB_PATH:-}"

[[ -x $java ]] || { echo "missing $java: see the header of this script"; exit 2; }
launcher=$(ls "$gpu"/lib/junit-platform-console-standalone*.jar 2>/dev/null | head -1)
[[ -n $launcher ]] || { echo "missing $gpu/lib/junit-platform-console-standalone*.jar"; exit 2; }
[[ -d $gpu/test-classes/dev/vertebra/cuda ]] || { echo "missing $gpu/test-classes (cuda/target/test-classes)"; exit 2; }
"$java" -version 2>&1 | head -1

cp_entries=$gpu/test-classes
for jar in "$gpu"/lib/*.jar; do
  [[ $jar == "$launcher" ]] || cp_entries=$cp_entries:$jar
done

echo "== cuda tests"
start=$(date +%s)
timeout 510 "$java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xss4m \
  -jar "$launcher" execute --disable-banner --disable-ansi-colors --details=tree --details-theme=ascii \
  -cp "$cp_entries" --select-package dev.vertebra.cuda
status=$?
echo "== tests done in $(( $(date +%s) - start )) s, status $status"

# Timing probe (not a test, never changes the exit status): cuDNN vs own kernels on EfficientNet-B0's
# convolution kinds, batch ${VERTEBRA_TIMING_BATCH:-32}. VERTEBRA_TIMING_BATCH=0 skips it.
if [[ ${VERTEBRA_TIMING_BATCH:-32} != 0 ]]; then
  echo "== convolution timing (cuDNN vs own kernels)"
  timeout 60 "$java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
    -cp "$cp_entries" dev.vertebra.cuda.ConvTiming "${VERTEBRA_TIMING_BATCH:-32}" || echo "(timing probe failed: $?)"
fi
# The same for batch norm and the column sums: column kernels vs legacy, batch ${VERTEBRA_CHANNEL_TIMING_BATCH:-64}
# (0 skips it).
if [[ ${VERTEBRA_CHANNEL_TIMING_BATCH:-64} != 0 ]]; then
  echo "== batch norm and column sums timing (column kernels vs legacy)"
  timeout 60 "$java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
    -cp "$cp_entries" dev.vertebra.cuda.ChannelTiming "${VERTEBRA_CHANNEL_TIMING_BATCH:-64}" ||
    echo "(timing probe failed: $?)"
fi
echo "== done in $(( $(date +%s) - start )) s, status $status"
exit $status
