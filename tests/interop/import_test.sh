#!/usr/bin/env bash
# import_test.sh - DuckDB writes, ticklake imports (spec/PARQUET.md, section
# "Import"): DuckDB (@duckdb/node-api from tests/node_modules) writes a table
# of every type ticklake imports, with nulls in every column and each type's
# extremes, in every codec it has (uncompressed, snappy, gzip, zstd, brotli,
# lz4_raw) with PARQUET_VERSION V1 and V2 and several row groups per file,
# plus a Hive-partitioned directory (PARTITION_BY symbol). Each goes through
# `ticklake import T FILE --create`, then `ticklake scan T --format csv`, and
# import_duckdb.mjs compares that CSV with DuckDB's own rows, typed, in
# DuckDB (EXCEPT ALL both ways). Also: the same (app id, version) twice is
# one commit.
#
# $1 = the ticklake binary. Exit 77 (skipped) when node, the node modules
# (tests/node_modules, or $TL_NODE_MODULES) or the import command are
# missing.
set -u
TL=${1:?usage: import_test.sh TICKLAKE}
HERE=$(cd "$(dirname "$0")" && pwd)
MODS=${TL_NODE_MODULES:-$HERE/../node_modules}

command -v node >/dev/null 2>&1 || { echo "skip: node not found"; exit 77; }
[ -d "$MODS/@duckdb/node-api" ] || { echo "skip: $MODS/@duckdb/node-api missing (npm ci in tests/)"; exit 77; }
"$TL" import --help >/dev/null 2>&1 || { echo "skip: '$TL import' not available"; exit 77; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tl_import_interop.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# node resolves modules from the script's directory upwards
cp "$HERE/import_duckdb.mjs" "$TMP/"
ln -s "$MODS" "$TMP/node_modules"

fails=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }

if ! node "$TMP/import_duckdb.mjs" gen "$TMP/data" >"$TMP/names" 2>"$TMP/gen.err"; then
    cat "$TMP/gen.err"
    echo "FAIL - DuckDB could not write the inputs"
    exit 1
fi

while read -r name; do
    [ -n "$name" ] || continue
    src="$TMP/data/$name.parquet"
    [ "$name" = hive ] && src="$TMP/data/hive"
    t="$TMP/t_$name"
    if ! "$TL" import "$t" "$src" --create >"$TMP/out" 2>"$TMP/err"; then
        bad "$name: import failed: $(head -c 600 "$TMP/err")"
        continue
    fi
    if ! "$TL" scan "$t" --format csv >"$TMP/$name.csv" 2>"$TMP/err"; then
        bad "$name: scan failed: $(head -c 600 "$TMP/err")"
        continue
    fi
    if node "$TMP/import_duckdb.mjs" check "$TMP/data" "$name" "$TMP/$name.csv" >"$TMP/out" 2>"$TMP/err"; then
        ok "$name: $(cat "$TMP/out")"
    else
        bad "$name: $(head -c 1500 "$TMP/err")"
    fi
done <"$TMP/names"

# idempotent: the same (app id, version) twice commits once
t="$TMP/t_idem"
src="$TMP/data/zstd_V1.parquet"
if "$TL" import "$t" "$src" --create --app-id interop --app-version 1 >/dev/null 2>"$TMP/err" &&
    "$TL" import "$t" "$src" --app-id interop --app-version 1 >/dev/null 2>>"$TMP/err"; then
    if "$TL" scan "$t" --format csv >"$TMP/idem.csv" 2>"$TMP/err" &&
        node "$TMP/import_duckdb.mjs" check "$TMP/data" idempotent "$TMP/idem.csv" >"$TMP/out" 2>>"$TMP/err"; then
        ok "same app id and version twice: one commit ($(cat "$TMP/out"))"
    else
        bad "same app id and version twice: $(head -c 600 "$TMP/err")"
    fi
else
    bad "idempotent import failed: $(head -c 600 "$TMP/err")"
fi

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "all passed"
