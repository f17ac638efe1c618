#!/usr/bin/env bash
# gen_test.sh - `ticklake gen`: determinism of CSV and segment output, the
# summary and --json figures, file naming, refusal to overwrite, and a CSV ->
# segment -> dump round trip. $1 = path to the ticklake binary.
source "$(dirname "$0")/lib.sh" "${1:-}"

R=3000 # rows per symbol-day: small, the ASan build runs this too
G=(--seed 7 --days 2 --rows-per-day $R --start 2025-11-17)

run "$TL" gen "${G[@]}" --out "$TMP/a.csv"
expect_rc 0 "gen CSV"
expect_stdout "gen: " "gen prints a summary line"
if [ ! -s "$TMP/err" ]; then ok "gen writes nothing to stderr when it is not a terminal"; else bad "gen wrote to stderr: $(snippet "$TMP/err")"; fi
run "$TL" gen "${G[@]}" --out "$TMP/b.csv"
expect_rc 0 "gen CSV again"
if cmp -s "$TMP/a.csv" "$TMP/b.csv"; then ok "same arguments -> byte-identical CSV"; else bad "two CSV runs differ"; fi
run "$TL" gen --seed 8 --days 2 --rows-per-day $R --start 2025-11-17 --out "$TMP/c.csv"
if ! cmp -s "$TMP/a.csv" "$TMP/c.csv"; then ok "another seed -> different CSV"; else bad "seeds 7 and 8 gave the same CSV"; fi

lines=$(wc -l <"$TMP/a.csv")
want=$((2 * 2 * R + 1))
if [ "$lines" -eq "$want" ]; then ok "CSV has header + 2 symbols x 2 days x $R rows ($lines lines)"; else bad "CSV has $lines lines, expected $want"; fi
hdr=$(head -n1 "$TMP/a.csv")
for col in timestamp symbol expiry opt_type strike price volume bp0 sp0; do
    case ",$hdr," in *",$col,"*) ok "CSV header has column $col" ;; *) bad "CSV header lacks $col: $hdr" ;; esac
done

run "$TL" gen "${G[@]}" --out "$TMP/j.csv" --json
expect_rc 0 "gen CSV --json"
expect_json "gen CSV --json"
if [ "$(json_get rows)" = "$((4 * R))" ]; then ok "gen --json rows = $((4 * R))"; else bad "gen --json rows = $(json_get rows)"; fi
if [ "$(json_get bytes)" = "$(stat -c %s "$TMP/j.csv")" ]; then ok "gen --json bytes = file size"; else bad "gen --json bytes $(json_get bytes) != file size"; fi

# segments
run "$TL" gen "${G[@]}" --segments "$TMP/seg1" --json
expect_rc 0 "gen --segments --json"
expect_json "gen --segments --json"
n=$(ls "$TMP/seg1" | wc -l)
if [ "$n" -eq 4 ] && [ "$(json_get files | tr -d '[]" ' | tr ',' '\n' | wc -l)" -eq 4 ]; then
    ok "gen --segments wrote 4 files (2 symbols x 2 days) and lists them"
else
    bad "gen --segments: $n files in dir; json files: $(json_get files)"
fi
for f in BANKNIFTY_2025-11-17.tls BANKNIFTY_2025-11-18.tls NIFTY_2025-11-17.tls NIFTY_2025-11-18.tls; do
    if [ -s "$TMP/seg1/$f" ]; then ok "segment file $f exists"; else bad "segment file $f missing: $(ls "$TMP/seg1")"; fi
done
total=0
for f in "$TMP"/seg1/*.tls; do
    run "$TL" inspect "$f" --json
    total=$((total + $(json_get rows)))
done
if [ "$total" -eq $((4 * R)) ]; then ok "segment rows add up to $((4 * R))"; else bad "segment rows add up to $total"; fi

run "$TL" gen "${G[@]}" --segments "$TMP/seg2"
expect_rc 0 "gen --segments again"
expect_stdout "4 segment files" "segment summary counts files"
same=1
for f in "$TMP"/seg1/*.tls; do cmp -s "$f" "$TMP/seg2/$(basename "$f")" || same=0; done
if [ "$same" -eq 1 ]; then ok "same arguments -> byte-identical segment files"; else bad "segment files of two runs differ"; fi

run "$TL" gen "${G[@]}" --segments "$TMP/seg1"
expect_rc 1 "gen into a directory whose files exist"
expect_stderr "ticklake: error: " "refusal is reported"
expect_stderr "$TMP/seg1/" "refusal names the existing file"
if cmp -s "$TMP/seg1/NIFTY_2025-11-18.tls" "$TMP/seg2/NIFTY_2025-11-18.tls"; then ok "existing segment files left untouched"; else bad "existing segment file was changed"; fi

run "$TL" gen --seed 1 --days 1 --rows-per-day 100 --symbols 'A/B' --segments "$TMP/esc"
expect_rc 0 "gen with a symbol holding '/'"
if [ -s "$TMP/esc/A%2FB_2025-11-17.tls" ]; then ok "unsafe symbol bytes are escaped in file names"; else bad "escaped file missing: $(ls "$TMP/esc")"; fi

run "$TL" gen --seed 1 --days 1 --rows-per-day 100 --segments "$TMP/nofile/x/y"
expect_rc 1 "gen --segments under a missing parent directory"
expect_stderr "$TMP/nofile/x/y" "the error names the directory"

# round trip: one symbol, one day -> one partition whose dump equals the CSV
run "$TL" gen --seed 3 --days 1 --rows-per-day 5000 --symbols NIFTY --out "$TMP/rt.csv"
expect_rc 0 "gen one partition as CSV"
run "$TL" gen --seed 3 --days 1 --rows-per-day 5000 --symbols NIFTY --segments "$TMP/rt"
expect_rc 0 "gen the same partition as a segment"
run "$TL" dump "$TMP/rt/NIFTY_2025-11-17.tls"
expect_rc 0 "dump the whole segment"
if cmp -s "$TMP/out" "$TMP/rt.csv"; then ok "dump of the segment == generated CSV, byte for byte"; else bad "dump differs from CSV: $(cmp "$TMP/out" "$TMP/rt.csv" 2>&1)"; fi

# --sorted: same rows, in (expiry, opt_type, strike, timestamp) order per file
run "$TL" gen --seed 3 --days 1 --rows-per-day 5000 --symbols NIFTY --segments "$TMP/sorted" --sorted --json
expect_rc 0 "gen --sorted --segments"
expect_json "gen --sorted --json"
if [ "$(json_get sorted)" = "True" ]; then ok "gen --sorted --json reports sorted: true"; else bad "sorted: $(json_get sorted)"; fi
run "$TL" dump "$TMP/sorted/NIFTY_2025-11-17.tls"
cp "$TMP/out" "$TMP/sorted.csv"
if cmp -s <(tail -n +2 "$TMP/sorted.csv" | LC_ALL=C sort) <(tail -n +2 "$TMP/rt.csv" | LC_ALL=C sort); then
    ok "sorted segment holds the same rows as arrival order"
else
    bad "sorted segment rows differ from the arrival-order rows"
fi
if /usr/bin/python3 - "$TMP/sorted.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
keys = [(r["expiry"], r["opt_type"], float(r["strike"]), int(r["timestamp"])) for r in rows]
sys.exit(0 if keys == sorted(keys) and len(keys) == 5000 else 1)
PY
then ok "sorted segment rows are ordered by (expiry, opt_type, strike, timestamp)"; else bad "sorted segment rows are not in key order"; fi

finish
