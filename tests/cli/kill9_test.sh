#!/usr/bin/env bash
# tests/cli/kill9_test.sh - real SIGKILL of writer processes at random moments
# (spec/LOG.md 9.9: LOG-C1, C2, C4, C6, C8, C11). Each round starts one CLI
# writer (append of a CSV, optimize, checkpoint + log cleanup, vacuum) on one
# table (automatic checkpoint every 4 commits, so appends write checkpoints
# too) and kills it with SIGKILL after a random delay (up to 1.5 x the time
# of a clean append for append and optimize, 0.5 x for checkpoint and
# vacuum, which are quick on a small table; some finish first). After every
# round:
#   - the table opens: history lists contiguous versions;
#   - its rows are exactly the rows of the appends that committed (row count
#     every round; the sorted rows' hash every CHECK_EVERY rounds and at the
#     end, against the CSVs' rows as the table prints them);
#   - verify TABLE passes (orphans are not damage).
# Every CHECK_EVERY rounds and at the end: vacuum --retain 0 --force, then no
# orphan data file, temporary log file or scratch directory is left.
# Log cleanup is killed too: the table keeps covered commits 1 hour (the
# shortest, LOG-R84) and the explicit checkpoints run two hours ahead of
# the clock (faketime, libfaketime), so each deletes the commits below its
# checkpoint; the history's net row count is then checked only while
# version 0 is still listed. Without faketime the test says so and runs
# without log cleanup.
# KILL9_ROUNDS=N (default 24: well under a minute) for the long run whose
# figure is in tests/reliability/FAULT.md; KILL9_SEED=S fixes $RANDOM.
# $1 = path to the ticklake binary.
source "$(dirname "$0")/lib.sh" "${1:-}"

ROUNDS=${KILL9_ROUNDS:-24}
CHECK_EVERY=${KILL9_CHECK_EVERY:-8}
RANDOM=${KILL9_SEED:-$$}
T=$TMP/t
NCSV=6

# the CSVs and each one's rows as the table prints them (its canonical form)
# the explicit checkpoints two hours ahead: their log cleanup deletes
# (ASan must accept libfaketime preloaded before its runtime)
# (preloaded through env, which execs: the pid killed is the writer's)
AHEAD=()
FT_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
if [ -n "$FT_LIB" ]; then
    AHEAD=(env "LD_PRELOAD=$FT_LIB" FAKETIME=+2h DONT_FAKE_MONOTONIC=1
           "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
    cleanup_mode="explicit checkpoints 2 h ahead (faketime): log cleanup deletes commits"
else
    echo "note: libfaketime is not installed: log cleanup is not exercised (apt-get install faketime)"
    cleanup_mode="no log cleanup (faketime missing)"
fi
# automatic checkpoints under SIGKILL too (every 4 commits)
run "$TL" create "$T" --schema ticks --checkpoint-interval 4 --log-retention-hours 1
if [ "$RC" -ne 0 ]; then bad "create: $(snippet "$TMP/err")"; finish; exit; fi
for i in $(seq 1 $NCSV); do
    "$TL" gen --seed $((1000 + i)) --days 1 --rows-per-day 400 --out "$TMP/in$i.csv" >/dev/null ||
        { bad "gen csv $i"; finish; exit; }
    R=$TMP/ref$i
    "$TL" create "$R" --schema ticks >/dev/null || { bad "reference table $i"; finish; exit; }
    a0=$(date +%s%N)
    "$TL" append "$R" "$TMP/in$i.csv" >/dev/null &&
        append_ms=$(( ($(date +%s%N) - a0) / 1000000 )) &&
        "$TL" cat "$R" | tail -n +2 >"$TMP/canon$i" ||
        { bad "reference table $i"; finish; exit; }
    rm -rf "$R"
done

history_ok() { # prints "latest oldest rows_net" or fails
    "$TL" history "$T" --json >"$TMP/h.json" 2>"$TMP/h.err" || return 1
    /usr/bin/python3 - "$TMP/h.json" <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))
v = [x["version"] for x in h]
assert v == list(range(v[0], v[0] + len(v))), "versions not contiguous: %r" % v[:20]
net = sum(x["added_rows"] - x["removed_rows"] for x in h)
ops = [x["operation"] for x in h]
print(v[-1], v[0], net)
EOF
}

# leftovers: .tls files not live in the latest version, tmp files in
# _delta_log/, entries of _tmp/
leftovers() {
    "$TL" describe "$T" --json >"$TMP/d.json" 2>/dev/null || { echo 999; return; }
    live=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"])' "$TMP/d.json")
    ondisk=$(find "$T" -name '*.tls' -not -path "$T/_tmp/*" | wc -l)
    tmps=$(find "$T/_delta_log" -maxdepth 1 \( -name '.*.tmp' -o -name '*.tmp.*' \) | wc -l)
    scratch=0
    [ -d "$T/_tmp" ] && scratch=$(find "$T/_tmp" -mindepth 1 -maxdepth 1 | wc -l)
    echo $((ondisk - live + tmps + scratch))
}

expect_rows=0  # rows the committed appends added
committed=""   # list of CSV indices whose append committed
kills=0; finished=0; failed_checks=0; vacuumed=0; prev_oldest=0
declare -A killed_by=() done_by=()
t0=$(date +%s)
for r in $(seq 1 "$ROUNDS"); do
    read -r before _ _ < <(history_ok) || { bad "round $r: history before: $(cat "$TMP/h.err")"; break; }
    k=$((RANDOM % 8))
    csv=$((RANDOM % NCSV + 1))
    case $k in
        0|1|2|3) op=append; cmd=("$TL" append "$T" "$TMP/in$csv.csv") ;;
        4|5) op=optimize; cmd=("$TL" optimize "$T") ;;
        6) op=checkpoint; cmd=("${AHEAD[@]}" "$TL" checkpoint "$T") ;;
        7) op=vacuum; cmd=("$TL" vacuum "$T" --retain 0 --force) ;;
    esac
    "${cmd[@]}" >/dev/null 2>"$TMP/w.err" &
    pid=$!
    # a random moment within about one run: up to 1.5 x a clean append's
    # time for append and optimize, up to 0.5 x for the quicker checkpoint
    # and vacuum (so the figure does not depend on the build's speed)
    if [ "$op" = checkpoint ] || [ "$op" = vacuum ]; then span=$((append_ms / 2 + 1)); else span=$((append_ms * 3 / 2 + 1)); fi
    d=$((RANDOM * 32768 + RANDOM)); d=$((d % span))
    sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    st=$?
    if [ "$st" -eq 137 ]; then
        kills=$((kills + 1)); killed_by[$op]=$((${killed_by[$op]:-0} + 1))
    elif [ "$st" -eq 0 ]; then
        finished=$((finished + 1)); done_by[$op]=$((${done_by[$op]:-0} + 1))
    else
        bad "round $r: $op exited $st without being killed: $(snippet "$TMP/w.err")"
        failed_checks=$((failed_checks + 1))
    fi
    if ! read -r latest oldest net < <(history_ok); then
        bad "round $r ($op, exit $st): history after: $(cat "$TMP/h.err")"
        failed_checks=$((failed_checks + 1)); break
    fi
    if [ "$op" = append ] && [ "$latest" -eq $((before + 1)) ]; then
        committed="$committed $csv"
        expect_rows=$((expect_rows + $(wc -l <"$TMP/canon$csv")))
    elif [ "$op" = append ] && [ "$latest" -ne "$before" ]; then
        bad "round $r: append moved the table from $before to $latest"
        failed_checks=$((failed_checks + 1))
    fi
    if [ "$st" -eq 0 ] && [ "$op" = append ] && [ "$latest" -ne $((before + 1)) ]; then
        bad "round $r: an acknowledged append is not visible ($before -> $latest)"
        failed_checks=$((failed_checks + 1))
    fi
    if [ "$oldest" -lt "$prev_oldest" ]; then
        bad "round $r: oldest reachable version went back from $prev_oldest to $oldest"
        failed_checks=$((failed_checks + 1)); break
    fi
    prev_oldest=$oldest
    # the history's net rows only add up while it still starts at version 0
    [ "$oldest" -eq 0 ] || net=$expect_rows
    rows=$("$TL" describe "$T" --json 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"])')
    if [ "$rows" != "$expect_rows" ] || [ "$net" != "$expect_rows" ]; then
        bad "round $r ($op, exit $st): $rows rows, history net $net, expected $expect_rows"
        failed_checks=$((failed_checks + 1)); break
    fi
    if ! "$TL" verify "$T" >"$TMP/v.out" 2>&1; then
        bad "round $r ($op, exit $st): verify: $(snippet "$TMP/v.out")"
        failed_checks=$((failed_checks + 1)); break
    fi
    if [ $((r % CHECK_EVERY)) -eq 0 ] || [ "$r" -eq "$ROUNDS" ]; then
        want=$( (for i in $committed; do cat "$TMP/canon$i"; done) | sort | md5sum)
        got=$("$TL" cat "$T" | tail -n +2 | sort | md5sum)
        if [ "$want" != "$got" ]; then
            bad "round $r: the rows differ from the committed appends' rows"
            failed_checks=$((failed_checks + 1)); break
        fi
        run "$TL" vacuum "$T" --retain 0 --force --json
        if [ "$RC" -ne 0 ]; then
            bad "round $r: vacuum: $(snippet "$TMP/err")"; failed_checks=$((failed_checks + 1)); break
        fi
        vacuumed=$((vacuumed + $(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["files"]))' "$TMP/out")))
        left=$(leftovers)
        if [ "$left" -ne 0 ]; then
            bad "round $r: $left orphans / temporary files / scratch entries left after vacuum"
            failed_checks=$((failed_checks + 1)); break
        fi
    fi
done
t1=$(date +%s)
read -r latest oldest net < <(history_ok)
fmt() { local s=""; for k in append optimize checkpoint vacuum; do s="$s $k=${1:-0}"; shift; done; echo "$s"; }
summary="kill -9: $ROUNDS rounds in $((t1 - t0)) s, $kills writers killed ($(fmt "${killed_by[append]:-0}" "${killed_by[optimize]:-0}" "${killed_by[checkpoint]:-0}" "${killed_by[vacuum]:-0}")), $finished finished first ($(fmt "${done_by[append]:-0}" "${done_by[optimize]:-0}" "${done_by[checkpoint]:-0}" "${done_by[vacuum]:-0}")); versions $oldest..$latest contiguous ($cleanup_mode; $oldest commits removed by it), $expect_rows rows = committed appends' rows, verify passed every round, $vacuumed leftovers vacuumed, 0 left; failed checks $failed_checks"
echo "$summary"
if [ "$failed_checks" -eq 0 ] && [ "$kills" -gt 0 ]; then
    ok "$summary"
elif [ "$kills" -eq 0 ]; then
    bad "no writer was killed in $ROUNDS rounds (all finished within the delay)"
fi
finish
