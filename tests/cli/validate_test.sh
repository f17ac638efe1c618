#!/usr/bin/env bash
# validate_test.sh - `ticklake validate` (spec/QUALITY.md) through the CLI:
# text and --json reports on a generated table, the state file and
# --incremental / --since-version (only partitions with new files), a
# holiday calendar, the session, a duplicate key appended on purpose,
# findings written --into a table, usage errors (exit 2) and library errors
# (exit 1) naming the place.
# $1 = path to the ticklake binary.
source "$(dirname "$0")/lib.sh" "${1:-}"

T=$TMP/t
run "$TL" create "$T" --schema ticks
expect_rc 0 "create"
run "$TL" gen --table "$T" --seed 1 --days 2 --rows-per-day 20000
expect_rc 0 "gen --table (version 1: 2 symbols x 2 days)"

run "$TL" validate "$T"
expect_rc 0 "validate (text)"
expect_stdout "missing_day      0" "text: missing_day 0"
expect_stdout "duplicate_key    0" "text: duplicate_key 0"
expect_stdout "BANKNIFTY    2 of 2 trading days" "text: coverage per symbol"
expect_stdout "outside_session  skipped (no session given)" "text: session check skipped without --session"

run "$TL" validate "$T" --json --session 03:45-10:00 --no-save
expect_rc 0 "validate --json --session"
expect_json "validate --json"
if [ "$(json_get rows_checked)" = 80000 ] && [ "$(json_get checks.duplicate_key.count)" = 0 ] &&
    [ "$(json_get checks.outside_session.count)" = 0 ] && [ "$(json_get checks.gap.count)" = 0 ] &&
    [ "$(json_get checks.bid_gt_ask.count)" = 0 ] && [ "$(json_get checks.negative_volume.count)" = 0 ]; then
    ok "json: 80000 rows, no duplicate, session, gap, bid > ask or negative volume findings"
else bad "json counts: $(snippet "$TMP/out")"; fi
if [ "$(json_get coverage.symbols.0.days_expected)" = 2 ] && [ "$(json_get null_rates.bp0.nulls)" -gt 0 ] &&
    [ "$(json_get null_rates.price.nulls)" = 0 ]; then
    ok "json: coverage and null rates"
else bad "json coverage/null rates: $(snippet "$TMP/out")"; fi

# a narrower session: ticks before 04:00 are outside it
run "$TL" validate "$T" --json --session 04:00-10:00 --no-save
if [ "$RC" -eq 0 ] && [ "$(json_get checks.outside_session.count)" -gt 0 ] &&
    [ "$(json_get checks.outside_session.examples.0.symbol)" != None ]; then
    ok "session 04:00-10:00: $(json_get checks.outside_session.count) ticks outside"
else bad "session 04:00: exit $RC $(snippet "$TMP/out")"; fi

# state file: the first run (without --no-save) remembered version 1
if [ -f "$T/_ticklake/validate.json" ] && grep -q '"version":1' "$T/_ticklake/validate.json"; then
    ok "state file _ticklake/validate.json holds version 1"
else bad "state file: $(cat "$T/_ticklake/validate.json" 2>&1)"; fi
run "$TL" validate "$T" --incremental --json
if [ "$RC" -eq 0 ] && [ "$(json_get since_version)" = 1 ] && [ "$(json_get rows_checked)" = 0 ]; then
    ok "--incremental with nothing new checks no rows"
else bad "--incremental nothing new: exit $RC $(snippet "$TMP/out")"; fi

run "$TL" gen --table "$T" --seed 2 --days 1 --start 2025-11-19 --rows-per-day 20000
expect_rc 0 "gen a third day (version 2)"
run "$TL" validate "$T" --incremental --json
if [ "$RC" -eq 0 ] && [ "$(json_get since_version)" = 1 ] && [ "$(json_get rows_checked)" = 40000 ] &&
    [ "$(json_get partitions_checked)" = 2 ] && [ "$(json_get coverage.symbols.0.days_expected)" = 3 ]; then
    ok "--incremental checks only the new day's 2 partitions (coverage over all 3 days)"
else bad "--incremental new day: exit $RC $(snippet "$TMP/out")"; fi
if grep -q '"version":2' "$T/_ticklake/validate.json"; then ok "state now version 2"; else bad "state: $(cat "$T/_ticklake/validate.json")"; fi
run "$TL" validate "$T" --since-version 0 --json --no-save
if [ "$RC" -eq 0 ] && [ "$(json_get rows_checked)" = 120000 ]; then
    ok "--since-version 0 checks everything"
else bad "--since-version 0: exit $RC $(snippet "$TMP/out")"; fi

# a duplicate key: three rows appended again
run "$TL" scan "$T" --limit 3 --date 2025-11-17 --symbols NIFTY
cp "$TMP/out" "$TMP/dup.csv"
run "$TL" append "$T" "$TMP/dup.csv"
expect_rc 0 "append 3 rows again (version 3)"
run "$TL" validate "$T" --since-version 2 --json --no-save
if [ "$RC" -eq 0 ] && [ "$(json_get checks.duplicate_key.count)" = 3 ] &&
    [ "$(json_get partitions_checked)" = 1 ] && [ "$(json_get checks.duplicate_key.examples.0.symbol)" = NIFTY ]; then
    ok "3 duplicate keys found in the one partition that changed"
else bad "duplicates: exit $RC $(snippet "$TMP/out")"; fi

# calendar: Tuesday is a holiday
printf '# holidays\n2025-11-18   # a Tuesday\n\n2025-12-25\n' >"$TMP/cal.txt"
run "$TL" validate "$T" --calendar "$TMP/cal.txt" --json --no-save
if [ "$RC" -eq 0 ] && [ "$(json_get coverage.symbols.0.days_expected)" = 2 ] &&
    [ "$(json_get checks.extra_day.count)" = 2 ] && [ "$(json_get coverage.symbols.1.extra.0)" = 2025-11-18 ]; then
    ok "calendar: a holiday with data is an extra day for both symbols"
else bad "calendar: exit $RC $(snippet "$TMP/out")"; fi
run "$TL" validate "$T" --from 2025-11-17 --to 2025-11-21 --json --no-save
if [ "$RC" -eq 0 ] && [ "$(json_get checks.missing_day.count)" = 4 ] &&
    [ "$(json_get coverage.symbols.0.missing.1)" = 2025-11-21 ]; then
    ok "--from/--to wider than the data: Thursday and Friday missing for both symbols"
else bad "range: exit $RC $(snippet "$TMP/out")"; fi

# findings into a table
F=$TMP/findings
run "$TL" validate "$T" --into "$F" --no-save --session 04:00-10:00
expect_rc 0 "validate --into"
run "$TL" scan "$F" --count --where "check = 'outside_session' AND kind = 'example'"
if [ "$RC" -eq 0 ] && [ "$(cat "$TMP/out")" = 10 ]; then ok "findings table: 10 outside_session examples"; else bad "findings: exit $RC $(snippet "$TMP/out") $(snippet "$TMP/err")"; fi

# errors
expect_usage_error "no table" "$TL" validate
expect_usage_error "bad session" "$TL" validate "$T" --session 10:00-03:45
expect_usage_error "bad session text" "$TL" validate "$T" --session 3:45-10
expect_usage_error "negative gap" "$TL" validate "$T" --gap -1
expect_usage_error "--since-version with --incremental" "$TL" validate "$T" --since-version 1 --incremental
expect_usage_error "--examples 0" "$TL" validate "$T" --examples 0
run "$TL" validate "$T" --price nope
expect_rc 1 "unknown --price column"
expect_stderr "price column 'nope' is not a column" "error names the column"
run "$TL" validate "$T" --since-version 99
expect_rc 1 "--since-version after the latest"
expect_stderr "since version 99" "error names the version"
printf '2025-11-18\n2025-13-40\n' >"$TMP/badcal.txt"
run "$TL" validate "$T" --calendar "$TMP/badcal.txt"
expect_rc 1 "malformed calendar"
expect_stderr "badcal.txt: line 2: expected YYYY-MM-DD" "error names the calendar line"
run "$TL" validate "$TMP/none"
expect_rc 1 "missing table"

finish
