#!/usr/bin/env bash
# run_all.sh - every benchmark of the segment format in one run, for
# bench/RESULTS.md: generator throughput, per-encoding encode/decode
# throughput, segment-level decode of every tick column (kernel set marked),
# and storage size against DuckDB zstd Parquet (V1 and V2).
#
#   bench/run_all.sh [OUTDIR]      (default build-bench/results-<date>)
#
# Builds Release into $BUILD_DIR (default build-bench). Run it on an idle
# machine: it prints the machine, commit and load first, and each benchmark
# prints its own command line. Takes about 3 minutes on 2 cores.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-bench}
OUT=${1:-$BUILD/results-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTL_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target bench_gen bench_enc bench_decode bench_size >/dev/null

{
  echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "commit:  $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "load:    $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

run() {
  local name=$1; shift
  echo; echo "== $name: $*"
  "$@" 2>&1 | tee "$OUT/$name.txt"
}
run gen "$BUILD/bench/bench_gen"
run enc "$BUILD/bench/bench_enc"
run decode "$BUILD/bench/bench_decode" --json "$OUT/decode.json"
run size_v1 env BUILD_DIR="$BUILD" "$ROOT/bench/size.sh"
run size_v2 env BUILD_DIR="$BUILD" "$ROOT/bench/size.sh" --parquet-version V2
echo; echo "run_all: outputs in $OUT"
