#!/usr/bin/env bash
# table_test.sh - tables through the CLI (spec/LOG.md): create, gen --table
# and CSV append in several commits, history, describe and cat at the latest
# and older versions (time travel by version and timestamp), idempotent
# ingest (LOG-R60), schema errors that write nothing, checkpoint, vacuum,
# P processes x M appends at once (exactly P*M contiguous versions, every
# row once; LOG-C4), and writers killed with SIGKILL at random moments
# (no torn or partial version: LOG-C1, LOG-C2, LOG-C6).
# $1 = path to the ticklake binary.
source "$(dirname "$0")/lib.sh" "${1:-}"

T=$TMP/t
R=2000 # rows per symbol-day: small, the ASan build runs this too

run "$TL" create "$T" --schema ticks
expect_rc 0 "create ticks table"
expect_stdout "at version 0" "create reports version 0"
run "$TL" create "$T" --schema ticks
expect_rc 1 "create over an existing table"
expect_stderr "already exists" "create names the conflict"

# three appends: two generated, one from CSV
run "$TL" gen --seed 1 --days 2 --rows-per-day $R --table "$T"
expect_rc 0 "gen --table (version 1)"
expect_stdout "version 1: 8,000 rows" "gen --table reports version and rows"
run "$TL" gen --seed 2 --days 1 --rows-per-day $R --start 2025-11-19 --out "$TMP/in.csv"
expect_rc 0 "gen a CSV"
run "$TL" append "$T" "$TMP/in.csv" --json
expect_rc 0 "append CSV (version 2)"
expect_json "append --json"
if [ "$(json_get version)" = 2 ] && [ "$(json_get rows)" = 4000 ]; then ok "append --json: version 2, 4000 rows"; else bad "append --json: $(snippet "$TMP/out")"; fi
sleep 0.05
TS2=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 0.05
run "$TL" gen --seed 3 --days 1 --rows-per-day $R --symbols FINNIFTY --table "$T" --app-id nightly --app-version 7
expect_rc 0 "gen --table with app id (version 3)"
run "$TL" gen --seed 3 --days 1 --rows-per-day $R --symbols FINNIFTY --table "$T" --app-id nightly --app-version 7
expect_rc 0 "the same app id and version again"
expect_stdout "already applied at version 3" "LOG-R60: re-run is a no-op naming the version"

# history
run "$TL" history "$T" --json
expect_rc 0 "history --json"
if /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if isinstance(d, list) and len(d) == 4 else 1)' <"$TMP/out"; then ok "history --json: an array of 4 versions"; else bad "history --json: $(snippet "$TMP/out")"; fi
if [ "$(json_get 3.added_rows)" = 2000 ] && [ "$(json_get 0.operation)" = "CREATE TABLE" ]; then
    ok "history: version 0 CREATE TABLE, version 3 added 2000 rows"
else bad "history: $(snippet "$TMP/out")"; fi
run "$TL" history "$T"
expect_stdout "APPEND" "history text lists appends"

# describe + cat at every version (time travel)
want_rows=(0 8000 12000 14000)
for v in 0 1 2 3; do
    run "$TL" describe "$T" --version $v --json
    if [ "$RC" -eq 0 ] && [ "$(json_get rows)" = "${want_rows[$v]}" ] && [ "$(json_get version)" = $v ]; then
        ok "describe --version $v: ${want_rows[$v]} rows"
    else bad "describe --version $v: exit $RC $(snippet "$TMP/out") $(snippet "$TMP/err")"; fi
    run "$TL" cat "$T" --version $v
    n=$(($(wc -l <"$TMP/out") - 1))
    if [ "$RC" -eq 0 ] && [ "$n" -eq "${want_rows[$v]}" ]; then ok "cat --version $v: $n rows"; else bad "cat --version $v: exit $RC, $n rows"; fi
done
run "$TL" describe "$T" --timestamp "$TS2" --json
if [ "$RC" -eq 0 ] && [ "$(json_get version)" = 2 ]; then ok "describe --timestamp (between v2 and v3) -> version 2"; else bad "describe --timestamp $TS2: $(snippet "$TMP/out") $(snippet "$TMP/err")"; fi
run "$TL" describe "$T" --timestamp 2000-01-01
expect_rc 1 "describe before the table existed"
expect_stderr "version 0" "the error names the oldest version"
run "$TL" describe "$T" --version 99
expect_rc 1 "describe a version above the latest"
expect_stderr "3" "the error names the latest version"
run "$TL" describe "$T"
expect_stdout "sort key   expiry, opt_type, strike, timestamp" "describe shows the sort key"
expect_stdout "FINNIFTY" "describe lists partitions"

# the CSV rows come back exactly (same multiset), from their partition
run "$TL" cat "$T" --date 2025-11-19 --symbol NIFTY
tail -n +2 "$TMP/out" | sort >"$TMP/got.txt"
head -n1 "$TMP/in.csv" >"$TMP/hdr.txt"
if cmp -s <(head -n1 "$TMP/out") "$TMP/hdr.txt"; then ok "cat header = CSV header"; else bad "cat header differs"; fi
grep ',NIFTY,' "$TMP/in.csv" | sort >"$TMP/want.txt"
if [ -s "$TMP/want.txt" ] && cmp -s "$TMP/got.txt" "$TMP/want.txt"; then ok "cat NIFTY 2025-11-19 = the appended CSV rows ($(wc -l <"$TMP/want.txt"))"; else bad "cat rows differ from the CSV"; fi
# and sorted by the key within the partition
run "$TL" cat "$T" --date 2025-11-19 --symbol NIFTY --columns expiry,opt_type,strike,timestamp
if tail -n +2 "$TMP/out" | sort -c -t, -k1,1 -k2,2 -k3,3n -k4,4n 2>/dev/null; then ok "rows sorted by expiry, opt_type, strike, timestamp"; else bad "rows not in key order"; fi
run "$TL" cat "$T" --limit 5 --columns price
if [ "$(wc -l <"$TMP/out")" -eq 6 ]; then ok "cat --limit 5 --columns price"; else bad "cat --limit: $(snippet "$TMP/out")"; fi

# schema errors write nothing
files_before=$(find "$T" -type f | wc -l)
printf 'timestamp,symbol,bogus\n1,X,2\n' >"$TMP/bad1.csv"
run "$TL" append "$T" "$TMP/bad1.csv"
expect_rc 1 "append with an unknown column"
expect_stderr "unknown column 'bogus'" "error names the unknown column"
head -n1 "$TMP/in.csv" >"$TMP/bad2.csv"
sed -n 2p "$TMP/in.csv" >>"$TMP/bad2.csv"
echo "$(sed -n 3p "$TMP/in.csv" | sed 's/^[0-9]*,/,/')" >>"$TMP/bad2.csv"
run "$TL" append "$T" "$TMP/bad2.csv"
expect_rc 1 "append with a null in a non-nullable column"
expect_stderr "bad2.csv" "error names the file"
expect_stderr "timestamp" "error names the column"
files_after=$(find "$T" -type f | wc -l)
if [ "$files_before" -eq "$files_after" ]; then ok "failed appends left no file behind"; else bad "files: $files_before -> $files_after"; fi
run "$TL" describe "$T" --json
if [ "$(json_get version)" = 3 ]; then ok "failed appends committed nothing"; else bad "version now $(json_get version)"; fi

# checkpoint and vacuum
run "$TL" checkpoint "$T" --json
expect_rc 0 "checkpoint"
expect_json "checkpoint --json"
if [ "$(json_get version)" = 3 ]; then ok "checkpoint of version 3"; else bad "checkpoint: $(snippet "$TMP/out")"; fi
run "$TL" cat "$T" --version 1
n=$(($(wc -l <"$TMP/out") - 1))
if [ "$n" -eq 8000 ]; then ok "time travel to version 1 after a checkpoint"; else bad "version 1 after checkpoint: $n rows"; fi
touch "$T/symbol=NIFTY/orphan.tls"
run "$TL" vacuum "$T" --dry-run --retain 0
expect_rc 1 "vacuum --retain 0 without --force"
run "$TL" vacuum "$T" --dry-run --retain 0 --force --json
expect_rc 0 "vacuum --dry-run --retain 0 --force"
if grep -q 'orphan.tls' "$TMP/out" && [ -e "$T/symbol=NIFTY/orphan.tls" ]; then ok "dry run lists the orphan and keeps it"; else bad "dry run: $(snippet "$TMP/out")"; fi
run "$TL" vacuum "$T" --retain 0 --force
expect_rc 0 "vacuum --retain 0 --force"
if [ ! -e "$T/symbol=NIFTY/orphan.tls" ]; then ok "vacuum deleted the orphan"; else bad "orphan still there"; fi
run "$TL" cat "$T"
n=$(($(wc -l <"$TMP/out") - 1))
if [ "$RC" -eq 0 ] && [ "$n" -eq 14000 ]; then ok "latest version intact after vacuum (LOG-C9)"; else bad "after vacuum: exit $RC, $n rows"; fi

# P processes x M appends at once
C=$TMP/c
run "$TL" create "$C" --schema ticks
P=4
M=5
for p in $(seq 1 $P); do
    (for m in $(seq 1 $M); do
        "$TL" gen --seed $((p * 100 + m)) --days 1 --rows-per-day 50 --symbols "S$p" --table "$C" >/dev/null 2>"$TMP/w$p.err" || echo "writer $p append $m failed" >>"$TMP/w$p.err"
    done) &
done
wait
if cat "$TMP"/w*.err | grep -q .; then bad "concurrent writers failed: $(cat "$TMP"/w*.err | head -c 300)"; else ok "$P x $M concurrent appends all succeeded"; fi
run "$TL" history "$C" --json
nv=$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=[x["version"] for x in d]; print(len(v) if v==list(range(len(v))) else -1)' "$TMP/out")
if [ "$nv" -eq $((P * M + 1)) ]; then ok "exactly P*M+1 = $nv contiguous versions"; else bad "versions: $nv (expected $((P * M + 1)), contiguous)"; fi
run "$TL" cat "$C" --columns symbol
n=$(($(wc -l <"$TMP/out") - 1))
if [ "$n" -eq $((P * M * 50)) ]; then ok "every row once: $n rows"; else bad "rows: $n, expected $((P * M * 50))"; fi

# writers killed with SIGKILL at random moments: the table stays readable,
# each version is complete (rows = sum of history), nothing torn
K=$TMP/k
run "$TL" create "$K" --schema ticks
kills=0
for i in $(seq 1 12); do
    "$TL" gen --seed $i --days 1 --rows-per-day 3000 --table "$K" >/dev/null 2>&1 &
    pid=$!
    sleep "0.0$((RANDOM % 9 + 1))"
    kill -9 $pid 2>/dev/null && kills=$((kills + 1))
    wait $pid 2>/dev/null
done
run "$TL" history "$K" --json
hist_rows=$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=[x["version"] for x in d]; assert v==list(range(len(v))); print(sum(x["added_rows"] for x in d))' "$TMP/out")
run "$TL" cat "$K" --columns price
n=$(($(wc -l <"$TMP/out") - 1))
if [ "$RC" -eq 0 ] && [ -n "$hist_rows" ] && [ "$n" -eq "$hist_rows" ]; then
    ok "after $kills SIGKILLs: table readable, $n rows = the committed versions' rows"
else bad "after kills: exit $RC, cat $n rows, history says '$hist_rows': $(snippet "$TMP/err")"; fi
run "$TL" vacuum "$K" --retain 0 --force --dry-run --json
if [ "$RC" -eq 0 ]; then ok "vacuum sees the killed writers' leftovers as orphans ($(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["files"]))' "$TMP/out") files)"; else bad "vacuum after kills: $(snippet "$TMP/err")"; fi

# usage errors
expect_usage_error "create without --schema" "$TL" create "$TMP/x"
expect_usage_error "describe with both --version and --timestamp" "$TL" describe "$T" --version 1 --timestamp 2025-01-01
expect_usage_error "append with --app-id but no version" "$TL" append "$T" "$TMP/in.csv" --app-id x
expect_usage_error "cat --date with --from" "$TL" cat "$T" --date 2025-11-19 --from 2025-11-18

finish
