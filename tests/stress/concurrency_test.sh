#!/usr/bin/env bash
# concurrency_test.sh - the bounded CI run of the concurrency stress driver
# (tests/stress/conc_stress.c; figures in tests/reliability/CONCURRENCY.md).
# $1 = path to tl_conc_stress.
#
# 1. 4 writer processes x 25 appends, 2 time-travelling readers (scan with
#    mmap and io_uring, the row reader; by version, timestamp and latest),
#    optimize + checkpoint + vacuum throughout; every version re-read at the
#    end; then the retention phase (a reader holding an old version's files
#    mapped while vacuum with retention 0 deletes them: no SIGBUS, mapped
#    files read whole) and the SIGBUS control (a truncated mapped file must
#    be seen). Must pass.
# 1b. The same with --log-cleanup (see below).
# 2. Negative control: the same harness with commits published by plain
#    rename(2) (LOG-R44 broken) must fail, reporting lost or overwritten
#    commits (a few rounds, in case one round happens not to collide).
set -uo pipefail

D=${1:-}
if [ -z "$D" ] || [ ! -x "$D" ]; then
    echo "usage: $0 PATH_TO_tl_conc_stress (got '${D}')" >&2
    exit 2
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ticklake-conc.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# Under ASan the SIGBUS must reach the process (the harness counts deaths
# by signal), not be turned into an ASan report.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_sigbus=0"
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }

"$D" "$TMP/run" --writers 4 --appends 25 --readers 2 --maint-sleep-ms 5 \
    --samples 100000 --pin --sigbus-control >"$TMP/run.log" 2>&1
RC=$?
sed 's/^/    /' "$TMP/run.log"
if [ "$RC" -eq 0 ] && grep -q '^RESULT: PASS' "$TMP/run.log"; then
    ok "4 writers x 25 appends with readers and maintenance: every check passed"
else
    bad "stress run: exit $RC"
fi
if grep -q '^ok   versions present = expected' "$TMP/run.log" &&
    grep -q '^ok   reader errors: 0' "$TMP/run.log" &&
    grep -q '^ok   SIGBUS in readers holding mapped files: 0' "$TMP/run.log" &&
    grep -q '^ok   control: a mapped data file truncated' "$TMP/run.log"; then
    ok "figures reported: versions, reader errors, SIGBUS, SIGBUS control"
else
    bad "a figure line is missing from the report"
fi

# 1b. The same with log cleanup running throughout (LOG-R84): 1-hour log
#     retention on a 10,000 x clock, so each checkpoint deletes the commits
#     below it while writers publish and readers load.
"$D" "$TMP/lc" --writers 4 --appends 40 --readers 2 --maint-sleep-ms 5 \
    --samples 100000 --log-cleanup --seed 11 >"$TMP/lc.log" 2>&1
RC=$?
sed 's/^/    /' "$TMP/lc.log"
if [ "$RC" -eq 0 ] && grep -q '^RESULT: PASS' "$TMP/lc.log" &&
    grep -q '^ok   log cleanup deleted commits while writers ran' "$TMP/lc.log"; then
    ok "4 writers x 40 appends with log cleanup throughout: every check passed"
else
    bad "log cleanup run: exit $RC"
fi

detected=0
for round in 1 2 3 4 5; do
    "$D" "$TMP/neg$round" --writers 4 --appends 15 --readers 1 --no-maintenance \
        --samples 0 --seed "$round" --unsafe-plain-rename >"$TMP/neg.log" 2>&1
    RC=$?
    if [ "$RC" -eq 1 ] && grep -Eq '^FAIL (versions acknowledged to two appends|acknowledged appends missing|APPEND commits)' "$TMP/neg.log"; then
        detected=1
        echo "    negative control, round $round:"
        grep -E '^(FAIL|RESULT)' "$TMP/neg.log" | sed 's/^/    /'
        break
    fi
    echo "    negative control round $round: exit $RC, nothing detected"
    tail -n 3 "$TMP/neg.log" | sed 's/^/    /'
done
if [ "$detected" -eq 1 ]; then
    ok "negative control (plain rename): the harness detects lost / overwritten commits"
else
    bad "negative control: plain rename was not detected in 5 rounds"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
