#!/usr/bin/env bash
# Nsight Compute over KernelProfile's workload (batch norm + SiLU and depthwise convolutions of EfficientNet-B0 at
# batch 64) on a GPU machine without a JDK (`bash cuda/gpu-bundle.sh` prepares .gpu/ on the build machine): each
# kernel's duration, DRAM throughput, achieved occupancy and the share of the memory and compute peaks it reached,
# as CSV. Clocks are left as the card has them (--clock-control none). From the repository root:
#
#   bash cuda/gpu-ncu.sh [OUTFILE.csv]
set -uo pipefail
gpu=${VERTEBRA_GPU_DIR:-.gpu}
out=${1:-kernel-profile.csv}
ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
[[ -n $ncu ]] || { echo "gpu-ncu: no ncu on this machine"; exit 2; }
cp_entries=$gpu/test-classes
for jar in "$gpu"/lib/*.jar; do [[ $jar == *console-standalone* ]] || cp_entries=$cp_entries:$jar; done
metrics=gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum
metrics=$metrics,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__throughput.avg.pct_of_peak_sustained_elapsed
metrics=$metrics,sm__warps_active.avg.pct_of_peak_sustained_active,launch__registers_per_thread,launch__grid_size
"$ncu" --clock-control none --target-processes all --csv --page raw --metrics "$metrics" \
    -k 'regex:batch_norm|depthwise|column' \
    "$gpu/jre/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "$cp_entries" \
    dev.vertebra.cuda.KernelProfile "${VERTEBRA_PROFILE_BATCH:-64}" > "$out"
status=$?
# Kernel name, duration and DRAM throughput of each profiled launch (the CSV's first lines are ncu's own).
python3 - "$out" <<'PY'
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 5]
if not rows:
    sys.exit("gpu-ncu: no kernel rows in " + sys.argv[1])
head = rows[0]
col = {name: head.index(name) for name in head}
def get(r, name):
    return r[col[name]] if name in col else "?"
for r in rows[2:]:
    print("%-40s %9s ns  DRAM %6s%%  SM %6s%%  warps %6s%%  regs %s  grid %s" % (
        get(r, "Kernel Name")[:40], get(r, "gpu__time_duration.sum"),
        get(r, "dram__throughput.avg.pct_of_peak_sustained_elapsed"),
        get(r, "sm__throughput.avg.pct_of_peak_sustained_elapsed"),
        get(r, "sm__warps_active.avg.pct_of_peak_sustained_active"),
        get(r, "launch__registers_per_thread"), get(r, "launch__grid_size")))
PY
exit $status
