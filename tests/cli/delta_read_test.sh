#!/usr/bin/env bash
# delta_read_test.sh - a Delta Lake table through the CLI (spec/LOG.md
# section 10, LOG-D1 .. D12): `export --delta`, then `describe` and
# `history` read its log (version 0, the files and rows the export wrote,
# the Spark-typed schema), `describe --json` agrees, and every write
# (append, checkpoint, vacuum) fails with the read-only message while rows
# (cat, scan) fail without printing any, leaving the Delta table unchanged.
# $1 = path to the ticklake binary.
source "$(dirname "$0")/lib.sh" "${1:-}"

T=$TMP/t
D=$TMP/d

run "$TL" create "$T" --schema ticks
expect_rc 0 "create ticks table"
run "$TL" gen --seed 7 --days 2 --rows-per-day 600 --table "$T"
expect_rc 0 "gen --table"
run "$TL" export "$T" --to "$D" --delta
expect_rc 0 "export --delta"
expect_stdout "2,400 rows in 4 files" "export writes 4 files"
LOG_SUM=$(md5sum "$D/_delta_log/00000000000000000000.json")

run "$TL" describe "$D"
expect_rc 0 "describe a Delta table"
expect_stdout "version    0 of 0 (oldest reachable 0)" "describe: version 0"
expect_stdout "rows       2,400 in 4 files" "describe: rows and files of the export"
expect_stdout "partition  symbol(symbol) day(date)" "describe: partition columns"
expect_stdout "  symbol                   string     nullable" "describe: the symbol partition column"
expect_stdout "  date                     date       nullable" "describe: the date partition column"
expect_stdout "  strike                   float32" "describe: Spark float -> float32"
expect_stdout "NIFTY                    2025-11-18        1            600" "describe: a partition"

run "$TL" describe "$D" --json
expect_rc 0 "describe --json"
expect_json "describe --json"
[ "$(json_get rows)" = 2400 ] && ok "json rows 2400" || bad "json rows: $(json_get rows)"
[ "$(json_get files)" = 4 ] && ok "json files 4" || bad "json files: $(json_get files)"
[ "$(json_get schema.0.name)" = timestamp ] && ok "json schema starts with timestamp" ||
    bad "json schema.0: $(json_get schema.0.name)"
[ "$(json_get partition_spec.day_column)" = date ] && ok "json day column" ||
    bad "json day column: $(json_get partition_spec.day_column)"

run "$TL" history "$D"
expect_rc 0 "history of a Delta table"
expect_stdout "WRITE                   2,400       4" "history: the export's commit"
[ "$(grep -c '^ *[0-9]' "$TMP/out")" = 1 ] && ok "history: one version" ||
    bad "history: $(snippet "$TMP/out")"

run "$TL" history "$D" --json
expect_rc 0 "history --json"
[ "$(json_get 0.added_rows)" = 2400 ] && ok "history json added_rows" ||
    bad "history json: $(snippet "$TMP/out")"

run "$TL" describe "$D" --version 1
expect_rc 1 "describe --version 1"
expect_stderr "the latest version is 0" "time travel past the latest"

"$TL" gen --seed 8 --days 1 --rows-per-day 10 --out "$TMP/in.csv" >/dev/null 2>&1
run "$TL" append "$D" "$TMP/in.csv"
expect_rc 1 "append to a Delta table"
expect_stderr "is a Delta Lake table (read-only in ticklake)" "append: read-only message"
run "$TL" checkpoint "$D"
expect_rc 1 "checkpoint a Delta table"
expect_stderr "is a Delta Lake table (read-only in ticklake)" "checkpoint: read-only message"
run "$TL" vacuum "$D"
expect_rc 1 "vacuum a Delta table"
expect_stderr "is a Delta Lake table (read-only in ticklake)" "vacuum: read-only message"
run "$TL" cat "$D"
expect_rc 1 "cat a Delta table"
expect_stderr "data files are Parquet" "cat: Parquet message"
expect_stderr "ticklake import" "cat: suggests import"
[ ! -s "$TMP/out" ] && ok "cat prints no rows" || bad "cat printed: $(snippet "$TMP/out")"
run "$TL" scan "$D"
expect_rc 1 "scan a Delta table"
expect_stderr "data files are Parquet" "scan: Parquet message"
[ "$(wc -l <"$TMP/out")" -le 1 ] && ok "scan prints no rows" || bad "scan printed: $(snippet "$TMP/out")"

# nothing changed: one commit, the same bytes, every data file still there
[ "$(ls "$D/_delta_log")" = "00000000000000000000.json" ] && ok "the log holds one commit" ||
    bad "the log: $(ls "$D/_delta_log" | tr '\n' ' ')"
[ "$(md5sum "$D/_delta_log/00000000000000000000.json")" = "$LOG_SUM" ] &&
    ok "the commit is unchanged" || bad "the commit changed"
[ "$(find "$D" -name '*.parquet' | wc -l)" = 4 ] && ok "the 4 data files remain" ||
    bad "data files: $(find "$D" -name '*.parquet' | wc -l)"

finish
