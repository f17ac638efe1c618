#!/usr/bin/env bash
# bench/rss.sh - peak resident memory (RSS) of import, scan and backtest as
# the input grows past a quarter of RAM (import) and past RAM (scan,
# backtest); figures in tests/reliability/RESOURCES.md.
#
#   bench/rss.sh [BUILD_DIR] [phase...]
#
# Phases (default: import scan clean):
#   import  gen a ticks table of DAYS_A days (2 symbols x 1 M rows/day,
#           sorted), export it as one zstd Parquet file (the whole table: >
#           6 GiB at the default 100 days) and as files of its first quarter
#           and half, then import each into a new table (--create), deleting
#           the imported table after each run; the Parquet files and the
#           source table are removed at the end of the phase unless KEEP=1.
#   scan    grow a table in steps (days: SCAN_STEPS, default "100 200 450",
#           i.e. 1x, 2x, 4.5x; 450 days = 900 M rows, ~28 GB, more than the
#           machine's 24 GiB of RAM) and at each step run: a full scan that
#           decodes every column (--agg of max() over all 35 columns) with
#           --io mmap and --io uring, and the backtest with both.
#   clean   remove the data under WORK (rss.tsv and the time/out/err
#           files of each run stay).
# Every measured command runs under /usr/bin/time -v (peak RSS = "Maximum
# resident set size", the process's VmHWM) with nice -n 10; results are
# appended to WORK/rss.tsv: phase, name, input bytes, input rows, peak RSS
# KiB, wall seconds, the command.
#
# Environment: WORK (default /tmp/tl_res), DAYS_A (100), SCAN_STEPS,
# THREADS (2), MAX_GB (32: refuse to start a phase whose data would pass
# it or leave less than 4 GB free), KEEP=1 (keep data), DROP_CACHES=1 (sync
# and drop the page cache before each scan: needs root; off by default).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build-res}
shift || true
phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(import scan clean)
tl=$build/tools/ticklake
[ -x "$tl" ] || { echo "rss.sh: $tl not built" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "rss.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }
work=${WORK:-/tmp/tl_res}
days_a=${DAYS_A:-100}
steps=(${SCAN_STEPS:-100 200 450})
threads=${THREADS:-2}
max_gb=${MAX_GB:-32}
start=2025-11-17 # a Monday: D weekdays end after D/5 weeks
mkdir -p "$work"
tsv=$work/rss.tsv
[ -s "$tsv" ] || printf 'phase\tname\tinput_bytes\tinput_rows\tpeak_rss_kib\twall_s\tcommand\n' >"$tsv"
# the binary's sources: BUILD_DIR/CMakeCache.txt names them (a clean tree
# made with `git archive` shows no git state: its commit is in SRC_COMMIT)
src_dir=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
commit=${SRC_COMMIT:-$(git -C "$src_dir" rev-parse --short HEAD 2>/dev/null)$(git -C "$src_dir" diff --quiet HEAD -- engine format tools 2>/dev/null || echo +dirty)}
echo "rss.sh: binary $tl, sources $src_dir (commit $commit), $(date -u +%FT%TZ), $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB, work $work"

free_gb() { df -B1G --output=avail "$work" | tail -n1 | tr -d ' '; }
need_gb() { # need_gb N: refuse when N more GB would pass MAX_GB or the disk
    local used
    used=$(du -s -B1G "$work" | cut -f1)
    if [ $(($1 + used)) -gt "$max_gb" ] || [ $(($(free_gb) - $1)) -lt 4 ]; then
        echo "rss.sh: needs $1 GB more (work uses $used GB, MAX_GB $max_gb, $(free_gb) GB free)" >&2
        exit 3
    fi
}
bytes_of() { du -s -B1 "$1" | cut -f1; }
date_plus() { date -u -d "$start + $1 days" +%F; }
rows_of_days() { echo $(($1 * 2 * 1000000)); }

# measure PHASE NAME BYTES ROWS cmd...: one run under /usr/bin/time -v
measure() {
    local phase=$1 name=$2 bytes=$3 rows=$4
    shift 4
    local tf=$work/time.$name.txt
    if [ "${DROP_CACHES:-0}" = 1 ]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi
    /usr/bin/time -v -o "$tf" nice -n 10 "$@" >"$work/out.$name.txt" 2>"$work/err.$name.txt" || {
        echo "rss.sh: $name failed:" >&2; tail -n 5 "$work/err.$name.txt" >&2; cat "$tf" >&2; exit 1; }
    local rss wall
    rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$tf")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$tf" |
           awk -F: '{s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$phase" "$name" "$bytes" "$rows" "$rss" "$wall" "$*" >>"$tsv"
    awk -v n="$name" -v b="$bytes" -v r="$rows" -v k="$rss" -v w="$wall" 'BEGIN {
        printf "rss.sh: %-22s input %7.2f GiB %11d rows  peak RSS %8.1f MiB  %7.1f s\n", n, b / 1073741824, r, k / 1024, w }'
}

phase_import() {
    local src=$work/src rows
    rows=$(rows_of_days "$days_a")
    need_gb $((days_a * 2 * 32 / 1000 + days_a * 2 * 38 * 7 / 4 / 1000 + days_a * 2 * 32 / 1000 + 1))
    rm -rf "$src" "$work"/*.parquet "$work"/imp_*
    "$tl" create "$src" --schema ticks >/dev/null
    measure import gen "$((rows * 270))" "$rows" \
        "$tl" gen --seed 1 --days "$days_a" --sorted --table "$src"
    local q=$((days_a / 4 / 5 * 7 - 3)) h=$((days_a / 2 / 5 * 7 - 3))
    measure import export_full "$(bytes_of "$src")" "$rows" \
        "$tl" export "$src" --to "$work/full.parquet" --single-file
    measure import export_half "$(bytes_of "$src")" "$((rows / 2))" \
        "$tl" export "$src" --to "$work/half.parquet" --single-file --from "$start" --to-date "$(date_plus "$h")"
    measure import export_quarter "$(bytes_of "$src")" "$((rows / 4))" \
        "$tl" export "$src" --to "$work/quarter.parquet" --single-file --from "$start" --to-date "$(date_plus "$q")"
    for f in quarter half full; do
        local r=$rows
        [ $f = quarter ] && r=$((rows / 4))
        [ $f = half ] && r=$((rows / 2))
        measure import "import_$f" "$(bytes_of "$work/$f.parquet")" "$r" \
            "$tl" import "$work/imp_$f" "$work/$f.parquet" --create --threads "$threads"
        rm -rf "$work/imp_$f"
    done
    ls -l "$work"/*.parquet
    if [ "${KEEP:-0}" != 1 ]; then rm -f "$work"/*.parquet; fi
}

# scans of table T after it grew to D days
scan_step() {
    local t=$1 d=$2 bytes rows cols agg
    bytes=$(bytes_of "$t")
    rows=$(rows_of_days "$d")
    cols=$("$tl" scan "$t" --limit 1 --format csv | head -n1 || true)
    agg=count
    IFS=, read -r -a names <<<"$cols"
    for c in "${names[@]}"; do agg="$agg, max($c)"; done
    for io in mmap uring; do
        measure scan "scan_${d}d_$io" "$bytes" "$rows" \
            "$tl" scan "$t" --agg "$agg" --threads "$threads" --io "$io"
        measure scan "backtest_${d}d_$io" "$bytes" "$rows" \
            "$tl" backtest "$t" --threads "$threads" --io "$io"
    done
}

phase_scan() {
    local t=$work/big have=0 d
    [ -d "$t" ] && [ -s "$t.days" ] && have=$(cat "$t.days")
    for d in "${steps[@]}"; do
        if [ "$d" -gt "$have" ]; then
            need_gb $(((d - have) * 2 * 32 / 1000 + 1))
            local first=$((have / 5 * 7))
            [ -d "$t" ] || "$tl" create "$t" --schema ticks >/dev/null
            measure scan "gen_to_${d}d" "$(((d - have) * 2000000 * 270))" "$(((d - have) * 2000000))" \
                "$tl" gen --seed "$((d + 10))" --days "$((d - have))" --start "$(date_plus "$first")" \
                --sorted --table "$t"
            have=$d
            echo "$have" >"$t.days"
        fi
        echo "rss.sh: table $t: $d days, $(du -sh "$t" | cut -f1), $(free_gb) GB free on disk"
        scan_step "$t" "$d"
    done
    if [ "${KEEP:-0}" != 1 ]; then rm -rf "$t" "$t.days"; fi
}

for p in "${phases[@]}"; do
    case $p in
    import) phase_import ;;
    scan) phase_scan ;;
    clean) rm -rf "$work"/src "$work"/big "$work"/big.days "$work"/imp_* "$work"/*.parquet ;;
    *) echo "rss.sh: unknown phase $p" >&2; exit 2 ;;
    esac
done
[ -f "$tsv" ] && column -t -s $'\t' "$tsv" | cut -c1-160 || true
