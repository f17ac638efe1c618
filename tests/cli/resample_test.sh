#!/usr/bin/env bash
# resample_test.sh - `ticklake resample` (spec/QUALITY.md) through the CLI:
# 1m bars per contract and 1d bars per symbol on a generated table (daily
# bars equal to the scan's aggregates), tightest quotes, the destination
# partitioned like the source, the same table for 1 and 2 threads,
# idempotent --app-id/--app-version, usage errors (exit 2) and library
# errors (exit 1) naming the place.
# $1 = path to the ticklake binary.
source "$(dirname "$0")/lib.sh" "${1:-}"

T=$TMP/t
run "$TL" create "$T" --schema ticks
expect_rc 0 "create"
run "$TL" gen --table "$T" --seed 1 --days 2 --rows-per-day 20000
expect_rc 0 "gen --table (2 symbols x 2 days)"

run "$TL" resample "$T" "$TMP/b1m" --interval 1m --json
expect_rc 0 "resample 1m bars per contract"
expect_json "resample --json"
n=$(json_get rows_out)
if [ "$(json_get rows_in)" = 80000 ] && [ "$(json_get created)" = True ] && [ "$n" -gt 1000 ]; then
    ok "80000 ticks -> $n bars, DST created"
else bad "resample json: $(snippet "$TMP/out")"; fi
run "$TL" scan "$TMP/b1m" --count
if [ "$(cat "$TMP/out")" = "$n" ]; then ok "DST holds the $n bars"; else bad "DST count $(snippet "$TMP/out")"; fi
run "$TL" describe "$TMP/b1m"
expect_stdout "partition  symbol(symbol) day(bar_time)" "DST partitioned by symbol and day(bar_time)"
expect_stdout "sort key   expiry, opt_type, strike, bar_time" "DST sorted by contract, then bar_time"
run "$TL" scan "$TMP/b1m" --count --where "ticks < 1"
if [ "$(cat "$TMP/out")" = 0 ]; then ok "every bar has a tick"; else bad "bars without ticks: $(snippet "$TMP/out")"; fi

# daily bars per symbol equal the scan's aggregates per symbol and day
run "$TL" resample "$T" "$TMP/b1d" --interval 1d --per symbol
expect_rc 0 "resample 1d bars per symbol"
run "$TL" scan "$T" --agg "count, min(price), max(price), sum(volume)" --group-by symbol,day --json
cp "$TMP/out" "$TMP/agg.json"
run "$TL" scan "$TMP/b1d" --format json --columns symbol,bar_time,high,low,volume,ticks
cp "$TMP/out" "$TMP/bars.json"
if /usr/bin/python3 - "$TMP/agg.json" "$TMP/bars.json" <<'PY'
import json, sys, datetime
agg = json.load(open(sys.argv[1]))
bars = [json.loads(l) for l in open(sys.argv[2])]
assert len(agg) == len(bars) == 4, (len(agg), len(bars))
for a, b in zip(agg, bars):
    day = datetime.datetime.fromtimestamp(b["bar_time"] // 10**9, datetime.timezone.utc).date().isoformat()
    assert a["symbol"] == b["symbol"] and a["day"] == day, (a, b)
    assert a["count(*)"] == b["ticks"] and a["min(price)"] == b["low"] and a["max(price)"] == b["high"], (a, b)
    assert a["sum(volume)"] == b["volume"], (a, b)
PY
then ok "1d bars per symbol equal count/min/max/sum per symbol and day"; else bad "1d bars differ from the aggregates"; fi

# quotes
run "$TL" resample "$T" "$TMP/q" --interval 1m --kind quotes --per symbol --json
expect_rc 0 "resample quotes per symbol"
nq=$(json_get rows_out)
if [ "$nq" -gt 0 ] && [ "$nq" -le 1500 ]; then ok "$nq quotes (at most one per symbol-minute)"; else bad "quotes: $nq"; fi
run "$TL" scan "$TMP/q" --count --where "spread < 0"
if [ "$(cat "$TMP/out")" = 0 ]; then ok "no negative spread"; else bad "negative spreads: $(snippet "$TMP/out")"; fi

# thread independence
run "$TL" resample "$T" "$TMP/c1" --interval 5m --threads 1
run "$TL" resample "$T" "$TMP/c2" --interval 5m --threads 2
"$TL" cat "$TMP/c1" >"$TMP/c1.csv" 2>/dev/null
"$TL" cat "$TMP/c2" >"$TMP/c2.csv" 2>/dev/null
if [ -s "$TMP/c1.csv" ] && cmp -s "$TMP/c1.csv" "$TMP/c2.csv"; then ok "1 and 2 threads: same bars"; else bad "threads differ"; fi

# idempotent
run "$TL" resample "$T" "$TMP/i" --interval 1h --app-id bars --app-version 1 --json
if [ "$RC" -eq 0 ] && [ "$(json_get noop)" = False ]; then ok "first --app-id run commits"; else bad "app-id 1: $(snippet "$TMP/out")"; fi
run "$TL" resample "$T" "$TMP/i" --interval 1h --app-id bars --app-version 1 --json
if [ "$RC" -eq 0 ] && [ "$(json_get noop)" = True ] && [ "$(json_get rows_out)" = 0 ]; then ok "same --app-version again is a no-op"; else bad "app-id 2: $(snippet "$TMP/out")"; fi

# errors
expect_usage_error "no --interval" "$TL" resample "$T" "$TMP/x"
expect_usage_error "interval not dividing a day" "$TL" resample "$T" "$TMP/x" --interval 7m
expect_usage_error "bad --per" "$TL" resample "$T" "$TMP/x" --interval 1m --per day
expect_usage_error "bad --kind" "$TL" resample "$T" "$TMP/x" --interval 1m --kind trades
expect_usage_error "one table only" "$TL" resample "$T" --interval 1m
expect_usage_error "--app-id alone" "$TL" resample "$T" "$TMP/x" --interval 1m --app-id a
run "$TL" resample "$T" "$TMP/b1m" --interval 1m --kind quotes
expect_rc 1 "quotes into a bars table"
expect_stderr "destination $TMP/b1m: column 'quote_ts' is missing" "error names the destination and column"
run "$TL" resample "$T" "$TMP/x" --interval 1m --price nope
expect_rc 1 "unknown --price"
expect_stderr "price column 'nope' is not a column of the source table" "error names the column"
run "$TL" resample "$TMP/none" "$TMP/x" --interval 1m
expect_rc 1 "missing source"

finish
