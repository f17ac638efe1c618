#!/usr/bin/env bash
# tools/demo.sh - install what is missing, build ticklake (Release) into
# build/, then run the demo: generate sample ticks (2 symbols x 2 days x
# 1,000,000 rows, each symbol-day sorted by contract) into segment files,
# inspect one, verify all, dump a few rows.
# Works from any directory. Output data: build/demo-segments/ (recreated).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tools/deps.sh
tl_install_deps

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs" --target ticklake

TL=build/tools/ticklake
DATA=build/demo-segments
rm -rf "$DATA"

step() {
    echo
    echo "\$ $*"
    "$@"
}

step "$TL" --version
step "$TL" gen --seed 42 --days 2 --rows-per-day 1000000 --symbols BANKNIFTY,NIFTY --sorted --segments "$DATA"
step "$TL" inspect "$DATA/BANKNIFTY_2025-11-17.tls"
step "$TL" verify "$DATA"/*.tls
step "$TL" dump "$DATA/NIFTY_2025-11-18.tls" --offset 500000 --limit 5
echo
echo "demo: done. Try: $TL --help"
