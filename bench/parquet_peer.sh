#!/usr/bin/env bash
# parquet_peer.sh - the Parquet export/import benchmark (issue 5) with DuckDB
# as the peer, in one run:
#   1. bench_parquet exports a generated ticks table (all 35 columns; made once
#      in WORK/table, default 20,000,000 rows): partitioned (1 and 2 threads)
#      and single-file (one writer), zstd and snappy, timestamps in ns (native)
#      and in us (--spark-compatible, the unit DuckDB writes).
#   2. DuckDB (@duckdb/node-api from bench/package-lock.json,
#      bench/parquet_duckdb.mjs) loads our single-file zstd us export into a
#      table (untimed), then COPY ... TO parquet (zstd, snappy) and reads its
#      zstd file back (aggregate over every column; CREATE TABLE AS), 1 and 2
#      threads.
#   3. bench_parquet imports DuckDB's zstd file (and our own single-file zstd
#      ns export) into a fresh table per pass, 1 and 2 threads.
# Then prints the ratios: ours/DuckDB rows/s at equal thread counts, and
# bytes per row at equal codec and timestamp unit.
#
# usage: bench/parquet_peer.sh [BUILD_DIR] [--work DIR] [--rows N] [--runs K] [--quick]
#        BUILD_DIR default build; WORK default /tmp/tl_pq_bench (kept between
#        runs: the table, about 0.6 GB for 20 M rows, plus ~6 GB of Parquet and
#        DuckDB files). --quick: zstd only, us only for the partitioned export.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=build
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then BUILD=$1; shift; fi
WORK=/tmp/tl_pq_bench ROWS=20000000 RUNS=3 QUICK=0
while [ $# -gt 0 ]; do
    case $1 in
    --work) WORK=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    *) echo "usage: $0 [BUILD_DIR] [--work DIR] [--rows N] [--runs K] [--quick]" >&2; exit 2 ;;
    esac
done
BP=$BUILD/bench/bench_parquet
[ -x "$BP" ] || { echo "parquet_peer: build $BUILD first" >&2; exit 1; }
[ -d bench/node_modules/@duckdb ] || { echo "parquet_peer: run 'npm ci' in bench/ first" >&2; exit 1; }
mkdir -p "$WORK"
LOG=$WORK/results.txt
: >"$LOG"
say() { echo "$@" | tee -a "$LOG"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

say "# parquet_peer $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo ?), $(nproc) cores, load $(load)"
common=(--table "$WORK/table" --work "$WORK" --rows "$ROWS" --runs "$RUNS")

# 1. our export
"$BP" "${common[@]}" --layouts partitioned --codecs zstd --units us,ns --threads 1,2 | tee -a "$LOG"
"$BP" "${common[@]}" --layouts single --codecs zstd --units us,ns | tee -a "$LOG"
if [ "$QUICK" = 0 ]; then
    "$BP" "${common[@]}" --layouts partitioned,single --codecs snappy --units us --threads 2 |
        tee -a "$LOG"
fi
say "# load after our export: $(load)"

# 2. DuckDB
codecs=zstd,snappy
[ "$QUICK" = 0 ] || codecs=zstd
node bench/parquet_duckdb.mjs --source "$WORK/ours_single_zstd_us.parquet" --work "$WORK" \
    --runs "$RUNS" --codecs "$codecs" | tee -a "$LOG"
say "# load after DuckDB: $(load)"

# 3. our import of DuckDB's file (and of our own)
"$BP" "${common[@]}" --no-export --threads 1,2 --import "$WORK/duck_zstd.parquet" \
    --import "$WORK/ours_single_zstd_ns.parquet" | tee -a "$LOG"
say "# load at the end: $(load)"

# Ratios from the lines above (this run only).
/usr/bin/python3 - "$LOG" <<'EOF' | tee -a "$LOG"
import re, sys
log = open(sys.argv[1]).read()
num = r"([\d.]+)"
ours = {}
for m in re.finditer(r"^(export|import) (\S+) codec=(\S+) unit=(\S+) threads=(\d+): median\s+([\d.]+) M rows/s.*?([\d.]+) MB/s, (\d+) rows, (\d+) bytes = ([\d.]+) B/row(?:.*input (\S+))?", log, re.M):
    op, layout, codec, unit, th = m[1], m[2], m[3], m[4], int(m[5])
    key = (op, layout, codec, unit, th, m[11] or "")
    ours[key] = dict(rps=float(m[6]), mbs=float(m[7]), bpr=float(m[10]))
duck = {}
for m in re.finditer(r"^duckdb (\S+) codec=(\S+) threads=(\d+): median ([\d.]+) M rows/s.*?([\d.]+) MB/s, (\d+) rows, (\d+) bytes = ([\d.]+) B/row", log, re.M):
    duck[(m[1], m[2], int(m[3]))] = dict(rps=float(m[4]), mbs=float(m[5]), bpr=float(m[8]))

print("# ratios: ours / DuckDB rows/s at the same thread count (same run); > 1 = ours faster; goal >= 1.5")
for (op, layout, codec, unit, th, inp), o in sorted(ours.items()):
    if op == "export":
        d = duck.get(("copy", codec, th))
        if d:
            print(f"export {layout:11s} {codec:6s} {unit} {th}T: {o['rps']:.2f} vs DuckDB COPY {d['rps']:.2f} M rows/s = x{o['rps'] / d['rps']:.2f}")
    else:
        for dop in ("agg", "ctas"):
            d = duck.get((dop, "zstd", th))
            if d:
                print(f"import {inp} {th}T: {o['rps']:.2f} vs DuckDB read_parquet {dop} {d['rps']:.2f} M rows/s = x{o['rps'] / d['rps']:.2f}")
print("# sizes: bytes per row, ours / DuckDB at the same codec (DuckDB: us timestamps); goal <= 1")
for (op, layout, codec, unit, th, inp), o in sorted(ours.items()):
    if op != "export" or (th != 1 and layout == "partitioned" and ("export", layout, codec, unit, 1, "") in ours):
        continue
    d = duck.get(("copy", codec, 1)) or duck.get(("copy", codec, 2))
    if d:
        print(f"{layout:11s} {codec:6s} {unit}: {o['bpr']:.3f} vs DuckDB {d['bpr']:.3f} B/row = x{o['bpr'] / d['bpr']:.3f}")
EOF
