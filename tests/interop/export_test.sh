#!/usr/bin/env bash
# export_test.sh - other tools read ticklake's Parquet exports (spec/PARQUET.md,
# "Export and Delta"): a generated ticks table (2 symbols x 2 days, several
# files per partition) is exported partitioned (Hive directories), as one
# file, --spark-compatible and --delta; export_check.mjs then has
#  (1) DuckDB read_parquet (hive_partitioning) return every row and value of
#      `ticklake scan --format csv` of the same snapshot (and the date=
#      directories equal the UTC day of each timestamp);
#  (2) parquet_metadata(): statistics (min, max, null_count) on every chunk,
#      created_by, key-value metadata naming the table;
#  (3) a filtered query skip row groups: every chunk of the row groups whose
#      statistics exclude the filter is overwritten with 0xFF, and DuckDB still
#      answers right (it never read them);
#  (4) nodejs-polars read the exports; row count and aggregates agree with
#      `ticklake scan --agg`;
#  (5) DuckDB's delta extension read the --delta output, if it is installed
#      (it is not downloaded: skipped offline).
# sorting_columns are checked in tests/engine/export_test.c (DuckDB does not
# show them).
#
# $1 = the ticklake binary. Exit 77 (skipped) when node, the node modules
# (tests/node_modules from `npm ci` in tests/, or $TL_NODE_MODULES) or the
# export command are missing.
set -u
TL=${1:?usage: export_test.sh TICKLAKE}
HERE=$(cd "$(dirname "$0")" && pwd)
MODS=${TL_NODE_MODULES:-$HERE/../node_modules}

command -v node >/dev/null 2>&1 || { echo "skip: node not found"; exit 77; }
[ -d "$MODS/@duckdb/node-api" ] || { echo "skip: $MODS/@duckdb/node-api missing (npm ci in tests/)"; exit 77; }
[ -d "$MODS/nodejs-polars" ] || { echo "skip: $MODS/nodejs-polars missing (npm ci in tests/)"; exit 77; }
"$TL" export --help >/dev/null 2>&1 || { echo "skip: '$TL export' not available"; exit 77; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tl_export_interop.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cp "$HERE/export_check.mjs" "$TMP/"
ln -s "$MODS" "$TMP/node_modules"
CHECK="$TMP/export_check.mjs"

fails=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
run() { # label, command...: ok with its output, or FAIL with its stderr
    local label=$1
    shift
    if "$@" >"$TMP/out" 2>"$TMP/err"; then
        ok "$label: $(tail -n 1 "$TMP/out")"
    else
        bad "$label: $(head -c 1500 "$TMP/err") $(head -c 300 "$TMP/out")"
    fi
}

T="$TMP/t"
if ! "$TL" create "$T" --schema ticks >/dev/null 2>"$TMP/err" ||
    ! "$TL" gen --seed 5 --days 2 --rows-per-day 6000 --table "$T" >/dev/null 2>>"$TMP/err" ||
    ! "$TL" gen --seed 6 --days 2 --rows-per-day 3000 --table "$T" >/dev/null 2>>"$TMP/err"; then
    cat "$TMP/err"
    echo "FAIL - could not build the table"
    exit 1
fi
"$TL" scan "$T" --ordered --format csv >"$TMP/all.csv" || { echo "FAIL - scan"; exit 1; }
read -r COUNT SUMVOL MINP MAXP < <("$TL" scan "$T" --agg "count, sum(volume), min(price), max(price)" |
    tail -n 1 | tr ',' ' ')

export_to() { # dest, options...
    local dest=$1
    shift
    if ! "$TL" export "$T" --to "$dest" "$@" >"$TMP/exp.out" 2>"$TMP/exp.err"; then
        bad "export $*: $(head -c 600 "$TMP/exp.err")"
        return 1
    fi
    ok "export $*: $(tail -n 1 "$TMP/exp.out")"
}

# (1) partitioned, every row and value; (4) polars
if export_to "$TMP/hive" --partitioned --row-group-rows 5000; then
    run "DuckDB reads the Hive export" node "$CHECK" rows "$TMP/hive" "$TMP/all.csv"
    run "polars reads the Hive export" node "$CHECK" polars "$TMP/hive" "$COUNT" "$SUMVOL" "$MINP" "$MAXP"
fi
# single file: rows, (2) metadata, (4) polars, (3) row-group skipping
if export_to "$TMP/one.parquet" --single-file --compression snappy; then
    run "DuckDB reads the single file" node "$CHECK" rows "$TMP/one.parquet" "$TMP/all.csv"
    run "parquet_metadata" node "$CHECK" meta "$TMP/one.parquet"
    run "polars reads the single file" node "$CHECK" polars "$TMP/one.parquet" "$COUNT" "$SUMVOL" "$MINP" "$MAXP"
    DAY=2025-11-18 # gen's second day (it starts on Monday 2025-11-17)
    N=$("$TL" scan "$T" --count --symbols NIFTY --date "$DAY")
    run "a filtered query skips row groups" node "$CHECK" skip "$TMP/one.parquet" NIFTY "$DAY" "$N"
fi
# uncompressed, Spark-compatible (µs timestamps)
if export_to "$TMP/spark" --spark-compatible --compression none; then
    run "DuckDB reads the Spark-compatible export" node "$CHECK" rows "$TMP/spark" "$TMP/all.csv"
fi
# (5) Delta
if export_to "$TMP/delta" --delta; then
    run "DuckDB reads the --delta files" node "$CHECK" rows "$TMP/delta" "$TMP/all.csv"
    node "$CHECK" delta "$TMP/delta" "$COUNT" >"$TMP/out" 2>"$TMP/err"
    case $? in
    0) ok "delta_scan: $(cat "$TMP/out")" ;;
    3) echo "skip - $(cat "$TMP/out")" ;;
    *) bad "delta_scan: $(head -c 1000 "$TMP/err")" ;;
    esac
fi

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "all passed"
