# tests/cli/lib.sh - shared helpers for the CLI tests (sourced, not run).
# Usage in a test: source "$(dirname "$0")/lib.sh" "$1"
# Gives: $TL (the binary), $TMP (scratch dir, removed on exit), run, checks
# that print one line each, and finish (prints "N passed, M failed").
set -uo pipefail

TL=${1:-}
if [ -z "$TL" ] || [ ! -x "$TL" ]; then
    echo "usage: $0 PATH_TO_TICKLAKE (got '${TL}')" >&2
    exit 2
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ticklake-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PASS=0
FAIL=0

if [ -x /usr/bin/python3 ]; then
    JSON_CHECK=(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if isinstance(d, dict) else 1)')
    JSON_GET=(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d[int(k)] if isinstance(d, list) else d[k]
print(json.dumps(d) if isinstance(d, (dict, list)) else d)')
else
    echo "SKIP: /usr/bin/python3 is needed to check JSON output" >&2
    exit 77
fi

ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }

# run CMD...: stdout -> $TMP/out, stderr -> $TMP/err, exit status -> $RC
run() {
    "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    RC=$?
}

snippet() { head -c 400 "$1" | tr '\n' '|'; }

# expect_rc CODE DESCRIPTION
expect_rc() {
    if [ "$RC" -eq "$1" ]; then
        ok "$2 (exit $RC)"
    else
        bad "$2: expected exit $1, got $RC; stderr: $(snippet "$TMP/err")"
    fi
}

# expect_stderr FIXED_STRING DESCRIPTION
expect_stderr() {
    if grep -qF -- "$1" "$TMP/err"; then
        ok "$2"
    else
        bad "$2: stderr lacks '$1': $(snippet "$TMP/err")"
    fi
}

# expect_stdout FIXED_STRING DESCRIPTION
expect_stdout() {
    if grep -qF -- "$1" "$TMP/out"; then
        ok "$2"
    else
        bad "$2: stdout lacks '$1': $(snippet "$TMP/out")"
    fi
}

# expect_usage_error DESCRIPTION CMD...: exit 2 and "ticklake: error:"
expect_usage_error() {
    local desc=$1
    shift
    run "$@"
    if [ "$RC" -eq 2 ] && grep -q '^ticklake: error: ' "$TMP/err" && [ ! -s "$TMP/out" ]; then
        ok "$desc -> usage error (exit 2): $(head -n1 "$TMP/err")"
    else
        bad "$desc: expected exit 2 with 'ticklake: error:' on stderr and nothing on stdout," \
            "got exit $RC; stderr: $(snippet "$TMP/err"); stdout: $(snippet "$TMP/out")"
    fi
}

# expect_json DESCRIPTION: $TMP/out holds exactly one JSON object
expect_json() {
    if "${JSON_CHECK[@]}" <"$TMP/out" 2>"$TMP/json_err"; then
        ok "$1: stdout is one JSON object"
    else
        bad "$1: stdout is not exactly one JSON object: $(snippet "$TMP/json_err"); stdout: $(snippet "$TMP/out")"
    fi
}

# json_get PATH (a.b.0.c) from $TMP/out
json_get() { "${JSON_GET[@]}" "$1" <"$TMP/out"; }

# flip_byte FILE OFFSET: xor one byte with 0xff (OFFSET < 0 counts from the end)
flip_byte() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    data = bytearray(f.read())
    data[off] ^= 0xFF
    f.seek(0)
    f.write(data)
PY
}

finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}
