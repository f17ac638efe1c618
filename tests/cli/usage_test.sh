#!/usr/bin/env bash
# usage_test.sh - global help, version, exit codes 0/1/2 and usage errors of
# the ticklake CLI. $1 = path to the ticklake binary.
source "$(dirname "$0")/lib.sh" "${1:-}"

run "$TL" --help
expect_rc 0 "ticklake --help"
expect_stdout "usage: ticklake <command>" "--help shows usage"
for c in gen inspect verify dump; do
    expect_stdout "  $c " "--help lists command $c"
done

run "$TL" --version
expect_rc 0 "ticklake --version"
if grep -Eq '^ticklake [0-9]+\.[0-9]+\.[0-9]+ \(segment format [0-9]+\.[0-9]+\)$' "$TMP/out"; then
    ok "--version prints library and segment format versions: $(cat "$TMP/out")"
else
    bad "--version output unexpected: $(snippet "$TMP/out")"
fi

for c in gen inspect verify dump; do
    run "$TL" "$c" --help
    expect_rc 0 "ticklake $c --help"
    expect_stdout "usage: ticklake $c" "$c --help shows its usage"
    run "$TL" help "$c"
    expect_rc 0 "ticklake help $c"
done

run "$TL"
expect_rc 2 "no arguments"
expect_stderr "usage: ticklake" "no arguments prints usage on stderr"

expect_usage_error "unknown command" "$TL" frobnicate
expect_stderr "unknown command 'frobnicate'" "unknown command is named"
expect_usage_error "unknown global option" "$TL" --frobnicate
expect_usage_error "help for unknown command" "$TL" help frobnicate

# gen argument validation
expect_usage_error "gen unknown option" "$TL" gen --seed 1 --days 1 --out "$TMP/x.csv" --bogus
expect_stderr "unknown option '--bogus'" "gen names the unknown option"
expect_stderr "ticklake gen --help" "gen usage error hints at gen --help"
expect_usage_error "gen --days 0" "$TL" gen --seed 1 --days 0 --out "$TMP/x.csv"
expect_stderr "--days" "--days 0 message names --days"
expect_usage_error "gen --rows-per-day abc" "$TL" gen --seed 1 --days 1 --rows-per-day abc --out "$TMP/x.csv"
expect_stderr "'abc'" "--rows-per-day abc message quotes the value"
expect_usage_error "gen --rows-per-day 0" "$TL" gen --seed 1 --days 1 --rows-per-day 0 --out "$TMP/x.csv"
expect_usage_error "gen --seed -1" "$TL" gen --seed -1 --days 1 --out "$TMP/x.csv"
expect_usage_error "gen --seed 2^64 (overflow)" "$TL" gen --seed 18446744073709551616 --days 1 --out "$TMP/x.csv"
expect_usage_error "gen --days 1x" "$TL" gen --seed 1 --days 1x --out "$TMP/x.csv"
expect_usage_error "gen without --seed" "$TL" gen --days 1 --out "$TMP/x.csv"
expect_usage_error "gen without --days" "$TL" gen --seed 1 --out "$TMP/x.csv"
expect_usage_error "gen without output" "$TL" gen --seed 1 --days 1
expect_usage_error "gen with --out and --segments" "$TL" gen --seed 1 --days 1 --out "$TMP/x.csv" --segments "$TMP/d"
expect_usage_error "gen --seed without value" "$TL" gen --days 1 --out "$TMP/x.csv" --seed
expect_usage_error "gen --start 2025-02-30" "$TL" gen --seed 1 --days 1 --start 2025-02-30 --out "$TMP/x.csv"
expect_usage_error "gen --start 2025-1-5" "$TL" gen --seed 1 --days 1 --start 2025-1-5 --out "$TMP/x.csv"
expect_usage_error "gen --symbols with empty name" "$TL" gen --seed 1 --days 1 --symbols A,,B --out "$TMP/x.csv"
expect_usage_error "gen --symbols with duplicate" "$TL" gen --seed 1 --days 1 --symbols A,A --out "$TMP/x.csv"
expect_usage_error "gen option given twice" "$TL" gen --seed 1 --seed 2 --days 1 --out "$TMP/x.csv"
expect_usage_error "gen flag with a value" "$TL" gen --seed 1 --days 1 --out "$TMP/x.csv" --json=yes
expect_usage_error "gen positional argument" "$TL" gen extra --seed 1 --days 1 --out "$TMP/x.csv"
if [ ! -e "$TMP/x.csv" ]; then ok "usage errors created no output file"; else bad "a usage error created $TMP/x.csv"; fi

# other commands
expect_usage_error "inspect without file" "$TL" inspect
expect_usage_error "inspect with two files" "$TL" inspect a.tls b.tls
expect_usage_error "inspect unknown option" "$TL" inspect a.tls --fast
expect_usage_error "verify without file" "$TL" verify
expect_usage_error "verify unknown option" "$TL" verify a.tls --deep
expect_usage_error "dump without file" "$TL" dump
expect_usage_error "dump --limit x" "$TL" dump a.tls --limit x
expect_usage_error "dump --offset -3" "$TL" dump a.tls --offset -3

# runtime errors exit 1
for c in inspect verify dump; do
    run "$TL" "$c" "$TMP/missing.tls"
    expect_rc 1 "$c of a missing file"
    expect_stderr "ticklake: error: " "$c of a missing file reports an error"
    expect_stderr "$TMP/missing.tls" "$c of a missing file names it"
done

finish
