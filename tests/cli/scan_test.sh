#!/usr/bin/env bash
# scan_test.sh - scans and the backtest through the CLI: scan rows / --count /
# --where / --explain / --agg --group-by / --format json / --limit, equal
# output whatever the thread count and I/O path (mmap, uring, pread, and the
# pread fallback when io_uring is unavailable), usage errors; backtest text
# and --json (fields the issue asks for), sweeps, trade and contract CSVs,
# identical results for 1 and 2 threads and every I/O path, and time travel
# (a result at version N is reproduced after later appends).
# $1 = path to the ticklake binary.
source "$(dirname "$0")/lib.sh" "${1:-}"

T=$TMP/t
R=30000 # rows per symbol-day: several 16,384-row blocks per file

run "$TL" create "$T" --schema ticks
expect_rc 0 "create"
run "$TL" gen --seed 5 --days 2 --rows-per-day $R --table "$T"
expect_rc 0 "gen --table (version 1: 2 symbols x 2 days)"

# ---- scan ----
run "$TL" scan "$T" --count
expect_rc 0 "scan --count"
if [ "$(cat "$TMP/out")" = 120000 ]; then ok "scan --count = 120000 rows"; else bad "scan --count: $(snippet "$TMP/out")"; fi

run "$TL" cat "$T" --columns strike,opt_type
awk -F, 'NR > 1 && $1 > 50000 && $2 == "CE"' "$TMP/out" | wc -l >"$TMP/want"
run "$TL" scan "$T" --where "strike > 50000 and opt_type = 'CE'" --count
if [ "$RC" -eq 0 ] && [ "$(cat "$TMP/out")" = "$(cat "$TMP/want")" ]; then
    ok "scan --where count equals a filter of cat ($(cat "$TMP/want"))"
else bad "scan --where count: exit $RC, $(snippet "$TMP/out") vs $(cat "$TMP/want"); $(snippet "$TMP/err")"; fi

run "$TL" scan "$T" --where "strike > 50000 and opt_type = 'CE'" --columns timestamp,strike,opt_type,price
expect_rc 0 "scan --where rows"
n=$(($(wc -l <"$TMP/out") - 1))
if [ "$n" = "$(cat "$TMP/want")" ] && head -n1 "$TMP/out" | grep -qx 'timestamp,strike,opt_type,price'; then
    ok "scan rows: header and $n rows"
else bad "scan rows: $n rows, header $(head -n1 "$TMP/out")"; fi
cp "$TMP/out" "$TMP/rows_ref"
for io in mmap uring pread; do
    for th in 1 2; do
        run "$TL" scan "$T" --where "strike > 50000 and opt_type = 'CE'" --columns timestamp,strike,opt_type,price --io $io --threads $th
        if [ "$RC" -eq 0 ] && cmp -s "$TMP/out" "$TMP/rows_ref"; then ok "scan --io $io --threads $th: same rows"; else bad "scan --io $io --threads $th differs (exit $RC) $(snippet "$TMP/err")"; fi
    done
done
TICKLAKE_NO_URING=1 run "$TL" scan "$T" --where "strike > 50000 and opt_type = 'CE'" --columns timestamp,strike,opt_type,price --io uring
if [ "$RC" -eq 0 ] && cmp -s "$TMP/out" "$TMP/rows_ref" && grep -q "pread" "$TMP/err"; then
    ok "io_uring unavailable: falls back to pread, says so, same rows"
else bad "uring fallback: exit $RC, stderr $(snippet "$TMP/err")"; fi

run "$TL" scan "$T" --limit 7 --format json --columns symbol,price
expect_rc 0 "scan --format json --limit 7"
if [ "$(wc -l <"$TMP/out")" = 7 ] && /usr/bin/python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <"$TMP/out"; then
    ok "7 JSON lines"
else bad "json lines: $(snippet "$TMP/out")"; fi

# explain: a day filter prunes partitions; a strike range prunes blocks
run "$TL" scan "$T" --date 2025-11-17 --symbols NIFTY --where "strike between 1000 and 1001" --explain --json
expect_rc 0 "scan --explain --json"
if [ "$(json_get explain.partitions.total)" = 4 ] && [ "$(json_get explain.partitions.kept)" = 1 ]; then
    ok "explain: 1 of 4 partitions kept"
else bad "explain: $(snippet "$TMP/out")"; fi
run "$TL" scan "$T" --where "strike > 1e9" --explain
expect_rc 0 "scan --explain text"
expect_stdout "blocks:" "explain lists blocks kept and skipped"

run "$TL" scan "$T" --agg "count, sum(volume), min(price), max(price), avg(price)" --group-by symbol,day --json
expect_rc 0 "scan --agg --group-by symbol,day"
if /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if len(d) == 4 and sum(r["count(*)"] for r in d) == 120000 else 1)' <"$TMP/out"; then
    ok "4 groups whose counts add up to 120000"
else bad "agg: $(snippet "$TMP/out")"; fi
run "$TL" scan "$T" --agg "sum(volume)" --threads 1
cp "$TMP/out" "$TMP/agg1"
run "$TL" scan "$T" --agg "sum(volume)" --threads 2
if cmp -s "$TMP/out" "$TMP/agg1"; then ok "aggregate identical on 1 and 2 threads"; else bad "agg differs by threads"; fi

expect_usage_error "scan --io bogus" "$TL" scan "$T" --io bogus
expect_usage_error "scan --count --explain" "$TL" scan "$T" --count --explain
run "$TL" scan "$T" --where "strike >"
if [ "$RC" -ne 0 ] && grep -q "where" "$TMP/err"; then ok "bad --where: error names the predicate"; else bad "bad where: exit $RC $(snippet "$TMP/err")"; fi
run "$TL" scan "$T" --where "nosuch = 1" --count
if [ "$RC" -ne 0 ] && grep -q "nosuch" "$TMP/err"; then ok "unknown column named"; else bad "unknown column: exit $RC $(snippet "$TMP/err")"; fi

# ---- backtest ----
run "$TL" backtest "$T" --json
expect_rc 0 "backtest --json"
expect_json "backtest --json"
for k in table version parameters rows contracts trades pnl elapsed_s rows_per_s; do
    if /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if '$k' in d else 1)" <"$TMP/out"; then :; else bad "backtest --json lacks $k"; fi
done
ok "backtest --json has table, version, parameters, rows, contracts, trades, pnl, elapsed_s, rows_per_s"
if [ "$(json_get rows)" = 120000 ] && [ "$(json_get version)" = 1 ]; then ok "backtest: 120000 rows at version 1"; else bad "backtest: $(snippet "$TMP/out")"; fi
TRADES1=$(json_get trades)
PNL1=$(json_get pnl)
if [ "$TRADES1" -gt 0 ]; then ok "backtest made $TRADES1 trades, pnl $PNL1"; else bad "no trades"; fi

for io in mmap uring pread; do
    for th in 1 2; do
        run "$TL" backtest "$T" --json --io $io --threads $th
        if [ "$RC" -eq 0 ] && [ "$(json_get trades)" = "$TRADES1" ] && [ "$(json_get pnl)" = "$PNL1" ]; then
            ok "backtest --io $io --threads $th: same trades and pnl"
        else bad "backtest --io $io --threads $th: exit $RC $(snippet "$TMP/out") $(snippet "$TMP/err")"; fi
    done
done

run "$TL" backtest "$T" --fast 5,8,13 --slow 21,34 --json
expect_rc 0 "backtest sweep"
if /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); p=d["pairs"]; sys.exit(0 if len(p) == 6 and [(x["fast"], x["slow"]) for x in p] == [(5,21),(5,34),(8,21),(8,34),(13,21),(13,34)] else 1)' <"$TMP/out"; then
    ok "sweep: 6 pairs, fast-major"
else bad "sweep: $(snippet "$TMP/out")"; fi
if [ "$(json_get pairs.0.trades)" = "$TRADES1" ] && [ "$(json_get pairs.0.pnl)" = "$PNL1" ]; then
    ok "sweep pair (5,21) equals the single run"
else bad "sweep pair 0 differs: $(json_get pairs.0.trades) $(json_get pairs.0.pnl)"; fi
run "$TL" backtest "$T" --fast 8 --slow 34 --json
if [ "$(json_get trades)" = "$(
    "$TL" backtest "$T" --fast 5,8,13 --slow 21,34 --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["pairs"][3]["trades"])'
)" ]; then ok "sweep pair (8,34) equals its single run"; else bad "sweep pair (8,34) differs"; fi

run "$TL" backtest "$T" --trades "$TMP/trades.csv" --contracts "$TMP/contracts.csv"
expect_rc 0 "backtest --trades --contracts"
n=$(($(wc -l <"$TMP/trades.csv") - 1))
if [ "$n" = "$TRADES1" ]; then ok "trade log: one line per trade ($n)"; else bad "trade log has $n lines, trades $TRADES1"; fi
if head -n1 "$TMP/trades.csv" | grep -q "entry_ts" && head -n1 "$TMP/trades.csv" | grep -q "exit_price"; then ok "trade log header"; else bad "trade log header: $(head -n1 "$TMP/trades.csv")"; fi
if [ "$(($(wc -l <"$TMP/contracts.csv") - 1))" -gt 0 ]; then ok "per-contract results written"; else bad "contracts csv empty"; fi
expect_stdout "version 1" "text result names the version"

# time travel: append more, then version 1 reproduces the first result
run "$TL" gen --seed 6 --days 1 --start 2025-11-17 --rows-per-day 5000 --table "$T"
expect_rc 0 "append more rows to the same days (version 2, several files per partition)"
run "$TL" backtest "$T" --json --version 1
if [ "$(json_get trades)" = "$TRADES1" ] && [ "$(json_get pnl)" = "$PNL1" ] && [ "$(json_get version)" = 1 ]; then
    ok "backtest --version 1 after a later append reproduces the result"
else bad "time travel: $(snippet "$TMP/out")"; fi
run "$TL" backtest "$T" --json
if [ "$RC" -eq 0 ] && [ "$(json_get version)" = 2 ] && [ "$(json_get rows)" = 130000 ]; then ok "latest: version 2, 130000 rows (merged partitions)"; else bad "latest: $(snippet "$TMP/out") $(snippet "$TMP/err")"; fi
P2=$(json_get pnl)
run "$TL" backtest "$T" --json --threads 1 --io pread
if [ "$(json_get pnl)" = "$P2" ]; then ok "multi-file partitions: same pnl on 1 thread with pread"; else bad "multi-file: $(json_get pnl) vs $P2"; fi

expect_usage_error "backtest --fast 0" "$TL" backtest "$T" --fast 0
expect_usage_error "backtest --version and --timestamp" "$TL" backtest "$T" --version 1 --timestamp 2025-01-01
run "$TL" backtest "$T" --price nosuch
if [ "$RC" -eq 1 ] && grep -q "nosuch" "$TMP/err"; then ok "unknown price column named"; else bad "bad column: exit $RC $(snippet "$TMP/err")"; fi

finish
