#!/usr/bin/env bash
# optimize_test.sh - `ticklake optimize` and `ticklake repartition` end to
# end (spec/MAINT.md): a table of several small appends; dry runs change
# nothing; optimize keeps the ordered scan byte for byte and time travel
# reads the old files; a second optimize has nothing to do; filters; JSON
# output; repartition to day-only partitions and back keeps the rows;
# usage and library errors.
source "$(dirname "$0")/lib.sh" "$1"

T="$TMP/t"
run "$TL" create "$T" --schema ticks
expect_rc 0 "create ticks table"
for s in 1 2 3 4; do
    run "$TL" gen --seed $s --days 2 --rows-per-day 1500 --table "$T"
    expect_rc 0 "gen --table append $s"
done
run "$TL" scan "$T" --ordered
cp "$TMP/out" "$TMP/before.csv"
[ "$(wc -l <"$TMP/before.csv")" -eq 24001 ] && ok "24,000 rows before" || bad "rows before: $(wc -l <"$TMP/before.csv")"

# dry run
run "$TL" optimize "$T" --dry-run
expect_rc 0 "optimize --dry-run"
expect_stdout "would merge symbol=BANKNIFTY day=2025-11-17: 4 files, 6,000 rows" "dry run lists a partition"
expect_stdout "optimize --dry-run: 4 partitions, 16 files, 24,000 rows" "dry run totals"
run "$TL" describe "$T"
expect_stdout "version    4 of 4" "dry run committed nothing"

# filters, JSON
run "$TL" optimize "$T" --symbols NIFTY --date 2025-11-18 --json
expect_rc 0 "optimize one partition"
expect_json "optimize --json"
if [ "$(json_get partitions)" = 1 ] && [ "$(json_get files_removed)" = 4 ] &&
    [ "$(json_get files_added)" = 1 ] && [ "$(json_get version)" = 5 ] &&
    [ "$(json_get parts.0.symbol)" = NIFTY ] && [ "$(json_get parts.0.day)" = 2025-11-18 ]; then
    ok "optimize --json: NIFTY 2025-11-18, 4 files -> 1, version 5"
else
    bad "optimize --json: $(snippet "$TMP/out")"
fi

# the rest
run "$TL" optimize "$T"
expect_rc 0 "optimize the rest"
expect_stdout "optimize: version 6: 3 partitions, 12 files -> 3, 18,000 rows" "optimize reports the commit"
run "$TL" scan "$T" --ordered
if cmp -s "$TMP/out" "$TMP/before.csv"; then ok "ordered scan unchanged by optimize"; else bad "ordered scan differs after optimize"; fi
run "$TL" scan "$T" --version 4 --ordered
if cmp -s "$TMP/out" "$TMP/before.csv"; then ok "time travel to version 4 reads the old files"; else bad "version 4 differs"; fi
run "$TL" history "$T"
expect_stdout "OPTIMIZE" "history shows OPTIMIZE"
run "$TL" optimize "$T"
expect_rc 0 "optimize again"
expect_stdout "optimize: nothing to do (4 partitions checked, table at version 6)" "nothing to do"
run "$TL" describe "$T"
expect_stdout "version    6 of 6" "nothing to do commits nothing"
expect_stdout "24,000 in 4 files" "4 files after optimize"

# repartition
run "$TL" repartition "$T" --no-symbol --sort-key symbol,expiry,opt_type,strike,timestamp --dry-run
expect_rc 0 "repartition --dry-run"
expect_stdout "would rewrite 4 files (24,000 rows" "repartition dry run"
run "$TL" repartition "$T" --no-symbol --sort-key symbol,expiry,opt_type,strike,timestamp --json
expect_rc 0 "repartition to day partitions"
expect_json "repartition --json"
if [ "$(json_get version)" = 7 ] && [ "$(json_get partitions_after)" = 2 ] &&
    [ "$(json_get files_removed)" = 4 ] && [ "$(json_get rows)" = 24000 ]; then
    ok "repartition --json: version 7, 2 partitions"
else
    bad "repartition --json: $(snippet "$TMP/out")"
fi
run "$TL" describe "$T"
expect_stdout "partition  day(timestamp)" "describe shows the new spec"
[ -e "$T/_tmp" ] && bad "_tmp left behind" || ok "no _tmp left behind"
run "$TL" scan "$T"
LC_ALL=C sort "$TMP/out" >"$TMP/a.csv"
LC_ALL=C sort "$TMP/before.csv" >"$TMP/b.csv"
if cmp -s "$TMP/a.csv" "$TMP/b.csv"; then ok "same rows after repartition"; else bad "rows differ after repartition"; fi
run "$TL" repartition "$T" --symbol-column symbol --sort-key expiry,opt_type,strike,timestamp
expect_rc 0 "repartition back to symbol and day"
run "$TL" scan "$T" --ordered
if cmp -s "$TMP/out" "$TMP/before.csv"; then ok "ordered scan equal to the original after a round trip"; else bad "round trip differs"; fi
run "$TL" scan "$T" --version 6 --ordered
if cmp -s "$TMP/out" "$TMP/before.csv"; then ok "version 6 still reads with its own spec"; else bad "version 6 differs"; fi
run "$TL" repartition "$T" --symbol-column symbol
expect_stdout "nothing to do" "repartition to the same spec"

# automatic optimize after appends (MAINT-O11)
A="$TMP/auto"
run "$TL" create "$A" --schema ticks
run "$TL" optimize "$A" --auto-min-files 3 --json
expect_rc 0 "optimize --auto-min-files 3"
expect_json "optimize --auto-min-files --json"
if /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["version"]==1 and d["configuration"]["ticklake.autoOptimize.minFiles"]=="3" else 1)' <"$TMP/out"; then
    ok "auto optimize on at version 1"
else
    bad "auto: $(snippet "$TMP/out")"
fi
for s in 1 2 3; do
    run "$TL" gen --seed $s --days 1 --rows-per-day 500 --table "$A"
done
run "$TL" history "$A"
expect_stdout "OPTIMIZE" "the third append triggered an OPTIMIZE"
run "$TL" describe "$A"
expect_stdout "3,000 in 2 files" "one file per partition after the automatic optimize"
run "$TL" optimize "$A" --auto-min-files 0
expect_stdout "ticklake.autoOptimize.minFiles=(removed)" "auto optimize off"

# dedup keys (MAINT-D1..D7): a second append of the same generated rows
# replaces them, the row count stays
D="$TMP/dedup"
run "$TL" create "$D" --schema ticks
run "$TL" optimize "$D" --dedup-keys symbol,expiry,opt_type,strike,timestamp --dedup-mode upsert
expect_rc 0 "optimize --dedup-keys"
expect_stdout "ticklake.dedupKeys=symbol,expiry,opt_type,strike,timestamp" "dedup keys set"
run "$TL" gen --seed 5 --days 1 --rows-per-day 800 --table "$D"
run "$TL" scan "$D" --ordered
cp "$TMP/out" "$TMP/d1.csv"
run "$TL" gen --seed 5 --days 1 --rows-per-day 800 --table "$D"
expect_rc 0 "the same rows appended again"
run "$TL" scan "$D" --ordered
if cmp -s "$TMP/out" "$TMP/d1.csv"; then ok "dedup upsert: the same rows, once"; else bad "dedup: rows differ after a repeated append ($(wc -l <"$TMP/out") lines)"; fi
run "$TL" optimize "$D" --dedup-keys expiry,opt_type
expect_rc 1 "dedup keys without the whole sort key"
expect_stderr "sort key column 'strike' is missing" "the error names the missing column"
expect_usage_error "--dedup-mode latest" "$TL" optimize "$D" --dedup-mode latest
expect_usage_error "--auto-min-files with --dry-run" "$TL" optimize "$A" --auto-min-files 2 --dry-run

# errors
expect_usage_error "optimize without a table" "$TL" optimize
expect_usage_error "optimize --target-rows 0" "$TL" optimize "$T" --target-rows 0
expect_usage_error "optimize --target-rows x" "$TL" optimize "$T" --target-rows x
expect_usage_error "optimize --bogus" "$TL" optimize "$T" --bogus
expect_usage_error "repartition --no-symbol --symbol-column" "$TL" repartition "$T" --no-symbol --symbol-column symbol
run "$TL" repartition "$T" --symbol-column nope
expect_rc 1 "repartition by an unknown column"
expect_stderr "'nope' is not in the schema" "the error names the column"
run "$TL" repartition "$T" --day-column symbol
expect_rc 1 "repartition by a string day column"
expect_stderr "expected timestamp" "the error names the type"
run "$TL" optimize "$TMP/none"
expect_rc 1 "optimize a missing table"
run "$TL" optimize --help
expect_rc 0 "optimize --help"
expect_stdout "usage: ticklake optimize" "optimize help"

finish
