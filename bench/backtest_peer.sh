#!/usr/bin/env bash
# backtest_peer.sh - the backtest benchmark with its peers, in one run:
#   1. bench_backtest on a generated ticks table (made once in WORK/table:
#      default 100,000,000 rows): warm (mmap, uring) and cold (page cache
#      dropped; uring with O_DIRECT too), 1 and 2 threads; bytes per row read;
#      and it writes the kernel's inputs as .npy for the Numba peer.
#   2. fio: the disk's sequential read bandwidth (O_DIRECT, 1 MiB, QD 32,
#      io_uring), the yardstick of the cold figures.
#   3. Numba (Debian python3-numba, /usr/bin/python3): the same rule over the
#      same rows held in numpy arrays, 1 and 2 threads; trades and PnL must
#      equal ours bit for bit.
#   4. DuckDB (@duckdb/node-api from bench/package-lock.json): reading the
#      kernel columns of the same rows from zstd Parquet, 1 and 2 threads.
# Then prints the ratios.
#
# usage: bench/backtest_peer.sh [BUILD_DIR] [--work DIR] [--rows N] [--runs K]
#        BUILD_DIR default build; WORK default /tmp/tl_bt_bench (kept between runs,
#        about 4 GB for 100 M rows plus the .npy, CSV and Parquet copies)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=build
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then BUILD=$1; shift; fi
WORK=/tmp/tl_bt_bench ROWS=100000000 RUNS=5
while [ $# -gt 0 ]; do
    case $1 in
    --work) WORK=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "usage: $0 [BUILD_DIR] [--work DIR] [--rows N] [--runs K]" >&2; exit 2 ;;
    esac
done
BB=$BUILD/bench/bench_backtest
TL=$BUILD/tools/ticklake
[ -x "$BB" ] && [ -x "$TL" ] || { echo "backtest_peer: build $BUILD first" >&2; exit 1; }
mkdir -p "$WORK"
LOG=$WORK/results.txt
: >"$LOG"
say() { echo "$@" | tee -a "$LOG"; }

say "# backtest_peer $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo ?), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. ticklake
npy=()
[ -f "$WORK/npy/parts.npy" ] || npy=(--npy "$WORK/npy")
"$BB" --table "$WORK/table" --rows "$ROWS" --runs "$RUNS" --threads 1,2 --io mmap,uring \
    --cold --direct "${npy[@]}" | tee -a "$LOG"

# 2. fio
fio_mbs=0
if command -v fio >/dev/null; then
    fio --name=seqread --filename="$WORK/fio.dat" --size=2G --rw=read --bs=1M --direct=1 \
        --ioengine=io_uring --iodepth=32 --numjobs=1 --output-format=json >"$WORK/fio.json" 2>/dev/null ||
        fio --name=seqread --filename="$WORK/fio.dat" --size=2G --rw=read --bs=1M --direct=1 \
            --ioengine=psync --numjobs=1 --output-format=json >"$WORK/fio.json"
    fio_mbs=$(/usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(round(j["jobs"][0]["read"]["bw_bytes"]/1e6))' "$WORK/fio.json")
    say "fio sequential read (O_DIRECT, 1 MiB, QD 32): $fio_mbs MB/s"
else
    say "fio not installed: no disk yardstick"
fi

# 3. Numba
if /usr/bin/python3 -c 'import numba' 2>/dev/null; then
    /usr/bin/python3 bench/backtest_numba.py "$WORK/npy" --runs "$RUNS" | tee -a "$LOG"
else
    say "python3-numba not installed: Numba peer skipped"
fi

# 4. DuckDB
if [ -d bench/node_modules/@duckdb ]; then
    if [ ! -f "$WORK/kernel.parquet" ]; then
        "$TL" scan "$WORK/table" --ordered --columns timestamp,strike,price,bp0,sp0,volume \
            >"$WORK/kernel.csv"
    fi
    node bench/backtest_duckdb.mjs --csv "$WORK/kernel.csv" --parquet "$WORK/kernel.parquet" \
        --runs "$RUNS" | tee -a "$LOG"
    rm -f "$WORK/kernel.csv"
else
    say "DuckDB peer skipped: run 'npm ci' in bench/"
fi

# Ratios (warm, per thread count) from the lines above.
/usr/bin/python3 - "$LOG" "$fio_mbs" <<'EOF' | tee -a "$LOG"
import re, sys
log = open(sys.argv[1]).read()
fio = float(sys.argv[2])
ours = {}
for m in re.finditer(r"^(warm|cold) io=(\S+)\s+threads=(\d+): median\s+([\d.]+) M rows/s.*?([\d.]+) B/row read, ([\d.]+) GB/s", log, re.M):
    ours[(m[1], m[2], int(m[3]))] = (float(m[4]), float(m[5]), float(m[6]))
peer = {}
for m in re.finditer(r"^(numba|duckdb) threads=(\d+): median ([\d.]+) M rows/s", log, re.M):
    peer[(m[1], int(m[2]))] = float(m[3])
print("# ratios (ticklake rows/s over peer rows/s, same run)")
for (cache, io, th), (rps, bpr, gbs) in sorted(ours.items()):
    parts = [f"{cache} {io} {th}T: {rps:.1f} M rows/s"]
    for name in ("numba", "duckdb"):
        if (name, th) in peer:
            parts.append(f"x{rps / peer[(name, th)]:.2f} vs {name}")
    if cache == "cold" and fio > 0:
        parts.append(f"{gbs * 1000:.0f} MB/s = {gbs * 1000 / fio * 100:.0f}% of fio")
    print(", ".join(parts))
EOF
