#!/usr/bin/env bash
# Prepares DIR (default .gpu, which git ignores) for a GPU machine that has no JDK, Maven or network: a jlinked
# Java 25 runtime, the jars, and the test classes that cuda/gpu-check.sh, bench/scripts/gpu-bench.sh and
# bench/scripts/gpu-proof.sh use. What travels there (tracked files plus DIR) must stay within 64 MiB, so the
# plotting and JMH jars stay behind (the demo skips its plots on a runtime without java.desktop).
#
#   bash cuda/gpu-bundle.sh [DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-$root/.gpu}
jdk=$("$root/vertebra" java-home)
# jdk.management: bench-model's allocation figure; jdk.jfr: flight recordings; java.xml: the JUnit launcher.
modules=java.base,java.logging,java.management,java.xml,jdk.incubator.vector,jdk.jfr,jdk.management
modules=$modules,jdk.unsupported,jdk.zipfs
rm -rf "$dir/jre" "$dir/lib" "$dir/test-classes" "$dir/eff-test-classes"
mkdir -p "$dir"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=zip-9 \
    --output "$dir/jre" 2>&1 | grep -v incubator || true
[[ -x $dir/jre/bin/java ]] || { echo "gpu-bundle: jlink made no runtime in $dir/jre" >&2; exit 1; }
# libjvm.so's symbol table (~5 MiB) is only for debuggers; the 64 MiB limit needs the room.
strip --strip-unneeded "$dir/jre/lib/server/libjvm.so"
dist=$(mktemp -d)
trap 'rm -rf "$dist"' EXIT
"$root/vertebra" dist "$dist"
mkdir -p "$dir/lib" "$dir/eff-test-classes"
cp "$dist"/{vertebra,picocli,slf4j,junit-platform-console}*.jar "$root"/core/target/vertebra-core-*-tests.jar "$dir/lib/"
cp -r "$dist/test/cuda" "$dir/test-classes"
# The golden files travel as tracked files; gpu-proof.sh puts efficientnet/src/test/resources on the class path.
(cd "$dist/test/efficientnet" && tar cf - --exclude=golden .) | (cd "$dir/eff-test-classes" && tar xf -)
tracked=$(cd "$root" && git ls-files -z | xargs -0 stat -c %s | awk '{s += $1} END {print s}')
bundle=$(du -sb "$dir" | cut -f1)
echo "gpu-bundle: $dir ready; tracked files $((tracked >> 20)) MiB + bundle $((bundle >> 20)) MiB" \
     "= $(((tracked + bundle) >> 20)) MiB of the 64 MiB that may travel"
