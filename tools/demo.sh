#!/usr/bin/env bash
# tools/demo.sh - install what is missing, build ticklake (Release) into
# build/, then run the demo: generate sample ticks (2 symbols x 2 days x
# 1,000,000 rows, each symbol-day sorted by contract) into segment files,
# inspect one, verify all, dump a few rows; then the table part: create a
# ticks table, append to it in several batches (generated rows and a CSV
# file), show its history, describe the latest and an older version (time
# travel), print rows of one partition, checkpoint and vacuum (dry run);
# then scans (explain, count, grouped aggregates) and the EMA-crossover
# backtest (latest, version 1, a parameter sweep with a trade log).
# Works from any directory. Output data: build/demo-segments/ and
# build/demo-table/ (recreated).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tools/deps.sh
tl_install_deps

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs" --target ticklake

TL=build/tools/ticklake
DATA=build/demo-segments
TABLE=build/demo-table
PQ=build/demo-parquet
rm -rf "$DATA" "$TABLE" "$PQ" build/demo-day3.csv

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

# tables: generate -> create -> append in several batches -> time travel
step "$TL" create "$TABLE" --schema ticks
step "$TL" gen --seed 42 --days 2 --rows-per-day 1000000 --table "$TABLE"
step "$TL" gen --seed 43 --days 1 --start 2025-11-19 --rows-per-day 500000 --out build/demo-day3.csv
step "$TL" append "$TABLE" build/demo-day3.csv --app-id demo-import --app-version 20251119
step "$TL" append "$TABLE" build/demo-day3.csv --app-id demo-import --app-version 20251119
step "$TL" gen --seed 44 --days 1 --start 2025-11-20 --rows-per-day 500000 --symbols FINNIFTY --table "$TABLE"
step "$TL" history "$TABLE"
step "$TL" describe "$TABLE"
step "$TL" describe "$TABLE" --version 1
step "$TL" cat "$TABLE" --symbol NIFTY --date 2025-11-19 --columns timestamp,expiry,opt_type,strike,price,bp0,sp0 --limit 5
step "$TL" checkpoint "$TABLE"
step "$TL" vacuum "$TABLE" --dry-run

# scans and the backtest
step "$TL" scan "$TABLE" --date 2025-11-18 --symbols NIFTY --where "opt_type = 'CE' and strike between 25900 and 26100" --explain
step "$TL" scan "$TABLE" --where "opt_type = 'PE' and volume >= 10" --count
step "$TL" scan "$TABLE" --agg "count, sum(volume), min(price), max(price), avg(price)" --group-by symbol,day
step "$TL" backtest "$TABLE"
step "$TL" backtest "$TABLE" --version 1
step "$TL" backtest "$TABLE" --fast 5,8,13 --slow 21,34 --trades build/demo-trades.csv
step head -n 4 build/demo-trades.csv

# Parquet: export (Hive partitions, and a Delta Lake table), import back
mkdir -p "$PQ"
step "$TL" export "$TABLE" --to "$PQ/hive" --symbols NIFTY
step "$TL" export "$TABLE" --to "$PQ/delta" --version 1 --delta
step "$TL" import "$PQ/table" "$PQ/hive" --create
step "$TL" scan "$PQ/table" --agg "count, sum(volume), min(price), max(price)" --group-by day
echo
echo "demo: done. Try: $TL --help"
