#!/usr/bin/env bash
# append_peer.sh - ingest of the same tick CSV, side by side in one run:
#   ticklake: `ticklake append` into a fresh ticks table (CSV parse, split by
#             symbol/day, stable sort by expiry, opt_type, strike, timestamp,
#             segment files, fsyncs, one commit);
#   DuckDB:   read_csv (explicit types) -> COPY to hive-partitioned zstd
#             Parquet (symbol=/date=), rows ordered by the same key
#             (duckdb_size.mjs --ingest; DuckDB from bench/package-lock.json).
# Prints each run and the medians, rows/s, bytes/row and the time ratio.
#
# usage: bench/append_peer.sh [BUILD_DIR] [--days D] [--rows-per-day R] [--runs N]
#        (BUILD_DIR default: build; needs `npm ci` done in bench/)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=build
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then BUILD=$1; shift; fi
DAYS=2 RPD=1000000 RUNS=3
while [ $# -gt 0 ]; do
    case $1 in
    --days) DAYS=$2; shift 2 ;;
    --rows-per-day) RPD=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "usage: $0 [BUILD_DIR] [--days D] [--rows-per-day R] [--runs N]" >&2; exit 2 ;;
    esac
done
TL=$BUILD/tools/ticklake
[ -x "$TL" ] || { echo "append_peer: $TL not built" >&2; exit 1; }
[ -d bench/node_modules/@duckdb ] || { echo "append_peer: run 'npm ci' in bench/ first" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/append_peer.XXXXXX")
trap 'rm -rf "$W"' EXIT

"$TL" gen --seed 42 --days "$DAYS" --rows-per-day "$RPD" --out "$W/ticks.csv" >/dev/null
rows=$((DAYS * 2 * RPD))
echo "append_peer: $rows rows ($(du -m "$W/ticks.csv" | cut -f1) MB CSV, arrival order), $RUNS runs, $(nproc) cores"
cat "$W/ticks.csv" >/dev/null # warm the page cache (untimed)

tl_s=() dk_s=()
for r in $(seq 1 "$RUNS"); do
    rm -rf "$W/t" "$W/pq"
    "$TL" create "$W/t" --schema ticks >/dev/null
    t0=$(date +%s.%N)
    "$TL" append "$W/t" "$W/ticks.csv" --json >"$W/tl.json"
    t1=$(date +%s.%N)
    tl=$(echo "$t1 - $t0" | bc -l)
    tl_bytes=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' "$W/tl.json")
    node bench/duckdb_size.mjs --csv "$W/ticks.csv" --out "$W/pq" --ingest --threads "$(nproc)" >"$W/dk.json"
    read -r dk dk_bytes < <(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["write_seconds"], d["file_bytes"])' "$W/dk.json")
    printf '  run %d: ticklake %.2f s (%s B), DuckDB %.2f s (%s B)\n' "$r" "$tl" "$tl_bytes" "$dk" "$dk_bytes"
    tl_s+=("$tl") dk_s+=("$dk")
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
tm=$(med "${tl_s[@]}") dm=$(med "${dk_s[@]}")
ver=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["duckdb_version"])' "$W/dk.json")
printf 'ticklake append: median %.2f s = %.2f M rows/s, %.1f B/row\n' "$tm" "$(echo "$rows / $tm / 1000000" | bc -l)" "$(echo "$tl_bytes / $rows" | bc -l)"
printf 'DuckDB %s COPY to partitioned Parquet: median %.2f s = %.2f M rows/s, %.1f B/row\n' "$ver" "$dm" "$(echo "$rows / $dm / 1000000" | bc -l)" "$(echo "$dk_bytes / $rows" | bc -l)"
printf 'ratio ticklake / DuckDB time: %.2f\n' "$(echo "$tm / $dm" | bc -l)"
